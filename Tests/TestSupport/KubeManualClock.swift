// A virtual clock for client and watcher tests: `sleep` returns at once and advances the
// clock by the requested duration, recording it, so backoff and rate-limit tests assert on
// the exact waits without waiting.
import Engine
import KubeRuntime
import VolumeStorage
import Synchronization

/// An auto-advancing manual clock.
package final class KubeManualClock: EngineClock {
    private struct State {
        var now: Duration = .seconds(1000)
        var sleeps: [Duration] = []
    }

    private let state = Mutex(State())

    package init() {}

    package var now: Duration {
        state.withLock { $0.now }
    }

    /// Every sleep requested so far, in order (zero-length sleeps included).
    package var sleeps: [Duration] {
        state.withLock { $0.sleeps }
    }

    /// The sum of all sleeps.
    package var totalSlept: Duration {
        sleeps.reduce(.zero, +)
    }

    /// Moves the clock forward without sleeping (time passing between calls).
    package func advance(by duration: Duration) {
        state.withLock { $0.now += duration }
    }

    package func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        state.withLock { state in
            state.sleeps.append(duration)
            if duration > .zero { state.now += duration }
        }
        await Task.yield()
    }
}
