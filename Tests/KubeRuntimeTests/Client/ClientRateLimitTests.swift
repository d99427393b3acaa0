import Engine
@testable import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// A client-side token bucket, QPS 5 / burst 10 by default (client-go's defaults).
@Suite struct ClientRateLimitTests {
    @Test func defaults_areQPS5Burst10() {
        #expect(RateLimit.default == RateLimit(qps: 5, burst: 10))
        #expect(KubeClientConfiguration(server: ServerURL(scheme: "https", host: "h", port: 443)).rateLimit == .default)
    }

    @Test func burstPassesAtOnce_thenRequestsArePacedAtQPS() async throws {
        let transport = FakeKubeTransport()
        let clock = KubeManualClock()
        let client = KubeFixtures.client(transport: transport, clock: clock, rateLimit: RateLimit(qps: 5, burst: 10))
        for _ in 0..<13 { transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1"))) }
        for _ in 0..<13 { _ = try await client.get(PersistentVolume.self, name: "pv1") }
        // Ten immediate requests, then one token every 200 ms (the virtual clock advances by
        // each sleep, so each later request waits one interval).
        #expect(clock.sleeps == [.milliseconds(200), .milliseconds(200), .milliseconds(200)])
    }

    @Test func tokensRefill_whileIdle() async throws {
        let transport = FakeKubeTransport()
        let clock = KubeManualClock()
        let client = KubeFixtures.client(transport: transport, clock: clock, rateLimit: RateLimit(qps: 1, burst: 2))
        for _ in 0..<4 { transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1"))) }
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        clock.advance(by: .seconds(5))
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        #expect(clock.sleeps.isEmpty)
    }

    @Test func retriesAlsoTakeTokens() async throws {
        let transport = FakeKubeTransport()
        let clock = KubeManualClock()
        let client = KubeFixtures.client(transport: transport, clock: clock, rateLimit: RateLimit(qps: 1, burst: 1),
                                         retry: RetryPolicy(maxAttempts: 2))
        transport.enqueue(.get, nil, .text(503, "busy", headers: [HeaderField("Retry-After", "0")]))
        transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1")))
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        // Retry-After 0 falls back to the backoff (200 ms); the retry then needs a token
        // (1 s per token at QPS 1; 200 ms have passed).
        #expect(clock.sleeps == [.milliseconds(200), .milliseconds(800)])
    }
}

/// Background priority (the Event recorder's): a token only when one is there and nobody
/// reserved ahead.
@Suite struct BackgroundPriorityTests {
    @Test func background_waitsBehindNormalReservations_evenOnesMadeWhileItWaits() {
        var bucket = TokenBucket(RateLimit(qps: 1, burst: 2))
        #expect(bucket.reserve(now: .zero) == .zero)
        #expect(bucket.reserve(now: .zero) == .zero)
        // Empty: the background request is told to come back in 1 s, and takes nothing.
        #expect(bucket.takeIfAvailable(now: .zero) == .seconds(1))
        // A normal request arriving meanwhile reserves the next token...
        #expect(bucket.reserve(now: .zero) == .seconds(1))
        // ...so at 1 s there is still none for the background one; at 2 s there is.
        #expect(bucket.takeIfAvailable(now: .seconds(1)) == .seconds(1))
        #expect(bucket.takeIfAvailable(now: .seconds(2)) == nil)
        // Taken: the next normal request waits for the one after.
        #expect(bucket.reserve(now: .seconds(2)) == .seconds(1))
    }

    @Test func background_withoutRateLimit_neverWaits() {
        var bucket = TokenBucket(.unlimited)
        for _ in 0..<100 { #expect(bucket.takeIfAvailable(now: .zero) == nil) }
    }

    @Test func backgroundRequests_throughTheClient_areRateLimitedToo() async throws {
        let transport = FakeKubeTransport()
        let clock = KubeManualClock()
        let client = KubeFixtures.client(transport: transport, clock: clock, rateLimit: RateLimit(qps: 1, burst: 1))
        for _ in 0..<2 { transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1"))) }
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        try await KubeClient.$requestPriority.withValue(.background(maxWait: .seconds(10))) {
            _ = try await client.get(PersistentVolume.self, name: "pv1")
        }
        #expect(clock.sleeps == [.seconds(1)], "the second request waited for the token to refill")
        #expect(transport.requests.count == 2)
    }

    @Test func background_afterMaxWait_reservesLikeAnyRequest() async throws {
        let clock = KubeManualClock()
        let limiter = RateLimiter(RateLimit(qps: 1, burst: 1), clock: clock)
        try await limiter.acquire()
        // Normal requests keep the bucket reserved 3 s ahead.
        for _ in 0..<3 { _ = limiter.reserveWithoutWaiting() }
        // The background request waits 0.5 s for a free token, then queues behind them
        // (another 3.5 s): it is served, not starved.
        let waited = try await limiter.acquire(.background(maxWait: .milliseconds(500)))
        #expect(waited == .seconds(4))
        #expect(clock.sleeps == [.milliseconds(500), .milliseconds(3500)])
    }
}
