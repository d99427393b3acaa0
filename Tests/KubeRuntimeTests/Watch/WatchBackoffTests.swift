import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// Backoff as a separate stage: waits after error elements, grows, resets after a success.
@Suite struct WatchBackoffTests {
    @Test func exponentialBackoff_growsToTheCap_andResets() {
        var backoff = JitteredBackoff(initial: .milliseconds(800), maximum: .seconds(30), factor: 2, jitter: 0)
        let delays = (0..<8).map { _ in backoff.next(.constant(0.5)) }
        #expect(delays == [.milliseconds(800), .milliseconds(1600), .milliseconds(3200), .milliseconds(6400),
                           .milliseconds(12800), .milliseconds(25600), .seconds(30), .seconds(30)])
        backoff.reset()
        #expect(backoff.next(.constant(0.5)) == .milliseconds(800))
    }

    @Test func exponentialBackoff_jitterStaysWithinItsFraction_andUnderTheCap() {
        var backoff = JitteredBackoff(initial: .seconds(10), maximum: .seconds(11), jitter: 0.2)
        #expect(backoff.next(.constant(0)) == .seconds(8))
        backoff.reset()
        #expect(backoff.next(.constant(0.999)) == .seconds(11))
    }

    /// A scripted sequence of watcher events.
    struct Script: AsyncSequence, Sendable {
        let events: [WatcherEvent<PersistentVolumeClaim>]

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(events: events) }

        struct AsyncIterator: AsyncIteratorProtocol {
            var events: [WatcherEvent<PersistentVolumeClaim>]
            mutating func next() async -> WatcherEvent<PersistentVolumeClaim>? {
                events.isEmpty ? nil : events.removeFirst()
            }
        }
    }

    @Test func backoffStage_sleepsAfterEachError_growing_andResetsAfterASuccess() async {
        let clock = KubeManualClock()
        let failure = WatcherEvent<PersistentVolumeClaim>.error(.invalidRequest("boom"))
        let success = WatcherEvent<PersistentVolumeClaim>.restarted([])
        let stage = BackoffSequence(base: Script(events: [failure, failure, failure, success, failure, success]),
                                    backoff: JitteredBackoff(initial: .seconds(1), maximum: .seconds(60), jitter: 0),
                                    clock: clock, jitter: .constant(0.5))
        var count = 0
        for await _ in stage { count += 1 }
        #expect(count == 6)
        #expect(clock.sleeps == [.seconds(1), .seconds(2), .seconds(4), .seconds(1)])
    }

    @Test func watcherBackoff_usesTheClientsClock() async throws {
        let transport = FakeKubeTransport()
        let clock = KubeManualClock()
        let client = KubeFixtures.client(transport: transport, clock: clock, retry: .none)
        let path = "/api/v1/persistentvolumeclaims"
        transport.enqueue(.get, path, .json(500, KubeFixtures.status(500, reason: "InternalError")))
        transport.enqueue(.get, path, .json(500, KubeFixtures.status(500, reason: "InternalError")))
        transport.enqueue(.get, path, .json(200, KubeFixtures.list("PersistentVolumeClaim", rv: "1", items: [])))
        var iterator = Watcher<PersistentVolumeClaim>(client: client).backoff(JitteredBackoff(jitter: 0)).makeAsyncIterator()
        var events: [Bool] = []
        for _ in 0..<3 { events.append(await iterator.next()?.isError ?? false) }
        #expect(events == [true, true, false])
        #expect(clock.sleeps == [.milliseconds(800), .milliseconds(1600)])
    }
}
