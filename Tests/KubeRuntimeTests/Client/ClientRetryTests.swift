import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// Status bodies and non-JSON bodies, Retry-After, backoff, bounded retries, and which
/// verbs are retried on which failures.
@Suite struct ClientRetryTests {
    let transport = FakeKubeTransport()
    let clock = KubeManualClock()
    var client: KubeClient { KubeFixtures.client(transport: transport, clock: clock) }
    let plainText429 = FakeResponse.text(429, "Too many requests, please try again later.\n", headers: [HeaderField("Retry-After", "7")])

    @Test func plainText429_withRetryAfter_waitsThatLong_thenRetries() async throws {
        transport.enqueue(.get, nil, plainText429)
        transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1")))
        let volume = try await client.get(PersistentVolume.self, name: "pv1")
        #expect(volume.metadata.name == "pv1")
        #expect(clock.sleeps == [.seconds(7)])
        #expect(transport.requests.count == 2)
    }

    @Test func plainText429_isKeptAsText_whenRetriesRunOut() async throws {
        for _ in 0..<5 { transport.enqueue(.get, nil, plainText429) }
        do {
            _ = try await client.get(PersistentVolume.self, name: "pv1")
            Issue.record("expected an error")
        } catch let error as KubeError {
            #expect(error == .http(code: 429, body: "Too many requests, please try again later.",
                                   request: RequestSummary(method: "GET", path: "/api/v1/persistentvolumes/pv1"),
                                   retryAfter: .seconds(7)))
            #expect(error.code == 429)
        }
        #expect(transport.requests.count == 5)
        #expect(clock.sleeps == Array(repeating: .seconds(7), count: 4))
    }

    @Test func json429_honoursRetryAfterSeconds_evenForWrites() async throws {
        transport.enqueue(.post, nil, .json(429, KubeFixtures.status(429, reason: "TooManyRequests", retryAfterSeconds: 3)))
        transport.enqueue(.post, nil, .json(201, KubeFixtures.pv("pv1", rv: "1")))
        _ = try await client.create(PersistentVolume(metadata: ObjectMeta(name: "pv1")))
        #expect(clock.sleeps == [.seconds(3)])
    }

    @Test func retryAfter_isCappedByMaxServerDelay() async throws {
        let client = KubeFixtures.client(transport: transport, clock: clock, retry: RetryPolicy(maxServerDelay: .seconds(2)))
        transport.enqueue(.get, nil, .text(503, "busy", headers: [HeaderField("Retry-After", "3600")]))
        transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1")))
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        #expect(clock.sleeps == [.seconds(2)])
    }

    @Test func serverErrors_onReads_backOffExponentially_withJitter() async throws {
        for code in [500, 502, 503, 504] {
            transport.enqueue(.get, nil, .json(code, KubeFixtures.status(code, reason: "InternalError")))
        }
        transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1")))
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        // Default policy: 200 ms doubling; jitter source 0.5 means no net jitter.
        #expect(clock.sleeps == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600)])
    }

    @Test func jitter_spreadsTheDelay() async throws {
        let low = KubeFixtures.client(transport: transport, clock: clock, jitter: 0)
        transport.enqueue(.get, nil, .json(500, KubeFixtures.status(500, reason: "InternalError")))
        transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1")))
        _ = try await low.get(PersistentVolume.self, name: "pv1")
        #expect(clock.sleeps == [.milliseconds(160)])
    }

    @Test func internalError_onAWrite_isNotRetried_unlessTheServerAsksForIt() async throws {
        transport.enqueue(.put, nil, .json(500, KubeFixtures.status(500, reason: "InternalError")))
        let volume = PersistentVolume(metadata: ObjectMeta(name: "pv1", resourceVersion: "1"))
        await #expect(throws: KubeError.self) { try await client.update(volume) }
        #expect(transport.requests.count == 1)

        transport.enqueue(.put, nil, .json(500, KubeFixtures.status(500, reason: "ServerTimeout", retryAfterSeconds: 2)))
        transport.enqueue(.put, nil, .json(200, KubeFixtures.pv("pv1", rv: "2")))
        _ = try await client.update(volume)
        #expect(clock.sleeps == [.seconds(2)])
    }

    @Test func serviceUnavailable_onAWrite_isRetried() async throws {
        transport.enqueue(.delete, nil, .text(503, "upstream connect error"))
        transport.enqueue(.delete, nil, .json(200, KubeFixtures.pv("pv1", rv: "2")))
        guard case .deleted = try await client.delete(PersistentVolume.self, name: "pv1") else {
            Issue.record("expected deleted")
            return
        }
        #expect(transport.requests.count == 2)
    }

    @Test func connectionFailures_retryReadsAlways_andWritesOnlyIfNothingWasSent() async throws {
        transport.enqueue(.get, nil, .failure(.connectionLost("reset by peer")))
        transport.enqueue(.get, nil, .failure(.headTimeout(.seconds(30))))
        transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1")))
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        #expect(transport.requests.count == 3)

        transport.enqueue(.post, nil, .failure(.connectFailed("connection refused")))
        transport.enqueue(.post, nil, .json(201, KubeFixtures.pv("pv2", rv: "2")))
        _ = try await client.create(PersistentVolume(metadata: ObjectMeta(name: "pv2")))
        #expect(transport.requests.count == 5)

        transport.enqueue(.post, nil, .failure(.connectionLost("reset by peer")))
        do {
            _ = try await client.create(PersistentVolume(metadata: ObjectMeta(name: "pv3")))
            Issue.record("a write whose connection broke must not be repeated blindly")
        } catch let error as KubeError {
            #expect(error == .transport(.connectionLost("reset by peer"), request: RequestSummary(method: "POST", path: "/api/v1/persistentvolumes")))
        }
        #expect(transport.requests.count == 6)
    }

    @Test func terminalErrors_areNotRetried() async throws {
        for (code, reason) in [(400, "BadRequest"), (403, "Forbidden"), (404, "NotFound"), (409, "Conflict"), (410, "Expired"), (422, "Invalid")] {
            transport.enqueue(.get, nil, .json(code, KubeFixtures.status(code, reason: reason)))
            await #expect(throws: KubeError.self) { try await client.get(PersistentVolume.self, name: "pv1") }
        }
        #expect(transport.requests.count == 6)
        #expect(clock.sleeps.isEmpty)
    }

    @Test func tlsFailures_areNotRetried() async throws {
        transport.enqueue(.get, nil, .failure(.tls("CERTIFICATE_VERIFY_FAILED")))
        await #expect(throws: KubeError.self) { try await client.get(PersistentVolume.self, name: "pv1") }
        #expect(transport.requests.count == 1)
    }

    @Test func retryDisposition_isDecidedInOnePlace() {
        let request = RequestSummary(method: "GET", path: "/x")
        let status503 = KubeError.status(Status(reason: .serviceUnavailable, code: 503), httpCode: 503, request: request, retryAfter: nil)
        #expect(status503.retryDisposition(for: .post) == .retry(serverHint: nil))
        let status504 = KubeError.status(Status(reason: .timeout, details: StatusDetails(retryAfterSeconds: 1), code: 504),
                                         httpCode: 504, request: request, retryAfter: nil)
        #expect(status504.retryDisposition(for: .patch) == .retry(serverHint: .seconds(1)))
        let plain504 = KubeError.http(code: 504, body: "gateway timeout", request: request, retryAfter: nil)
        #expect(plain504.retryDisposition(for: .get) == .retry(serverHint: nil))
        #expect(plain504.retryDisposition(for: .delete) == .fail)
        #expect(KubeError.invalidRequest("x").retryDisposition(for: .get) == .fail)
    }
}
