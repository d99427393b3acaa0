// The client-side rate limiter, so one process cannot flood the API server: a token
// bucket like client-go's flowcontrol.NewTokenBucketRateLimiter, QPS 5 / burst 10 unless
// configured (rest/config.go:47-50, 118-127). Every request attempt, retries and watch
// starts included, takes one token.
import Synchronization

/// Rate-limit settings.
public struct RateLimit: Sendable, Hashable {
    /// Sustained requests per second. Default 5 (client-go's default). Zero or negative
    /// disables rate limiting (client-go: negative QPS disables).
    public var qps: Double
    /// Requests allowed at once before the rate applies. Default 10.
    public var burst: Int

    /// - Precondition: `burst >= 1` when `qps > 0`.
    public init(qps: Double = 5, burst: Int = 10) {
        precondition(qps <= 0 || burst >= 1, "burst must be at least 1")
        self.qps = qps
        self.burst = burst
    }

    public static let `default` = RateLimit()
    public static let unlimited = RateLimit(qps: 0, burst: 1)
}

/// Token bucket arithmetic, separate from waiting so it is testable with plain numbers.
///
/// A reservation always takes a token, letting the balance go negative; the returned wait
/// is how long until that token exists. Waiters are therefore served in reservation order
/// and the long-run rate never exceeds `qps` (golang.org/x/time/rate `Reserve` semantics).
struct TokenBucket: Sendable {
    let limit: RateLimit
    private var tokens: Double
    private var last: Duration?

    init(_ limit: RateLimit) {
        self.limit = limit
        self.tokens = Double(limit.burst)
    }

    /// Takes a token at time `now`; returns how long the caller must wait before sending.
    mutating func reserve(now: Duration) -> Duration {
        guard limit.qps > 0 else { return .zero }
        if let last {
            let elapsed = max(0, (now - last).secondsDouble)
            tokens = min(Double(limit.burst), tokens + elapsed * limit.qps)
        }
        last = now
        tokens -= 1
        return tokens >= 0 ? .zero : .secondsClamped(-tokens / limit.qps)
    }
}

/// A token bucket shared by all requests of one client.
final class RateLimiter: Sendable {
    private let bucket: Mutex<TokenBucket>
    private let clock: any EngineClock

    init(_ limit: RateLimit, clock: any EngineClock) {
        self.bucket = Mutex(TokenBucket(limit))
        self.clock = clock
    }

    /// Waits for a token. Returns the time waited.
    @discardableResult
    func acquire() async throws -> Duration {
        let now = clock.now
        let wait = bucket.withLock { $0.reserve(now: now) }
        if wait > .zero {
            try await clock.sleep(for: wait)
        }
        return wait
    }
}
