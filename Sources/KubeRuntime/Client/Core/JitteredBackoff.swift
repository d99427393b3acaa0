// Exponential backoff with jitter, used between request retries and, as a separate stage,
// between watcher attempts. A value type: the owner keeps it, asks `next` after a failure
// and calls `reset` after a success.
import Foundation

/// Exponential backoff with jitter, kept by its owner between attempts (unlike the work
/// queue's per-key `ExponentialBackoff`, which is a pure function of a failure count).
///
/// Delays `initial, initial*factor, ...` capped at `maximum`, each scaled by a random
/// factor in `1-jitter ... 1+jitter` (and capped again).
///
/// Defaults follow client-go's reflector (800 ms -> 30 s, reflector.go:59-68) for the
/// watcher; the request retry policy uses shorter ones (``RetryPolicy``).
public struct JitteredBackoff: Sendable, Hashable {
    package var initial: Duration
    package var maximum: Duration
    package var factor: Double
    /// Fraction of the delay randomised either way (0 = none, 0.2 = +/-20 %).
    package var jitter: Double
    /// Failures since the last reset.
    package private(set) var attempt: Int = 0

    /// - Precondition: `initial > 0`, `maximum >= initial`, `factor >= 1`, `0 <= jitter <= 1`.
    public init(initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30),
                factor: Double = 2, jitter: Double = 0.2) {
        precondition(initial > .zero, "backoff initial delay must be positive")
        precondition(maximum >= initial, "backoff maximum must be at least the initial delay")
        precondition(factor >= 1, "backoff factor must be at least 1")
        precondition((0...1).contains(jitter), "backoff jitter must be within 0...1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
    }

    /// The delay before the next attempt; grows the next one.
    package mutating func next(_ random: JitterSource) -> Duration {
        let base = min(initial.secondsDouble * pow(factor, Double(min(attempt, 64))), maximum.secondsDouble)
        attempt += 1
        let scaled = base * (1 - jitter + 2 * jitter * random.next())
        return .secondsClamped(min(scaled, maximum.secondsDouble))
    }

    /// Back to `initial` (after a success).
    package mutating func reset() {
        attempt = 0
    }
}

/// Bounds for the client's automatic request retries (429, 5xx, connection errors).
package struct RetryPolicy: Sendable, Hashable {
    /// Total attempts including the first; 1 disables retries. Default 5.
    package var maxAttempts: Int
    /// Backoff between attempts without a server hint. Default 200 ms doubling to 10 s,
    /// +/-20 % jitter: a few quick retries ride out an API server restart or a brief 503.
    package var backoff: JitteredBackoff
    /// The longest server-requested wait (`Retry-After`, `retryAfterSeconds`) that is
    /// honoured; longer hints are capped so one bad header cannot stall a worker. Default
    /// 60 s.
    package var maxServerDelay: Duration

    /// - Precondition: `maxAttempts >= 1`, `maxServerDelay >= 0`.
    package init(maxAttempts: Int = 5,
                backoff: JitteredBackoff = JitteredBackoff(initial: .milliseconds(200), maximum: .seconds(10)),
                maxServerDelay: Duration = .seconds(60)) {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1")
        precondition(maxServerDelay >= .zero, "maxServerDelay must not be negative")
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.maxServerDelay = maxServerDelay
    }

    package static let `default` = RetryPolicy()
    /// No automatic retries.
    package static let none = RetryPolicy(maxAttempts: 1)
}
