// One actor per NFS server: its store, its blocking threads and its health.
package import Foundation
package import Logging

/// The storage side of one member (NFS server) of the ring.
///
/// Owns the member's ``VolumeStore``, the ``BlockingExecutor`` its blocking calls run on,
/// and its ``MemberHealth``. Every call runs on the executor with a timeout, so a hung
/// server costs a caller at most one timeout and never blocks the other members; an
/// unhealthy member fails calls fast (``StorageError/memberUnhealthy(member:operation:lastError:)``)
/// so that placement skips it, until a probe succeeds.
///
/// Nothing runs in the background on its own: the engine calls ``probeIfDue()`` (or runs
/// ``runProbes(every:)`` in one of its task groups) and ``shutdown()`` at the end.
///
/// Volume operations (``createVolume(relativePath:mode:marker:)`` and the others in
/// `MemberStorage+Volumes.swift`) are serialised per relative path within this actor, so
/// that a delete's ownership check and its rename cannot interleave with a re-created
/// claim taking the directory over.
public actor MemberStorage {
    /// Timeouts and pool sizes.
    public struct Configuration: Sendable {
        /// Deadline of each blocking call (queueing included). Default 10 s: NFS calls take
        /// milliseconds; ten seconds means the server is gone.
        package var operationTimeout: Duration
        /// Deadline of a probe. Default 5 s.
        package var probeTimeout: Duration
        /// How long one `removeTree` call may work before it returns and the delete goes on
        /// in the next call; less than ``operationTimeout`` so that a large tree never looks
        /// like a hung server. Default: half of ``operationTimeout``.
        package var removeChunkBudget: Duration
        /// Total time a delete may take before it fails (retryable) with
        /// ``StorageError/deleteIncomplete(member:path:removedEntries:)``. Default 10 min.
        package var deleteBudget: Duration
        /// Mode of the reserved directories. Default 0755.
        package var reservedDirectoryMode: FileMode
        /// Mode of parent directories a nested `pathPattern` needs (`<namespace>/` of
        /// `${.PVC.namespace}/${.PVC.name}`). Default 0755: what the Go original's
        /// `MkdirAll(path, 0777)` gave under the usual umask 022 — traversable by everyone, so
        /// that a node (root squashed to nobody) can mount the volume below it, and writable
        /// only by the provisioner. The volume directory itself gets `mountPermissions`.
        package var parentDirectoryMode: FileMode
        package var executor: BlockingExecutor.Configuration
        package var health: MemberHealth.Configuration

        public init(
            operationTimeout: Duration = .seconds(10), probeTimeout: Duration = .seconds(5),
            removeChunkBudget: Duration? = nil, deleteBudget: Duration = .seconds(600),
            reservedDirectoryMode: FileMode = ReservedNames.directoryMode,
            parentDirectoryMode: FileMode = FileMode(0o755),
            executor: BlockingExecutor.Configuration = .default, health: MemberHealth.Configuration = .default
        ) {
            self.operationTimeout = max(.milliseconds(1), operationTimeout)
            self.probeTimeout = max(.milliseconds(1), probeTimeout)
            let chunk = removeChunkBudget ?? self.operationTimeout / 2
            self.removeChunkBudget = min(max(.milliseconds(1), chunk), self.operationTimeout / 2)
            self.deleteBudget = max(self.operationTimeout, deleteBudget)
            self.reservedDirectoryMode = reservedDirectoryMode
            self.parentDirectoryMode = parentDirectoryMode
            self.executor = executor
            self.health = health
        }

        public static let `default` = Configuration()
    }

    /// What ``probeIfDue()`` did.
    package enum ProbeReport: Sendable, Hashable {
        case notDue(until: ContinuousClock.Instant)
        case alreadyProbing
        case succeeded
        case failed(StorageError)
    }

    /// The member's name (``VolumeStore/member``).
    public nonisolated let name: String
    /// The store; only this actor calls it, on its executor with a timeout.
    nonisolated let store: any VolumeStore
    /// The member's ownership records, in memory (see ``loadRecords()``).
    package nonisolated let records = OwnershipIndex()
    /// What the export's identity file must say; `nil`: not checked (tests of the store).
    package nonisolated let identity: MemberIdentity?
    package nonisolated let executor: BlockingExecutor
    public nonisolated let configuration: Configuration
    private let clock: any Clock<Duration>
    let now: @Sendable () -> ContinuousClock.Instant
    /// The wall time written into the records this actor changes on its own (a volume
    /// marked deleting); the caller gives it for the others.
    let wallClock: @Sendable () -> Date
    let logger: Logger
    private var freeSpaceReading = FreeSpaceReading()
    private var healthState: MemberHealth
    private var pathsInUse: Set<RelativePath> = []
    private var pathWaiters: [RelativePath: [CheckedContinuation<Void, Never>]] = [:]

    /// Creates the member; no I/O and no thread until the first call.
    /// - Parameters:
    ///   - clock: measures timeouts and the probe loop's sleeps.
    ///   - now: the time fed to the health state machine.
    ///   - wallClock: see ``wallClock``.
    ///   - identity: what the export's identity file must say (checked by every probe).
    package init(
        store: any VolumeStore, configuration: Configuration = .default, identity: MemberIdentity? = nil,
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        wallClock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "nfs-cluster-provisioner.storage")
    ) {
        self.name = store.member
        self.store = store
        self.identity = identity
        self.configuration = configuration
        self.executor = BlockingExecutor(member: store.member, configuration: configuration.executor, clock: clock)
        self.clock = clock
        self.now = now
        self.wallClock = wallClock
        self.logger = logger
        self.healthState = MemberHealth(configuration: configuration.health, now: now())
    }

    // MARK: - Health

    /// The current health (condition, last error, next probe, draining).
    package var health: MemberHealth { healthState }

    /// Operator state: a draining member takes no new volumes (``MemberHealth/acceptsNewVolumes``)
    /// but still serves deletes and archives.
    package func setDraining(_ draining: Bool) {
        healthState.isDraining = draining
    }

    /// Probes the export now (reachable and writable, see ``VolumeStore/probe()``, and
    /// the member named in its identity file, see ``MemberIdentity``), whatever the health,
    /// and feeds the result to the state machine.
    public func probe() async throws(StorageError) {
        record(healthState.probeStarted(now: now()))
        let store = self.store
        let identity = self.identity
        let mode = configuration.reservedDirectoryMode
        do throws(StorageError) {
            let note = try await executor.run(.probe, path: ".", timeout: configuration.probeTimeout) { () throws(StorageError) -> String? in
                try store.probe()
                guard let identity else { return nil }
                return try Self.checkIdentity(store: store, expected: identity, directoryMode: mode)
            }
            if let note { logger.notice("member identity", metadata: ["member": "\(name)", "change": "\(note)"]) }
            record(healthState.probeSucceeded(now: now()))
        } catch {
            record(healthState.probeFailed(error, now: now()))
            throw error
        }
    }

    /// Runs a probe if one is due (routine while available, recovery with backoff while
    /// unhealthy). Call it periodically, or run ``runProbes(every:)``.
    @discardableResult
    package func probeIfDue() async -> ProbeReport {
        switch healthState.probeDue(now: now()) {
        case .notDue(let until): return .notDue(until: until)
        case .alreadyProbing: return .alreadyProbing
        case .startProbe: break
        }
        do throws(StorageError) {
            try await probe()
            return .succeeded
        } catch {
            return .failed(error)
        }
    }

    /// Calls ``probeIfDue()`` every `interval` until the task is cancelled. Meant to run in
    /// a child task of the engine's task group, one per member.
    package func runProbes(every interval: Duration) async {
        while !Task.isCancelled {
            await probeIfDue()
            do {
                try await clock.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    /// Size and free space of the export, read now.
    public func freeSpace() async throws(StorageError) -> FileSystemStats {
        try await perform(.fileSystemStats, .root) { store throws(StorageError) in try store.fileSystemStats() }
    }

    /// The last free-space reading (``refreshFreeSpace()``), with its error if it failed:
    /// placement reads this, never the export.
    package var lastFreeSpace: FreeSpaceReading { freeSpaceReading }

    /// Reads the free space now and keeps the result (or the error) for placement. The
    /// engine calls it from its probe loop.
    @discardableResult
    package func refreshFreeSpace() async -> FreeSpaceReading {
        do throws(StorageError) {
            let stats = try await freeSpace()
            freeSpaceReading = FreeSpaceReading(stats: stats, error: nil, measuredAt: now())
        } catch {
            freeSpaceReading = FreeSpaceReading(stats: nil, error: error, measuredAt: now())
        }
        return freeSpaceReading
    }


    /// Stops the executor's threads (running calls finish first).
    public nonisolated func shutdown() {
        executor.shutdown()
    }

    // MARK: - Running calls

    /// Runs `body` on the executor, unless the member is unhealthy, and feeds the outcome to
    /// the health state machine.
    func perform<T: Sendable>(
        _ operation: StorageOperation, _ path: RelativePath,
        _ body: @escaping @Sendable (any VolumeStore) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        if healthState.admit() == .failFast {
            throw .memberUnhealthy(member: name, operation: operation, lastError: healthState.lastError)
        }
        let store = self.store
        do throws(StorageError) {
            let value = try await executor.run(
                operation, path: path.description, timeout: configuration.operationTimeout
            ) { () throws(StorageError) -> T in
                try body(store)
            }
            record(healthState.callSucceeded(now: now()))
            return value
        } catch {
            record(healthState.callFailed(error, now: now()))
            throw error
        }
    }

    /// Runs `body` while no other volume operation of this actor works on `path`.
    func withPathLock<T>(
        _ path: RelativePath, _ body: () async throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        while pathsInUse.contains(path) {
            await withCheckedContinuation { pathWaiters[path, default: []].append($0) }
        }
        pathsInUse.insert(path)
        defer { releasePathLock(path) }
        return try await body()
    }

    /// Volume operations waiting for another one on the same path (for tests and metrics).
    var pathLockWaiters: Int {
        pathWaiters.values.reduce(0) { $0 + $1.count }
    }

    private func releasePathLock(_ path: RelativePath) {
        pathsInUse.remove(path)
        guard var waiters = pathWaiters[path], !waiters.isEmpty else { return }
        let next = waiters.removeFirst()
        pathWaiters[path] = waiters.isEmpty ? nil : waiters
        next.resume()
    }

    private func record(_ transition: MemberHealth.Transition?) {
        guard let transition else { return }
        var metadata: Logger.Metadata = [
            "member": "\(name)", "from": "\(transition.from)", "to": "\(transition.to)",
        ]
        if let error = healthState.lastError { metadata["error"] = "\(error)" }
        if transition.to.isAvailable {
            logger.info("storage member health changed", metadata: metadata)
        } else {
            logger.warning("storage member health changed", metadata: metadata)
        }
    }
}

/// A member's last free-space reading: the figures, or why they could not be read.
package struct FreeSpaceReading: Sendable, Hashable {
    package var stats: FileSystemStats?
    package var error: StorageError?
    /// `nil`: never measured.
    package var measuredAt: ContinuousClock.Instant?

    package init(stats: FileSystemStats? = nil, error: StorageError? = nil, measuredAt: ContinuousClock.Instant? = nil) {
        self.stats = stats
        self.error = error
        self.measuredAt = measuredAt
    }
}
