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

/// Who waits for a token first. A background request (the Event recorder's) takes a token
/// only when one is there and nobody has reserved ahead, so it does not delay the requests
/// the work waits for; after `maxWait` without one it reserves like any other, so under a
/// sustained backlog it still gets about one token per `maxWait` and is never starved.
package enum RequestPriority: Sendable, Hashable {
    case normal
    case background(maxWait: Duration)
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
        refill(now: now)
        tokens -= 1
        return tokens >= 0 ? .zero : .secondsClamped(-tokens / limit.qps)
    }

    /// Takes a token at time `now` only if a whole one is there (no reservation ahead of
    /// it): returns nil when taken, else how long until one would be, to try again then.
    mutating func takeIfAvailable(now: Duration) -> Duration? {
        guard limit.qps > 0 else { return nil }
        refill(now: now)
        guard tokens >= 1 else { return .secondsClamped((1 - tokens) / limit.qps) }
        tokens -= 1
        return nil
    }

    private mutating func refill(now: Duration) {
        if let last {
            let elapsed = max(0, (now - last).secondsDouble)
            tokens = min(Double(limit.burst), tokens + elapsed * limit.qps)
        }
        last = now
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

    /// Takes the next token now; returns how long until it exists (the caller waits that).
    func reserveWithoutWaiting() -> Duration {
        let now = clock.now
        return bucket.withLock { $0.reserve(now: now) }
    }

    /// Waits for a token (see ``RequestPriority``). Returns the time waited.
    @discardableResult
    func acquire(_ priority: RequestPriority = .normal) async throws -> Duration {
        switch priority {
        case .normal:
            let wait = reserveWithoutWaiting()
            if wait > .zero {
                try await clock.sleep(for: wait)
            }
            return wait
        case .background(let maxWait):
            var waited = Duration.zero
            while waited < maxWait {
                let now = clock.now
                guard let wait = bucket.withLock({ $0.takeIfAvailable(now: now) }) else { return waited }
                let step = min(wait, maxWait - waited)
                try await clock.sleep(for: step)
                waited += step
            }
            return try await waited + acquire(.normal)
        }
    }
}
