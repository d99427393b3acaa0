package import Foundation
import Synchronization
package import Logging
package import RingCore
package import KubeRuntime
import VolumeStorage

/// Everything a reconcile reads and acts through. Shared by all workers (Sendable).
package struct ProvisioningContext: Sendable {
    package let configuration: EngineConfiguration
    package let client: KubeClient
    package let claims: Store<PersistentVolumeClaim>
    package let volumes: Store<PersistentVolume>
    package let classes: Store<StorageClass>
    package let members: MemberRegistry
    package let ring: Ring
    package let events: EventRecorder
    package let metrics: EngineMetrics
    package let logger: Logger
    /// The engine's clock (retry waits).
    package let clock: EngineTimeClock
    /// The engine's wall clock (record timestamps, the orphan grace period).
    package let wallClock: @Sendable () -> Date
    /// PVs (by uid) this process has reclaimed: their later watch events are skipped.
    let reclaimed = RecentSet(capacity: 4096)

    package init(configuration: EngineConfiguration, client: KubeClient, claims: Store<PersistentVolumeClaim>,
                volumes: Store<PersistentVolume>, classes: Store<StorageClass>, members: MemberRegistry, ring: Ring,
                events: EventRecorder, metrics: EngineMetrics, logger: Logger, clock: EngineTimeClock = EngineTimeClock(SystemEngineClock()),
                wallClock: @escaping @Sendable () -> Date = { Date() }) {
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
        self.clock = clock
        self.wallClock = wallClock
    }
}

/// A bounded set of recent strings: inserting beyond the capacity forgets the oldest.
final class RecentSet: Sendable {
    private struct State {
        var members: Set<String> = []
        var order: [String] = []
        var head = 0
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func insert(_ value: String) {
        state.withLock { s in
            guard s.members.insert(value).inserted else { return }
            if s.order.count < capacity {
                s.order.append(value)
            } else {
                s.members.remove(s.order[s.head])
                s.order[s.head] = value
                s.head = (s.head + 1) % capacity
            }
        }
    }

    func contains(_ value: String) -> Bool { state.withLock { $0.members.contains(value) } }
}
