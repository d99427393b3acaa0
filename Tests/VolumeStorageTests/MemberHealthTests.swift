// MemberHealth: every event in every state, without I/O or clocks.
import Engine
import KubeRuntime
import VolumeStorage
import Testing
import TestSupport

@Suite("MemberHealth")
struct MemberHealthTests {
    static let t0 = ContinuousClock.now
    static let configuration = MemberHealth.Configuration(
        failureThreshold: 3, initialProbeBackoff: .seconds(1), maxProbeBackoff: .seconds(8),
        routineProbeInterval: .seconds(30))
    static let serverFailure = StorageError.systemCall(member: "m", operation: .stat, path: "p", call: "fstatat", errno: 5)  // EIO
    static let timeout = StorageError.timedOut(member: "m", operation: .stat, path: "p", after: .seconds(1))
    static let answered = StorageError.notFound(member: "m", operation: .rename, path: "p")
    static let unknown = StorageError.cancelled(member: "m", operation: .stat)
    /// The probe's write on a full export (regression: three of them took a full member out
    /// of service, deletes included, so its space could never be freed by the provisioner).
    static let noSpace = StorageError.systemCall(member: "m", operation: .probe, path: "p", call: "NFSv3 WRITE (NFS3ERR_NOSPC)", errno: 28)  // ENOSPC

    enum State: String, CaseIterable, CustomTestStringConvertible {
        case healthy, suspect1, suspect2, unhealthy, probing
        var testDescription: String { rawValue }

        /// Drives a fresh machine into this state at t0 + 10 s (probe due at t0 + 11 s when unhealthy).
        func make() -> MemberHealth {
            let now = t0 + .seconds(10)
            var health = MemberHealth(configuration: configuration, now: t0)
            switch self {
            case .healthy: break
            case .suspect1: _ = health.callFailed(serverFailure, now: now)
            case .suspect2:
                _ = health.callFailed(serverFailure, now: now)
                _ = health.callFailed(serverFailure, now: now)
            case .unhealthy: _ = health.callFailed(timeout, now: now)
            case .probing:
                _ = health.callFailed(timeout, now: now)
                _ = health.probeStarted(now: now + .seconds(1))
            }
            return health
        }
    }

    enum Event: String, CaseIterable, CustomTestStringConvertible {
        case callSucceeded, callFailedServerResponded, callFailedFailure, callFailedTimeout, callFailedUnknown
        case probeStarted, probeSucceeded, probeFailedFailure, probeFailedTimeout, probeFailedNoSpace
        var testDescription: String { rawValue }

        func apply(to health: inout MemberHealth, now: ContinuousClock.Instant) -> MemberHealth.Transition? {
            switch self {
            case .callSucceeded: health.callSucceeded(now: now)
            case .callFailedServerResponded: health.callFailed(answered, now: now)
            case .callFailedFailure: health.callFailed(serverFailure, now: now)
            case .callFailedTimeout: health.callFailed(timeout, now: now)
            case .callFailedUnknown: health.callFailed(unknown, now: now)
            case .probeStarted: health.probeStarted(now: now)
            case .probeSucceeded: health.probeSucceeded(now: now)
            case .probeFailedFailure: health.probeFailed(serverFailure, now: now)
            case .probeFailedTimeout: health.probeFailed(timeout, now: now)
            case .probeFailedNoSpace: health.probeFailed(noSpace, now: now)
            }
        }
    }

    /// The expected condition after `event` in `state`.
    static func expected(_ state: State, _ event: Event) -> MemberHealth.Condition {
        switch (state, event) {
        // healthy
        case (.healthy, .callFailedFailure), (.healthy, .probeFailedFailure): .suspect(consecutiveFailures: 1)
        case (.healthy, .callFailedTimeout), (.healthy, .probeFailedTimeout): .unhealthy(failedProbes: 0)
        case (.healthy, _): .healthy
        // suspect(1)
        case (.suspect1, .callSucceeded), (.suspect1, .callFailedServerResponded), (.suspect1, .probeSucceeded),
             (.suspect1, .probeFailedNoSpace): .healthy
        case (.suspect1, .callFailedFailure), (.suspect1, .probeFailedFailure): .suspect(consecutiveFailures: 2)
        case (.suspect1, .callFailedTimeout), (.suspect1, .probeFailedTimeout): .unhealthy(failedProbes: 0)
        case (.suspect1, .callFailedUnknown), (.suspect1, .probeStarted): .suspect(consecutiveFailures: 1)
        // suspect(2): the third failure reaches the threshold
        case (.suspect2, .callSucceeded), (.suspect2, .callFailedServerResponded), (.suspect2, .probeSucceeded),
             (.suspect2, .probeFailedNoSpace): .healthy
        case (.suspect2, .callFailedFailure), (.suspect2, .probeFailedFailure): .unhealthy(failedProbes: 0)
        case (.suspect2, .callFailedTimeout), (.suspect2, .probeFailedTimeout): .unhealthy(failedProbes: 0)
        case (.suspect2, .callFailedUnknown), (.suspect2, .probeStarted): .suspect(consecutiveFailures: 2)
        // unhealthy: only a started probe moves it
        case (.unhealthy, .probeStarted): .probing(failedProbes: 0)
        case (.unhealthy, _): .unhealthy(failedProbes: 0)
        // probing: the probe's result decides; calls do not
        // A full export answered the probe: alive, and placement's threshold handles fullness.
        case (.probing, .probeSucceeded), (.probing, .probeFailedNoSpace): .healthy
        case (.probing, .probeFailedFailure), (.probing, .probeFailedTimeout): .unhealthy(failedProbes: 1)
        case (.probing, _): .probing(failedProbes: 0)
        }
    }

    @Test(arguments: State.allCases, Event.allCases)
    func event_inState_movesToTheExpectedCondition(_ state: State, _ event: Event) {
        var health = state.make()
        let before = health.condition
        let transition = event.apply(to: &health, now: Self.t0 + .seconds(20))
        let after = Self.expected(state, event)
        #expect(health.condition == after)
        #expect(transition == (before == after ? nil : MemberHealth.Transition(from: before, to: after)))
        #expect((health.admit() == .proceed) == after.isAvailable)
    }

    @Test(arguments: State.allCases)
    func probeDue_inState(_ state: State) {
        let health = state.make()
        switch state {
        case .healthy, .suspect1, .suspect2:
            // Due at start (t0), so that the export is checked at startup.
            #expect(health.probeDue(now: Self.t0) == .startProbe)
        case .unhealthy:
            #expect(health.probeDue(now: Self.t0 + .milliseconds(10_500)) == .notDue(until: Self.t0 + .seconds(11)))
            #expect(health.probeDue(now: Self.t0 + .seconds(11)) == .startProbe)
        case .probing:
            #expect(health.probeDue(now: Self.t0 + .seconds(100)) == .alreadyProbing)
        }
    }

    @Test func probeStarted_whenHealthy_schedulesTheNextRoutineProbe() {
        var health = State.healthy.make()
        _ = health.probeStarted(now: Self.t0 + .seconds(5))
        #expect(health.probeDue(now: Self.t0 + .seconds(34)) == .notDue(until: Self.t0 + .seconds(35)))
        #expect(health.probeDue(now: Self.t0 + .seconds(35)) == .startProbe)
    }

    @Test func failedRecoveryProbes_doubleTheWait_upToTheMaximum() {
        var health = State.unhealthy.make()
        var now = Self.t0 + .seconds(11)
        var waits: [Duration] = []
        for _ in 0..<6 {
            #expect(health.probeDue(now: now) == .startProbe)
            _ = health.probeStarted(now: now)
            _ = health.probeFailed(Self.timeout, now: now)
            let next = health.nextProbeAt
            waits.append(now.duration(to: next))
            now = next
        }
        #expect(waits == [.seconds(2), .seconds(4), .seconds(8), .seconds(8), .seconds(8), .seconds(8)])
        #expect(health.condition == .unhealthy(failedProbes: 6))
        _ = health.probeStarted(now: now)
        _ = health.probeSucceeded(now: now)
        #expect(health.condition == .healthy)
        #expect(health.lastError == nil)
    }

    @Test func lastError_isKeptForTheFailFastMessage() {
        var health = State.healthy.make()
        _ = health.callFailed(Self.timeout, now: Self.t0)
        #expect(health.lastError == Self.timeout)
        #expect(health.admit() == .failFast)
    }

    @Test(arguments: State.allCases)
    func draining_isOrthogonalToHealth(_ state: State) {
        var health = state.make()
        let condition = health.condition
        health.isDraining = true
        #expect(health.condition == condition)
        #expect(!health.acceptsNewVolumes)
        #expect((health.admit() == .proceed) == condition.isAvailable, "draining members still serve deletes")
        health.isDraining = false
        #expect(health.acceptsNewVolumes == condition.isAvailable)
    }

    @Test func failureThresholdOfOne_makesTheFirstFailureUnhealthy() {
        var health = MemberHealth(configuration: .init(failureThreshold: 1), now: Self.t0)
        _ = health.callFailed(Self.serverFailure, now: Self.t0)
        #expect(health.condition == .unhealthy(failedProbes: 0))
    }
}
