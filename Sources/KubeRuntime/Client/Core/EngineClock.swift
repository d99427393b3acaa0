// The clock the client and the watch pipeline read and sleep on. Injected so that backoff,
// rate-limit and token-refresh tests run in virtual time.

/// A monotonic clock: `now` is the time since an arbitrary, fixed origin.
///
/// Only differences between two readings of the same clock mean anything. Production code
/// uses ``SystemEngineClock``; tests use a manual clock whose `sleep` advances virtual time.
public protocol EngineClock: Sendable {
    /// Monotonic time since this clock's origin.
    var now: Duration { get }

    /// Suspends for `duration` (or returns at once when it is zero or negative).
    ///
    /// - Throws: `CancellationError` when the task is cancelled while sleeping.
    func sleep(for duration: Duration) async throws
}

/// The real monotonic clock (`ContinuousClock`: keeps counting while the machine sleeps,
/// like Go's monotonic time that client-go's backoff and token bucket use).
public struct SystemEngineClock: EngineClock {
    private let origin: ContinuousClock.Instant

    public init() {
        self.origin = ContinuousClock.now
    }

    public var now: Duration {
        ContinuousClock.now - origin
    }

    public func sleep(for duration: Duration) async throws {
        guard duration > .zero else {
            try Task.checkCancellation()
            return
        }
        try await ContinuousClock().sleep(for: duration)
    }
}

/// Any standard `Clock` measured in `Duration` (`ContinuousClock`, a test's manual clock)
/// seen as an ``EngineClock``, so the client can share the clock the rest of the engine uses.
package struct ClockAdapter<C: Clock>: EngineClock where C.Duration == Duration {
    package let clock: C
    private let origin: C.Instant

    package init(_ clock: C) {
        self.clock = clock
        self.origin = clock.now
    }

    package var now: Duration {
        origin.duration(to: clock.now)
    }

    package func sleep(for duration: Duration) async throws {
        guard duration > .zero else {
            try Task.checkCancellation()
            return
        }
        try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil)
    }
}

/// An ``EngineClock`` as a standard `Clock`, for the components that take one (the work
/// queues, the leader elector, the member actors), so that one injected clock drives all of
/// them: the real one in production, a manual one in tests.
public struct EngineTimeClock: Clock {
    /// A reading of the underlying ``EngineClock``.
    public struct Instant: InstantProtocol, Hashable, Sendable {
        package var offset: Duration
        package init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    public let base: any EngineClock

    public init(_ base: any EngineClock) { self.base = base }

    public var now: Instant { Instant(offset: base.now) }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try await base.sleep(for: deadline.offset - base.now)
    }
}

/// A source of uniformly distributed numbers in `0..<1`, injected wherever jitter is applied
/// (retry backoff, watch backoff, watch `timeoutSeconds`) so tests are deterministic.
public struct JitterSource: Sendable {
    private let draw: @Sendable () -> Double

    /// - Parameter draw: returns a number in `0..<1`; values outside are clamped.
    package init(_ draw: @escaping @Sendable () -> Double) {
        self.draw = draw
    }

    /// The system random generator.
    public static let system = JitterSource { Double.random(in: 0..<1) }

    /// Always the same value (tests).
    package static func constant(_ value: Double) -> JitterSource {
        JitterSource { value }
    }

    /// The next number in `0..<1`.
    package func next() -> Double {
        let value = draw()
        guard value.isFinite else { return 0.5 }
        return min(max(value, 0), 0.999_999_999)
    }
}

extension Duration {
    /// The duration as fractional seconds (for arithmetic in backoff and rate limiting).
    var secondsDouble: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// A duration from fractional seconds, clamped at zero and at about 100 years so a
    /// bogus server hint can never overflow.
    static func secondsClamped(_ value: Double) -> Duration {
        guard value.isFinite, value > 0 else { return .zero }
        let capped = min(value, 3_153_600_000)
        return .nanoseconds(Int64((capped * 1e9).rounded()))
    }
}
