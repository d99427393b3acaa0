import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// The token file is re-read about once a minute and right after a 401 (projected tokens
/// rotate); a failed re-read keeps the previous token.
@Suite struct ClientTokenTests {
    let transport = FakeKubeTransport()
    let clock = KubeManualClock()
    let dir: TempDirectory
    let tokenPath: String

    init() throws {
        dir = try TempDirectory(prefix: "kube-test")
        tokenPath = try dir.write("token", "first\n")
    }

    var client: KubeClient { KubeFixtures.client(transport: transport, clock: clock, bearerToken: .file(path: tokenPath)) }

    private func okVolume() -> FakeResponse { .json(200, KubeFixtures.pv("pv1", rv: "1")) }

    private var sentTokens: [String?] { transport.requests.map { $0.header("Authorization") } }

    @Test func tokenFile_isReReadAfterTheRefreshInterval() async throws {
        let client = self.client
        for _ in 0..<3 { transport.enqueue(.get, nil, okVolume()) }
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        try dir.write("token", "second")
        clock.advance(by: .seconds(30))
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        clock.advance(by: .seconds(31))
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        #expect(sentTokens == ["Bearer first", "Bearer first", "Bearer second"])
    }

    @Test func unauthorized_reReadsTheTokenFile_andRetriesOnce() async throws {
        let client = self.client
        transport.enqueue(.get, nil, okVolume())
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        try dir.write("token", "rotated")
        transport.enqueue(.get, nil, .json(401, KubeFixtures.status(401, reason: "Unauthorized")))
        transport.enqueue(.get, nil, okVolume())
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        #expect(sentTokens == ["Bearer first", "Bearer first", "Bearer rotated"])
        #expect(clock.sleeps.isEmpty)
    }

    @Test func unauthorized_twice_isReported() async throws {
        transport.enqueue(.get, nil, .json(401, KubeFixtures.status(401, reason: "Unauthorized")))
        transport.enqueue(.get, nil, .json(401, KubeFixtures.status(401, reason: "Unauthorized")))
        do {
            _ = try await client.get(PersistentVolume.self, name: "pv1")
            Issue.record("expected 401")
        } catch let error as KubeError {
            #expect(error.isUnauthorized)
        }
        #expect(transport.requests.count == 2)
    }

    @Test func fixedToken_isNotRetriedOn401() async throws {
        let client = KubeFixtures.client(transport: transport, clock: clock, bearerToken: .fixed("static"))
        transport.enqueue(.get, nil, .json(401, KubeFixtures.status(401, reason: "Unauthorized")))
        await #expect(throws: KubeError.self) { try await client.get(PersistentVolume.self, name: "pv1") }
        #expect(transport.requests.count == 1)
    }

    @Test func failedReRead_keepsThePreviousToken() async throws {
        let client = self.client
        for _ in 0..<2 { transport.enqueue(.get, nil, okVolume()) }
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        try dir.remove("token")
        clock.advance(by: .seconds(120))
        _ = try await client.get(PersistentVolume.self, name: "pv1")
        #expect(sentTokens == ["Bearer first", "Bearer first"])
    }

    @Test func unreadableTokenFile_withoutAPreviousToken_isACredentialsError() async throws {
        try dir.remove("token")
        do {
            _ = try await client.get(PersistentVolume.self, name: "pv1")
            Issue.record("expected an error")
        } catch let error as KubeError {
            #expect(error == .credentials(path: tokenPath, reason: "no such file or directory"))
        }
        #expect(transport.requests.isEmpty)
    }
}
