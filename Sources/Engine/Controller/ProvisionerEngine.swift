package import Foundation
public import Logging
public import RingCore
public import KubeRuntime
public import VolumeStorage

/// The whole provisioner, assembled: members, ring, caches, controller, events, and
/// (optionally) leader election. The daemon and the end-to-end tests build one of these.
///
/// Life cycle: ``run()`` campaigns for the lease (if configured) and runs the controller
/// while leading; ``beginShutdown()`` makes it stop taking work, finish what is in flight,
/// release the lease and return. Losing the lease makes ``run()`` throw
/// ``LeaderElectionError/leadershipLost(identity:lastError:)`` (the daemon exits non-zero,
/// as the original's library does). ``reload(_:)`` swaps in a new member list and ring
/// atomically; a configuration it cannot use is refused and the old one keeps running.
public final class ProvisionerEngine: Sendable {
    public struct Options: Sendable {
        public var engine: EngineConfiguration
        public var storage: MemberStorage.Configuration = .default
        /// nil: no leader election (a single replica, tests).
        public var leaderElection: LeaderElectionConfiguration?
        public var storeFactory: MemberRegistry.StoreFactory = MemberRegistry.standardFactory()
        package var events: EventRecorder.Configuration = .default
        /// The one clock of the engine: work queues (delays, backoff), resync, probes and
        /// their loop, storage timeouts, leader election, the event rate limit, PV save
        /// retries, and the engine's API client (its rate limit, retry backoff, token
        /// re-reads, watch backoff). Tests pass a manual clock to run in virtual time.
        public var clock: any EngineClock = SystemEngineClock()
        /// The wall clock, for what is compared with times other processes wrote or will
        /// read: the timestamps of ownership records and Events, the orphan grace period
        /// (against a record's `updatedAt`), the Lease's renew times. Tests move it by hand.
        package var wallClock: @Sendable () -> Date = { Date() }

        public init(engine: EngineConfiguration) { self.engine = engine }
    }

    package let registry: MemberRegistry
    public let ring: Ring
    package let controller: ProvisionerController<EngineTimeClock>
    package let elector: LeaderElector<EngineTimeClock>?
    /// The engine's clock (``Options/clock``).
    public let clock: EngineTimeClock
    package let events: EventRecorder
    /// The engine's API client, built by the engine on its clock. Shut it down (which shuts
    /// the transport down) once ``run()`` has returned.
    public let client: KubeClient
    public let provisionerName: String
    private let logger: Logger
    private let shutdownRequested = OneShotSignal()

    /// - Parameters:
    ///   - api: the API server, credentials and rate limit of the engine's client.
    ///   - transport: how that client's requests travel (an `AsyncHTTPClientTransport` made
    ///     from `api` in production). The caller made it, so it shuts it down if this throws.
    public init(configuration: ProvisionerConfiguration, api: KubeClientConfiguration, transport: any HTTPTransport,
                options: Options, metrics: EngineMetrics = EngineMetrics(), logger: Logger) throws {
        try configuration.validate()
        provisionerName = configuration.provisionerName
        self.logger = logger
        clock = EngineTimeClock(options.clock)
        registry = try MemberRegistry(members: configuration.members, storageConfiguration: options.storage,
                                      clock: clock, wallClock: options.wallClock, logger: logger, storeFactory: options.storeFactory)
        ring = try Ring(members: configuration.ringMembers, configuration: configuration.ring)
        var engineConfiguration = options.engine
        engineConfiguration.provisionerName = configuration.provisionerName
        var eventConfiguration = options.events
        if let identity = options.leaderElection?.identity { eventConfiguration.instance = identity }
        let client = KubeClient(configuration: api, transport: transport, clock: options.clock, logger: logger)
        self.client = client
        events = EventRecorder(client: client, configuration: eventConfiguration, clock: options.clock,
                               wallClock: options.wallClock, logger: logger)
        let context = ProvisioningContext(
            configuration: engineConfiguration, client: client, claims: Store(), volumes: Store(indexers: VolumeIndexes.indexers), classes: Store(),
            members: registry, ring: ring, events: events, metrics: metrics, logger: logger, clock: clock,
            wallClock: options.wallClock)
        controller = ProvisionerController(context: context, clock: clock)
        if let election = options.leaderElection {
            elector = try LeaderElector(configuration: election,
                                        store: KubeLeaseStore(client: client, name: election.leaseName, namespace: election.namespace),
                                        clock: clock, wallClock: options.wallClock, logger: logger)
        } else {
            elector = nil
        }
    }

    /// Runs until ``beginShutdown()`` (then returns normally) or until leadership is lost
    /// (then throws).
    public func run() async throws {
        await registry.syncDraining()
        enum Ending: Sendable { case workEnded, shutdownRequested }
        try await withThrowingTaskGroup(of: Ending.self) { group in
            group.addTask {
                if let elector = self.elector {
                    try await elector.run { try await self.controller.run() }
                } else {
                    try await self.controller.run()
                }
                return .workEnded
            }
            group.addTask {
                await self.shutdownRequested.wait()
                return .shutdownRequested
            }
            guard let first = try await group.next() else { return }
            switch first {
            case .workEnded:
                group.cancelAll()
            case .shutdownRequested:
                await controller.beginShutdown()
                if let elector, await elector.status != .leader {
                    group.cancelAll()  // still campaigning: stop
                }
                // Otherwise the work returns once in-flight reconciles finish; the elector
                // then releases the lease.
                while let _ = try await group.next() {}
            }
        }
        for entry in registry.all { entry.storage.shutdown() }
    }

    /// Stops taking work; ``run()`` returns once in-flight work is done and the lease released.
    public func beginShutdown() {
        shutdownRequested.fire()
    }

    /// Leadership as last known (`.leader` when running without election).
    public var leadership: LeadershipStatus {
        get async { await elector?.status ?? .leader }
    }

    /// Swaps in a new configuration: member set and ring, atomically for placement. Refused
    /// (with the reason) if it changes the provisioner name or is invalid; the old keeps running.
    public func reload(_ configuration: ProvisionerConfiguration) async throws {
        try configuration.validate()
        guard configuration.provisionerName == provisionerName else {
            throw ConfigurationError.invalid(source: configuration.source, field: "provisionerName",
                                             problem: "changed from \(provisionerName) to \(configuration.provisionerName); a new provisioner name needs a restart")
        }
        // Build the ring first (pure, cannot leave anything half-changed), then the members.
        let snapshot = try RingSnapshot(members: configuration.ringMembers, configuration: configuration.ring)
        let change = try registry.apply(configuration.members)
        // New and re-pointed members join (records listed, free space read) before the ring
        // sends them claims; one that cannot be reached joins later from the probe loop.
        if controller.isSynced { await controller.joinMembers(onlyUnloaded: false, names: Set(change.added + change.replaced)) }
        try ring.replace(members: snapshot.members, configuration: snapshot.configuration)
        await registry.syncDraining()
        logger.info("configuration reloaded", metadata: [
            "source": "\(configuration.source)", "members": "\(configuration.members.map(\.name))",
            "added": "\(change.added)", "removed": "\(change.removed)", "replaced": "\(change.replaced)", "ring": "\(configuration.ring)",
        ])
    }

    /// Facts for `/readyz`.
    public func readiness() async -> (ready: Bool, details: [String]) {
        let leadership = await self.leadership
        let status = await controller.status
        var details = ["leadership: \(leadership)", "caches: \(status.cachesSynced ? "synced" : "not synced")",
                       "queued: \(status.claimsQueued) claims, \(status.volumesQueued) volumes"]
        for entry in registry.all {
            let health = await entry.storage.health
            details.append("member \(entry.configuration.name) (\(entry.configuration.state.rawValue)): \(health.condition)"
                + (health.lastError.map { " — last error: \($0)" } ?? ""))
        }
        let ready: Bool
        switch leadership {
        case .leader: ready = status.cachesSynced
        case .standby: ready = true
        case .starting, .stopped: ready = false
        }
        return (ready, details)
    }
}
