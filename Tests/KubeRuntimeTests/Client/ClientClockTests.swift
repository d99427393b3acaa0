import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// The client's clock seam: a standard `Clock` (here the engine's test ManualClock) can
/// drive the client through `ClockAdapter`.
@Suite struct ClientClockTests {
    @Test func clockAdapter_readsAndSleepsOnTheWrappedClock() async throws {
        let manual = ManualClock()
        let clock = ClockAdapter(manual)
        #expect(clock.now == .zero)
        manual.advance(by: .seconds(3))
        #expect(clock.now == .seconds(3))
        let sleeper = Task { try await clock.sleep(for: .seconds(5)) }
        try await manual.waitForSleepers(1)
        manual.advance(by: .seconds(5))
        try await sleeper.value
        #expect(clock.now == .seconds(8))
    }

    @Test func retryBackoff_runsOnAnAdaptedManualClock() async throws {
        let manual = ManualClock()
        let transport = FakeKubeTransport()
        transport.enqueue(.get, nil, .text(429, "slow down", headers: [HeaderField("Retry-After", "4")]))
        transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "1")))
        let client = KubeClient(
            configuration: KubeClientConfiguration(server: ServerURL(scheme: "http", host: "h", port: 80)),
            transport: transport, clock: ClockAdapter(manual), jitter: .constant(0.5), logger: .init(label: "test"))
        let request = Task { try await client.get(PersistentVolume.self, name: "pv1") }
        try await manual.waitForSleepers(1)
        #expect(transport.requests.count == 1)
        manual.advance(by: .seconds(4))
        #expect(try await request.value.metadata.name == "pv1")
        #expect(transport.requests.count == 2)
    }
}
