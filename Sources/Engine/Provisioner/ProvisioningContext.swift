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
    let freeSpace: FreeSpaceCache

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
        self.freeSpace = FreeSpaceCache(ttl: configuration.freeSpaceCacheTTL)
    }
}

/// Free-space figures per member, reused for a short while (a statvfs per member per
/// claim would be wasted work when claims arrive in batches).
actor FreeSpaceCache {
    private var entries: [String: (stats: FileSystemStats, at: ContinuousClock.Instant)] = [:]
    let ttl: Duration

    init(ttl: Duration) { self.ttl = ttl }

    func stats(of member: String, storage: MemberStorage) async throws(StorageError) -> FileSystemStats {
        let now = ContinuousClock.now
        if let e = entries[member], e.at.duration(to: now) < ttl { return e.stats }
        let stats = try await storage.freeSpace()
        entries[member] = (stats, now)
        return stats
    }

    func cached(_ member: String) -> FileSystemStats? { entries[member]?.stats }

    func invalidate(_ member: String) { entries[member] = nil }
}
