import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// limit/continue pages, the list RV, restart on an expired continue token.
@Suite struct ClientPaginationTests {
    let transport = FakeKubeTransport()
    var client: KubeClient { KubeFixtures.client(transport: transport) }
    let path = "/api/v1/persistentvolumes"

    private func page(_ names: [String], rv: String = "100", next: String? = nil) -> FakeResponse {
        .json(200, KubeFixtures.list("PersistentVolume", rv: rv, items: names.map { KubeFixtures.pv($0, rv: "1") }, continue: next))
    }

    @Test func listAll_followsContinueTokens_andKeepsTheFirstPagesResourceVersion() async throws {
        transport.enqueue(.get, path, page(["a", "b"], rv: "100", next: "t1"))
        transport.enqueue(.get, path, page([], rv: "100", next: "t2"))  // short (empty) page, still more
        transport.enqueue(.get, path, page(["c"], rv: "100"))
        let list = try await client.listAll(PersistentVolume.self, options: ListOptions(resourceVersion: "0"), pageSize: 2)
        #expect(list.items.map(\.metadata.name) == ["a", "b", "c"])
        #expect(list.metadata.resourceVersion == "100")
        let queries = transport.requests.map(\.query)
        #expect(queries[0] == ["limit": "2", "resourceVersion": "0"])
        #expect(queries[1] == ["limit": "2", "continue": "t1"])
        #expect(queries[2] == ["limit": "2", "continue": "t2"])
    }

    @Test func listAll_restartsTheWholeList_whenAContinueTokenExpires() async throws {
        transport.enqueue(.get, path, page(["a"], next: "t1"))
        transport.enqueue(.get, path, .json(410, KubeFixtures.status(410, reason: "Expired",
            message: "The provided continue parameter is too old to display a consistent list result.")))
        transport.enqueue(.get, path, page(["a"], rv: "200", next: "t9"))
        transport.enqueue(.get, path, page(["b"], rv: "200"))
        let list = try await client.listAll(PersistentVolume.self, pageSize: 1)
        #expect(list.items.map(\.metadata.name) == ["a", "b"])
        #expect(list.metadata.resourceVersion == "200")
        #expect(transport.requests.map { $0.query["continue"] } == [nil, "t1", nil, "t9"])
    }

    @Test func listAll_restartsAreBounded() async throws {
        for _ in 0..<3 {
            transport.enqueue(.get, path, page(["a"], next: "t"))
            transport.enqueue(.get, path, .json(410, KubeFixtures.status(410, reason: "Expired")))
        }
        do {
            _ = try await client.listAll(PersistentVolume.self, pageSize: 1, maxRestarts: 2)
            Issue.record("expected Expired")
        } catch let error as KubeError {
            #expect(error.isExpired)
        }
        #expect(transport.requests.count == 6)
    }

    @Test func listAll_expiredFirstPage_isThrown() async throws {
        transport.enqueue(.get, path, .json(410, KubeFixtures.status(410, reason: "Expired", message: "too old resource version: 5 (100)")))
        await #expect(throws: KubeError.self) {
            try await client.listAll(PersistentVolume.self, options: ListOptions(resourceVersion: "5"))
        }
        #expect(transport.requests.count == 1)
    }

    @Test func list_undecodableItems_areReportedWhileTheRestIsKept() async throws {
        let bad = #"{"kind":"PersistentVolume","metadata":{"name":"weird","labels":"not-a-map"}}"#
        transport.enqueue(.get, path, .json(200, KubeFixtures.list("PersistentVolume", rv: "5", items: [KubeFixtures.pv("ok", rv: "1"), bad])))
        let list = try await client.listAll(PersistentVolume.self)
        #expect(list.items.map(\.metadata.name) == ["ok"])
        #expect(list.failures.count == 1)
        #expect(list.failures.first?.description.contains("\"weird\"") == true)
        #expect(list.failures.first?.description.contains("metadata.labels") == true)
    }
}
