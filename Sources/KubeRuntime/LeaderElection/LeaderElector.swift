package import Foundation
package import Logging

/// Where this process stands in the election.
public enum LeadershipStatus: Sendable, Hashable, CustomStringConvertible {
    /// No attempt finished yet.
    case starting
    /// Another process holds the lease ("" = released but not yet taken).
    case standby(holder: String)
    /// This process leads.
    case leader
    /// Not participating (stopped, or leadership lost).
    case stopped

    public var description: String {
        switch self {
        case .starting: return "starting"
        case .standby(let holder): return holder.isEmpty ? "standby (lease free)" : "standby (leader: \(holder))"
        case .leader: return "leader"
        case .stopped: return "stopped"
        }
    }
}

/// Leader election on a Lease, client-go's algorithm: acquire by retrying every
/// `retryPeriod` (with up to 1.2× jitter); while leading, renew every `retryPeriod` and
/// give up if a renewal cycle does not succeed within `renewDeadline`.
///
/// ``run(whileLeading:)`` is the whole life cycle in one structured call: it returns
/// after the work returns (graceful stop, lease released), throws
/// ``LeaderElectionError/leadershipLost(identity:lastError:)`` after cancelling the work if
/// renewal fails (the daemon then exits non-zero, as client-go users do), and returns
/// without leading if its task is cancelled while still a candidate.
///
/// Guarantee: the work never runs before this process has written itself into the lease,
/// and it is cancelled as soon as a renewal cycle fails. As in client-go there is no
/// fencing: for up to `leaseDuration - renewDeadline` two processes may both believe they
/// lead; the engine's writes are idempotent and conflict-checked for that reason.
package actor LeaderElector<C: Clock> where C.Duration == Duration {
    package let configuration: LeaderElectionConfiguration
    private let store: any LeaseStore
    private let clock: C
    private let wallClock: @Sendable () -> Date
    private let jitter: @Sendable () -> Double
    private let logger: Logger
    private var machine: LeaderElectionStateMachine<C.Instant>
    package private(set) var status: LeadershipStatus = .starting
    private var lastError = "none"

    package init(configuration: LeaderElectionConfiguration, store: any LeaseStore, clock: C,
                wallClock: @escaping @Sendable () -> Date = { Date() },
                jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                logger: Logger) throws(LeaderElectionError) {
        try configuration.validate()
        self.configuration = configuration
        self.store = store
        self.clock = clock
        self.wallClock = wallClock
        self.jitter = jitter
        self.logger = logger
        machine = LeaderElectionStateMachine(configuration: configuration)
    }

    /// One attempt to acquire or renew. True if this process holds the lease afterwards.
    func tryAcquireOrRenew() async -> Bool {
        let now = clock.now
        let wallNow = wallClock()
        if case .renewCached(let record, let rv) = machine.begin(now: now, wallNow: wallNow) {
            do {
                let written = try await store.update(record, resourceVersion: rv)
                machine.written(written, now: now)
                return true
            } catch {
                lastError = error.description  // fall back to the slow path
            }
        }
        let current: StoredLease?
        do {
            current = try await store.get()
        } catch {
            lastError = "reading the lease: \(error.description)"
            return false
        }
        switch machine.afterGet(current, now: now, wallNow: wallNow) {
        case .held(let holder):
            status = .standby(holder: holder)
            return false
        case .create(let record):
            do {
                machine.written(try await store.create(record), now: now)
                return true
            } catch {
                lastError = "creating the lease: \(error.description)"
                return false
            }
        case .update(let record, let rv):
            do {
                machine.written(try await store.update(record, resourceVersion: rv), now: now)
                return true
            } catch {
                lastError = "updating the lease: \(error.description)"
                if case .standby = status {} else { status = .standby(holder: machine.observedHolder ?? "") }
                return false
            }
        }
    }

    /// Campaigns, then runs `work` while leading. See the type's documentation.
    package func run(whileLeading work: @escaping @Sendable () async throws -> Void) async throws {
        // Acquire.
        while true {
            if Task.isCancelled { status = .stopped; return }
            if await tryAcquireOrRenew() { break }
            let wait = configuration.retryPeriod * (1 + 1.2 * jitter())
            do { try await clock.sleep(for: wait) } catch { status = .stopped; return }
        }
        status = .leader
        logger.info("became leader", metadata: ["identity": "\(configuration.identity)", "lease": "\(configuration.namespace)/\(configuration.leaseName)"])

        // Lead: the work and the renewal loop side by side; whichever ends first decides.
        let ending: LeadershipEnding
        do {
            ending = try await withThrowingTaskGroup(of: LeadershipEnding.self) { group in
                group.addTask {
                    try await work()
                    return .workFinished
                }
                group.addTask { await self.renewUntilFailure() }
                let first = try await group.next() ?? .cancelled
                group.cancelAll()
                // Wait for the work to stop before the lease can change hands.
                while let _ = try? await group.next() {}
                return first
            }
        } catch {
            // The work threw: stop leading cleanly, then report its error (a cancellation
            // of this task is a graceful stop, not an error).
            await release()
            if error is CancellationError || Task.isCancelled { return }
            throw error
        }
        switch ending {
        case .renewalFailed:
            status = .stopped
            logger.error("lost the leader lease", metadata: ["identity": "\(configuration.identity)", "error": "\(lastError)"])
            throw LeaderElectionError.leadershipLost(identity: configuration.identity, lastError: lastError)
        case .workFinished, .cancelled:
            await release()
        }
    }

    /// Renews every retry period; returns `.renewalFailed` when a renewal cycle cannot
    /// succeed within the renew deadline, `.cancelled` when cancelled.
    private func renewUntilFailure() async -> LeadershipEnding {
        while true {
            do { try await clock.sleep(for: configuration.retryPeriod) } catch { return .cancelled }
            let cycleStart = clock.now
            var renewed = false
            while !renewed {
                if Task.isCancelled { return .cancelled }
                renewed = await tryAcquireOrRenew()
                if renewed { break }
                if cycleStart.duration(to: clock.now) + configuration.retryPeriod >= configuration.renewDeadline {
                    return .renewalFailed
                }
                do { try await clock.sleep(for: configuration.retryPeriod) } catch { return .cancelled }
            }
        }
    }

    /// Gives the lease up (empty holder, 1 s) so a standby can take over at once.
    package func release() async {
        defer { status = .stopped }
        guard let (record, rv) = machine.releaseRecord(wallNow: wallClock()) else { return }
        do {
            machine.written(try await store.update(record, resourceVersion: rv), now: clock.now)
            logger.info("released the leader lease", metadata: ["identity": "\(configuration.identity)"])
        } catch {
            logger.warning("could not release the leader lease; it will expire", metadata: ["error": "\(error.description)"])
        }
    }
}

/// How a term of leadership ended.
enum LeadershipEnding: Sendable { case workFinished, renewalFailed, cancelled }
