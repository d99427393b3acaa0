import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// The watcher driven against the scripted transport: list, watch, resume, relist, errors
/// as elements (issue 3 parts 2 and 5).
@Suite struct WatcherTests {
    let transport = FakeKubeTransport()
    let clock = KubeManualClock()
    var client: KubeClient { KubeFixtures.client(transport: transport, clock: clock) }
    let path = "/api/v1/persistentvolumeclaims"

    private func list(rv: String, _ names: [String]) -> FakeResponse {
        .json(200, KubeFixtures.list("PersistentVolumeClaim", rv: rv, items: names.map { KubeFixtures.pvc($0, rv: rv) }))
    }

    private func added(_ name: String, rv: String) -> String { KubeFixtures.event("ADDED", KubeFixtures.pvc(name, rv: rv)) }
    private func modified(_ name: String, rv: String) -> String { KubeFixtures.event("MODIFIED", KubeFixtures.pvc(name, rv: rv)) }
    private func deleted(_ name: String, rv: String) -> String { KubeFixtures.event("DELETED", KubeFixtures.pvc(name, rv: rv)) }

    /// Takes `count` elements from a fresh watcher and describes them.
    private func take(_ count: Int, configuration: WatcherConfiguration = WatcherConfiguration()) async -> [String] {
        var iterator = Watcher<PersistentVolumeClaim>(client: client, configuration: configuration).makeAsyncIterator()
        var result: [String] = []
        for _ in 0..<count {
            guard let event = await iterator.next() else { break }
            result.append(Self.describe(event))
        }
        return result
    }

    static func describe(_ event: WatcherEvent<PersistentVolumeClaim>) -> String {
        switch event {
        case .restarted(let objects): return "restarted(\(objects.map(\.metadata.name).sorted().joined(separator: ",")))"
        case .applied(let object): return "applied(\(object.metadata.name)@\(object.metadata.resourceVersion))"
        case .deleted(let object): return "deleted(\(object.metadata.name))"
        case .error(let error):
            if let code = error.code { return "error(\(code))" }
            switch error {
            case .truncatedStream: return "error(truncated)"
            case .malformedStream: return "error(malformed stream)"
            case .malformedObject: return "error(malformed object)"
            case .unknownEventType(_, let type): return "error(unknown type \(type))"
            case .watchEndedEarly: return "error(short watch)"
            case .transport: return "error(transport)"
            default: return "error(\(error))"
            }
        }
    }

    /// (resourceVersion, resourceVersionMatch, watch) of each request.
    private var requestLog: [String] {
        transport.requests.map { request in
            let query = request.query
            let kind = query["watch"] == "true" ? "watch" : "list"
            return "\(kind) rv=\(query["resourceVersion"] ?? "-")" + (query["resourceVersionMatch"].map { " match=\($0)" } ?? "")
        }
    }

    @Test func initialList_thenWatchFromTheListResourceVersion_withBookmarksAndAFiniteRandomTimeout() async throws {
        transport.enqueue(.get, path, list(rv: "100", ["a", "b"]))
        transport.enqueue(.get, path, .watch([added("c", rv: "101"), modified("a", rv: "102"), deleted("b", rv: "103")], end: .hang))
        let events = await take(4)
        #expect(events == ["restarted(a,b)", "applied(c@101)", "applied(a@102)", "deleted(b)"])
        #expect(requestLog == ["list rv=0", "watch rv=100"])
        let listQuery = transport.requests[0].query
        #expect(listQuery["limit"] == "500")
        let watchQuery = transport.requests[1].query
        #expect(watchQuery["allowWatchBookmarks"] == "true")
        let timeout = try #require(watchQuery["timeoutSeconds"].flatMap { Int($0) })
        #expect((300...600).contains(timeout))
    }

    @Test func droppedWatch_resumesFromTheLastEvent_withoutRelisting() async throws {
        transport.enqueue(.get, path, list(rv: "100", ["a"]))
        transport.enqueue(.get, path, .watch([modified("a", rv: "105")]))  // clean end: server timeout
        transport.enqueue(.get, path, .watch([modified("a", rv: "107")], end: .fail(.connectionLost("reset"))))
        transport.enqueue(.get, path, .watch([modified("a", rv: "110")], end: .hang))
        let events = await take(5)
        #expect(events == ["restarted(a)", "applied(a@105)", "applied(a@107)", "error(transport)", "applied(a@110)"])
        #expect(requestLog == ["list rv=0", "watch rv=100", "watch rv=105", "watch rv=107"])
    }

    @Test func bookmark_isTheResumePoint() async throws {
        transport.enqueue(.get, path, list(rv: "100", []))
        transport.enqueue(.get, path, .watch([KubeFixtures.bookmark("PersistentVolumeClaim", rv: "250")]))
        transport.enqueue(.get, path, .watch([added("z", rv: "251")], end: .hang))
        #expect(await take(2) == ["restarted()", "applied(z@251)"])
        #expect(requestLog == ["list rv=0", "watch rv=100", "watch rv=250"])
    }

    @Test func expiredErrorEventInTheStream_relistsAtTheLastResourceVersion_thenWatchesAgain() async throws {
        transport.enqueue(.get, path, list(rv: "100", ["a", "b"]))
        transport.enqueue(.get, path, .watch([modified("a", rv: "101"),
                                              KubeFixtures.errorEvent(410, reason: "Expired", message: "too old resource version: 101 (500)")],
                                             end: .hang))
        transport.enqueue(.get, path, list(rv: "600", ["a"]))
        transport.enqueue(.get, path, .watch([added("c", rv: "601")], end: .hang))
        let events = await take(5)
        #expect(events == ["restarted(a,b)", "applied(a@101)", "error(410)", "restarted(a)", "applied(c@601)"])
        #expect(requestLog == ["list rv=0", "watch rv=100", "list rv=101 match=NotOlderThan", "watch rv=600"])
    }

    @Test func relistThatIsAlsoExpired_fallsBackToAListWithoutResourceVersion() async throws {
        transport.enqueue(.get, path, list(rv: "100", ["a"]))
        transport.enqueue(.get, path, .json(410, KubeFixtures.status(410, reason: "Gone")))  // watch start
        transport.enqueue(.get, path, .json(410, KubeFixtures.status(410, reason: "Expired")))  // relist at 100
        transport.enqueue(.get, path, list(rv: "900", ["b"]))
        transport.enqueue(.get, path, .watch([], end: .hang))
        let events = await take(4)
        #expect(events == ["restarted(a)", "error(410)", "error(410)", "restarted(b)"])
        #expect(requestLog == ["list rv=0", "watch rv=100", "list rv=100 match=NotOlderThan", "list rv=-"])
    }

    @Test func badInput_yieldsErrorElements_andTheWatcherRecovers() async throws {
        transport.enqueue(.get, path, list(rv: "100", ["a"]))
        transport.enqueue(.get, path, .watch([
            #"{"type":"SURPRISE","object":{}}"#,
            KubeFixtures.event("ADDED", #"{"kind":"PersistentVolumeClaim","apiVersion":"v1","metadata":{"name":7}}"#),
            modified("a", rv: "101"),
        ]))
        // Then a stream cut off inside a value, then bytes that are not JSON at all.
        transport.enqueue(.get, path, .body(status: 200, text: modified("a", rv: "102") + "\n{\"type\":\"MODIF"))
        transport.enqueue(.get, path, .body(status: 200, text: "<html>502 Bad Gateway</html>"))
        transport.enqueue(.get, path, .watch([modified("a", rv: "103")], end: .hang))
        let events = await take(8)
        #expect(events == [
            "restarted(a)", "error(unknown type SURPRISE)", "error(malformed object)", "applied(a@101)",
            "applied(a@102)", "error(truncated)", "error(malformed stream)", "applied(a@103)",
        ])
        #expect(requestLog == ["list rv=0", "watch rv=100", "watch rv=101", "watch rv=102", "watch rv=102"])
    }

    @Test func failedList_isAnErrorElement_andIsRetried() async throws {
        transport.enqueue(.get, path, .json(403, KubeFixtures.status(403, reason: "Forbidden")))
        transport.enqueue(.get, path, list(rv: "5", ["a"]))
        transport.enqueue(.get, path, .watch([], end: .hang))
        #expect(await take(2) == ["error(403)", "restarted(a)"])
    }

    @Test func veryShortEmptyWatch_isReportedSoTheBackoffStageSpacesItOut() async throws {
        transport.enqueue(.get, path, list(rv: "5", []))
        transport.enqueue(.get, path, .watch([]))
        transport.enqueue(.get, path, .watch([], end: .hang))
        #expect(await take(2) == ["restarted()", "error(short watch)"])
    }

    @Test func namespaceAndSelectors_areUsedForListAndWatch() async throws {
        let nsPath = "/api/v1/namespaces/team/persistentvolumeclaims"
        transport.enqueue(.get, nsPath, list(rv: "5", []))
        transport.enqueue(.get, nsPath, .watch([], end: .hang))
        let configuration = WatcherConfiguration(namespace: "team", labelSelector: "app=x", pageSize: nil, watchTimeoutSeconds: 30...30)
        #expect(await take(1, configuration: configuration) == ["restarted()"])
        let queries = transport.requests.map(\.query)
        #expect(queries.first?["labelSelector"] == "app=x")
        #expect(queries.first?["limit"] == nil)
    }

    @Test func cancellation_endsTheSequence() async throws {
        transport.enqueue(.get, path, list(rv: "5", ["a"]))
        transport.enqueue(.get, path, .watch([], end: .hang))
        let client = self.client
        let task = Task {
            var count = 0
            for await _ in Watcher<PersistentVolumeClaim>(client: client) { count += 1 }
            return count
        }
        // Wait (without sleeping) until the watch request is open, then cancel.
        var spins = 0
        while transport.requests.count < 2, spins < 1_000_000 {
            await Task.yield()
            spins += 1
        }
        #expect(transport.requests.count == 2)
        task.cancel()
        #expect(await task.value == 1)
    }
}
