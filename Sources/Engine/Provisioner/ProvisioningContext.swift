import Foundation
public import Logging
public import RingCore
public import KubeRuntime
import VolumeStorage

/// Everything a reconcile reads and acts through. Shared by all workers (Sendable).
public struct ProvisioningContext: Sendable {
    public let configuration: EngineConfiguration
    public let client: KubeClient
    public let claims: Store<PersistentVolumeClaim>
    public let volumes: Store<PersistentVolume>
    public let classes: Store<StorageClass>
    public let members: MemberRegistry
    public let ring: Ring
    public let events: EventRecorder
    public let metrics: EngineMetrics
    public let logger: Logger

    public init(configuration: EngineConfiguration, client: KubeClient, claims: Store<PersistentVolumeClaim>,
                volumes: Store<PersistentVolume>, classes: Store<StorageClass>, members: MemberRegistry, ring: Ring,
                events: EventRecorder, metrics: EngineMetrics, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.claims = claims
        self.volumes = volumes
        self.classes = classes
        self.members = members
        self.ring = ring
        self.events = events
        self.metrics = metrics
        self.logger = logger
    }
}
