import Synchronization

/// A clock whose time moves only when a test says so, for backoff, lease and timeout
/// tests in virtual time. `sleep(until:)` suspends until ``advance(by:)`` reaches the
/// deadline (or the sleeping task is cancelled).
package final class ManualClock: Clock, Sendable {
    package struct Instant: InstantProtocol, CustomStringConvertible {
        package var offset: Duration
        package init(offset: Duration) { self.offset = offset }
        package func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        package func duration(to other: Instant) -> Duration { other.offset - offset }
        package static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        package var description: String { "t+\(offset)" }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>?
        var cancelled = false
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    package var now: Instant { state.withLock { $0.now } }
    package var minimumResolution: Duration { .zero }

    /// Tasks currently sleeping on this clock.
    package var sleeperCount: Int { state.withLock { s in s.sleepers.values.filter { $0.continuation != nil }.count } }

    package func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            s.sleepers[s.nextID] = Sleeper(deadline: deadline)
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { s in
                    guard var sleeper = s.sleepers[id] else { return .success(()) }
                    if sleeper.cancelled {
                        s.sleepers[id] = nil
                        return .failure(CancellationError())
                    }
                    if deadline <= s.now {
                        s.sleepers[id] = nil
                        return .success(())
                    }
                    sleeper.continuation = c
                    s.sleepers[id] = sleeper
                    return nil
                }
                if let resume { c.resume(with: resume) }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard var sleeper = s.sleepers[id] else { return nil }
                if let c = sleeper.continuation {
                    s.sleepers[id] = nil
                    return c
                }
                sleeper.cancelled = true
                s.sleepers[id] = sleeper
                return nil
            }
            c?.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    package func advance(by duration: Duration) {
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.now = s.now.advanced(by: duration)
            let now = s.now
            var due: [CheckedContinuation<Void, any Error>] = []
            for (id, sleeper) in s.sleepers where sleeper.deadline <= now {
                if let c = sleeper.continuation {
                    due.append(c)
                    s.sleepers[id] = nil
                }
            }
            return due
        }
        for c in due { c.resume() }  // outside the lock
    }

    /// Waits (in real time, yielding) until at least `count` tasks sleep on this clock,
    /// so a test can advance time knowing the code under test has reached its sleep.
    package func waitForSleepers(_ count: Int = 1, timeout: Duration = .seconds(10)) async throws {
        let start = ContinuousClock.now
        while sleeperCount < count {
            if ContinuousClock.now - start > timeout { throw ManualClockTimeout(expected: count, actual: sleeperCount) }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

package struct ManualClockTimeout: Error, CustomStringConvertible {
    package var expected: Int
    package var actual: Int
    package var description: String { "expected \(expected) sleepers on the manual clock, saw \(actual)" }
}
