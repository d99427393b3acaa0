// A member's health as a value-type state machine: events in, transitions out.

/// The health of one member (NFS server), driven by the results of its calls and probes.
///
/// ```
///            failure (< threshold)          failure (= threshold) or timeout
///  healthy ───────────────────────> suspect ───────────────────────────────> unhealthy
///     ^  <─────────────────────────    │                                      │  ^
///     │      success / probe ok        └──── timeout ────────────────────────>│  │ probe failed
///     │                                                   probe started       v  │ (backoff ×2)
///     └──────────────────────── probe succeeded ────────────────────────── probing
/// ```
///
/// - A timeout makes the member unhealthy at once (a hard mount that hangs once will hang
///   again); other server failures need ``Configuration/failureThreshold`` in a row.
/// - Unhealthy and probing members fail calls fast (``admit()``) so that placement skips
///   them; only a recovery probe (``probeStarted(now:)`` in `unhealthy`) brings one back.
/// - Healthy members are probed every ``Configuration/routineProbeInterval`` too, so a
///   dead server is noticed before a claim lands on it.
/// - ``isDraining`` is the operator's state, orthogonal to health: a draining member takes
///   no new volumes but still serves deletes.
///
/// The owner (``MemberStorage``) feeds events with the current time and acts on the
/// returned ``Transition`` (logs, metrics). No I/O, no clock: every `event × state` pair is
/// a unit test.
public struct MemberHealth: Sendable, Hashable {
    /// Thresholds and probe timing.
    public struct Configuration: Sendable, Hashable {
        /// Consecutive server failures (not timeouts) before `unhealthy`. Default 3: one
        /// ESTALE after a server restart should not take a member out of placement.
        package var failureThreshold: Int
        /// Wait before the first recovery probe. Default 1 s.
        package var initialProbeBackoff: Duration
        /// Longest wait between recovery probes (doubling from the initial). Default 60 s.
        package var maxProbeBackoff: Duration
        /// Probe interval while healthy. Default 30 s.
        package var routineProbeInterval: Duration

        public init(
            failureThreshold: Int = 3, initialProbeBackoff: Duration = .seconds(1),
            maxProbeBackoff: Duration = .seconds(60), routineProbeInterval: Duration = .seconds(30)
        ) {
            self.failureThreshold = max(1, failureThreshold)
            self.initialProbeBackoff = max(.zero, initialProbeBackoff)
            self.maxProbeBackoff = max(self.initialProbeBackoff, maxProbeBackoff)
            self.routineProbeInterval = max(.milliseconds(1), routineProbeInterval)
        }

        public static let `default` = Configuration()
    }

    /// Where the member stands.
    package enum Condition: Sendable, Hashable, CustomStringConvertible {
        case healthy
        /// Some server failures in a row, fewer than the threshold. Still used.
        case suspect(consecutiveFailures: Int)
        /// Failing fast; a recovery probe is due at ``MemberHealth/nextProbeAt``.
        case unhealthy(failedProbes: Int)
        /// A recovery probe is running; still failing fast.
        case probing(failedProbes: Int)

        /// Calls are admitted (healthy or suspect).
        package var isAvailable: Bool {
            switch self {
            case .healthy, .suspect: true
            case .unhealthy, .probing: false
            }
        }

        package var description: String {
            switch self {
            case .healthy: "healthy"
            case .suspect(let n): "suspect (\(n) failures)"
            case .unhealthy(let n): "unhealthy (\(n) failed probes)"
            case .probing(let n): "probing (\(n) failed probes)"
            }
        }
    }

    /// A change of ``condition``, for the owner to log and count.
    package struct Transition: Sendable, Hashable {
        package var from: Condition
        package var to: Condition

        package init(from: Condition, to: Condition) {
            self.from = from
            self.to = to
        }
    }

    /// Whether a call may run.
    package enum Admission: Sendable, Hashable {
        case proceed
        case failFast
    }

    /// What ``probeDue(now:)`` decided.
    package enum ProbeDecision: Sendable, Hashable {
        /// Run a probe now: ``probeStarted(now:)``, then ``probeSucceeded(now:)`` or
        /// ``probeFailed(_:now:)``.
        case startProbe
        /// Nothing to do before the instant.
        case notDue(until: ContinuousClock.Instant)
        /// A recovery probe is already running.
        case alreadyProbing
    }

    public let configuration: Configuration
    package private(set) var condition: Condition = .healthy
    /// The last failure that counted (or the last probe failure).
    package private(set) var lastError: StorageError?
    /// When the next probe (routine or recovery) is due.
    package private(set) var nextProbeAt: ContinuousClock.Instant
    /// When ``condition`` last changed.
    package private(set) var since: ContinuousClock.Instant
    /// Operator state: no new volumes, deletes still served. Orthogonal to health.
    package var isDraining = false

    /// Starts healthy with a probe due at once, so that the export is checked at startup.
    package init(configuration: Configuration = .default, now: ContinuousClock.Instant) {
        self.configuration = configuration
        self.nextProbeAt = now
        self.since = now
    }

    /// Placement may put new volumes here: available and not draining.
    package var acceptsNewVolumes: Bool { condition.isAvailable && !isDraining }

    /// Whether a (non-probe) call may run now.
    package func admit() -> Admission {
        condition.isAvailable ? .proceed : .failFast
    }

    /// A call completed normally.
    package mutating func callSucceeded(now: ContinuousClock.Instant) -> Transition? {
        switch condition {
        case .healthy, .unhealthy, .probing:
            // In unhealthy/probing only a recovery probe decides: a late success of a call
            // admitted earlier says little about the server now.
            return nil
        case .suspect:
            return move(to: .healthy, now: now)
        }
    }

    /// A call failed; its ``StorageError/healthImpact`` decides what it means.
    package mutating func callFailed(_ error: StorageError, now: ContinuousClock.Instant) -> Transition? {
        switch error.healthImpact {
        case .unknown:
            return nil
        case .serverResponded:
            return callSucceeded(now: now)
        case .failure:
            return countFailure(error, now: now)
        case .timeout:
            return failHard(error, now: now)
        }
    }

    /// Whether a probe should start now (routine when available, recovery when unhealthy).
    package func probeDue(now: ContinuousClock.Instant) -> ProbeDecision {
        if case .probing = condition { return .alreadyProbing }
        return now >= nextProbeAt ? .startProbe : .notDue(until: nextProbeAt)
    }

    /// A probe starts (due or forced): `unhealthy` becomes `probing`, and the next routine
    /// probe of an available member is scheduled.
    package mutating func probeStarted(now: ContinuousClock.Instant) -> Transition? {
        switch condition {
        case .healthy, .suspect:
            nextProbeAt = now + configuration.routineProbeInterval
            return nil
        case .unhealthy(let failed):
            return move(to: .probing(failedProbes: failed), now: now)
        case .probing:
            return nil
        }
    }

    /// A probe succeeded.
    package mutating func probeSucceeded(now: ContinuousClock.Instant) -> Transition? {
        switch condition {
        case .healthy:
            return nil
        case .suspect, .probing:
            lastError = nil
            nextProbeAt = now + configuration.routineProbeInterval
            return move(to: .healthy, now: now)
        case .unhealthy:
            // A routine probe started before the member turned unhealthy: stale.
            return nil
        }
    }

    /// A probe failed. Any probe failure counts (a probe asks the export to work), a
    /// timeout makes the member unhealthy at once; a failed recovery probe doubles the wait.
    ///
    /// Except a full export (``StorageError/isOutOfSpace``, the probe's write refused): the
    /// server answered, so it counts as a successful probe. Fullness is placement's business
    /// (the free-space threshold); counting it would take a full member out of service,
    /// deletes included, and deletes are what frees its space.
    package mutating func probeFailed(_ error: StorageError, now: ContinuousClock.Instant) -> Transition? {
        if error.isOutOfSpace { return probeSucceeded(now: now) }
        switch condition {
        case .probing(let failed):
            lastError = error
            nextProbeAt = now + backoff(afterFailedProbes: failed + 1)
            return move(to: .unhealthy(failedProbes: failed + 1), now: now)
        case .unhealthy:
            lastError = error
            return nil
        case .healthy, .suspect:
            if error.healthImpact == .unknown { return nil }
            return error.healthImpact == .timeout ? failHard(error, now: now) : countFailure(error, now: now)
        }
    }

    /// The wait before the next recovery probe after `failedProbes` failed ones.
    public func backoff(afterFailedProbes failedProbes: Int) -> Duration {
        var wait = configuration.initialProbeBackoff
        for _ in 0..<min(failedProbes, 32) {
            wait = wait * 2
            if wait >= configuration.maxProbeBackoff { return configuration.maxProbeBackoff }
        }
        return min(wait, configuration.maxProbeBackoff)
    }

    // MARK: - Internals

    private mutating func countFailure(_ error: StorageError, now: ContinuousClock.Instant) -> Transition? {
        switch condition {
        case .healthy, .suspect:
            lastError = error
            let failures: Int
            if case .suspect(let count) = condition { failures = count + 1 } else { failures = 1 }
            if failures >= configuration.failureThreshold {
                nextProbeAt = now + configuration.initialProbeBackoff
                return move(to: .unhealthy(failedProbes: 0), now: now)
            }
            return move(to: .suspect(consecutiveFailures: failures), now: now)
        case .unhealthy, .probing:
            lastError = error
            return nil
        }
    }

    private mutating func failHard(_ error: StorageError, now: ContinuousClock.Instant) -> Transition? {
        lastError = error
        switch condition {
        case .healthy, .suspect:
            nextProbeAt = now + configuration.initialProbeBackoff
            return move(to: .unhealthy(failedProbes: 0), now: now)
        case .unhealthy, .probing:
            return nil
        }
    }

    private mutating func move(to next: Condition, now: ContinuousClock.Instant) -> Transition? {
        guard next != condition else { return nil }
        let transition = Transition(from: condition, to: next)
        condition = next
        since = now
        return transition
    }
}
