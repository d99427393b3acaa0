// Items 27-35 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// watch framing, start points, DELETED, expiry, too-new RVs, timeouts,
// bookmarks, watch-list and ListOptions validation.

@testable import LocalCluster
import Testing

@Suite("Watch (items 27-35)")
struct WatchTests {
    @Test func item27_watchIsChunkedJSONWithOneObjectPerLine() async throws {
        try await Fixtures.withCluster { cluster, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("a"))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("b"))
            let raw = try await RawHTTP.get(port: cluster.port, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=1",
                                            until: RawHTTP.endsChunkedBody)
            #expect(raw.head.hasPrefix("HTTP/1.1 200 OK"))
            let head = raw.head.lowercased()
            #expect(head.contains("content-type: application/json"))
            #expect(head.contains("transfer-encoding: chunked"))
            #expect(!head.contains("content-length"))
            let decoded = try #require(raw.chunks())
            #expect(decoded.terminated)
            let payload = String(decoding: decoded.payload, as: UTF8.self)
            #expect(payload.hasSuffix("\n"))
            let lines = payload.split(separator: "\n")
            #expect(lines.count == 2)
            for line in lines {
                let event = try JSONValue.parse(String(line))
                #expect(event.eventType == "ADDED")
                #expect(event.eventObject["kind"] == "PersistentVolumeClaim")
                #expect(event.eventObject["apiVersion"] == "v1")
            }
            // One chunk per event: each is flushed on its own.
            #expect(decoded.sizes.count == 2)
        }
    }

    @Test func item28_unsetOrZeroStartsWithSyntheticAddedThenChanges() async throws {
        try await Fixtures.withCluster { _, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("a"))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("b"))
            for version in ["", "&resourceVersion=0"] {
                let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10" + version)
                defer { watch.cancel() }
                let initial = await watch.waitForEvents(2)
                #expect(initial.map(\.eventType) == ["ADDED", "ADDED"])
                #expect(Set(initial.map(\.eventObject.name)) == ["a", "b"])
            }
        }
    }

    @Test func item28_aResourceVersionStartsAfterItInOrder() async throws {
        try await Fixtures.withCluster { _, client in
            let a = try await client.post(Fixtures.pvcPath(), Fixtures.claim("a")).json()
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("b"))
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv1"))  // other resource
            _ = try await client.mergePatch(Fixtures.pvcPath("default", "a"), ["metadata": ["labels": ["x": "y"]]])
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10&resourceVersion=\(a.rv)")
            defer { watch.cancel() }
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c"))
            let events = await watch.waitForEvents(3)
            #expect(events.map(\.eventType) == ["ADDED", "MODIFIED", "ADDED"])
            #expect(events.map(\.eventObject.name) == ["b", "a", "c"])
            let versions = events.compactMap { Int64($0.eventObject.rv) }
            #expect(versions == versions.sorted() && versions.count == 3)
            #expect(versions.allSatisfy { $0 > Int64(a.rv) ?? 0 })
        }
    }

    @Test func item29_deletedCarriesTheLastStateAtTheDeletionRevision() async throws {
        try await Fixtures.withCluster(configure: { $0.addsProtectionFinalizers = false }) { _, client in
            let lease = try await client.post(Fixtures.leasePath(), Fixtures.lease("lock")).json()
            let watch = WatchReader.start(client, Fixtures.leasePath() + "?watch=true&timeoutSeconds=10&resourceVersion=\(lease.rv)")
            defer { watch.cancel() }
            #expect(await watch.wait { $0.status == 200 })
            _ = try await client.delete(Fixtures.leasePath("default", "lock"))
            let list = try await client.get(Fixtures.leasePath()).json()
            let events = await watch.waitForEvents(1)
            #expect(events.first?.eventType == "DELETED")
            let object = try #require(events.first?.eventObject)
            #expect(object[path: ["spec", "holderIdentity"]] == "a")
            #expect(object.rv == list[path: ["metadata", "resourceVersion"]]?.stringValue)
            #expect(object.rv != lease.rv)
        }
    }

    @Test func item30_aCompactedStartIsOneErrorEventInA200StreamThenTheEnd() async throws {
        try await Fixtures.withCluster(configure: { $0.historyLimit = 4 }) { cluster, client in
            let first = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c0")).json()
            for index in 1...8 { _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c\(index)")) }
            let raw = try await RawHTTP.get(port: cluster.port, Fixtures.pvcPath() + "?watch=true&resourceVersion=\(first.rv)",
                                            until: RawHTTP.endsChunkedBody)
            #expect(raw.head.hasPrefix("HTTP/1.1 200"))
            let lines = raw.lines()
            #expect(lines.count == 1)
            let event = try JSONValue.parse(try #require(lines.first))
            #expect(event.eventType == "ERROR")
            let status = event.eventObject
            #expect(status["kind"] == "Status")
            #expect(status["code"] == 410)
            #expect(status["reason"] == "Expired")
            #expect(status["message"]?.stringValue?.hasPrefix("too old resource version: \(first.rv) (") == true)
            #expect(try #require(raw.chunks()).terminated)

            // compactHistory makes any earlier revision expire.
            let current = cluster.resourceVersion
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("late"))
            cluster.compactHistory()
            let compacted = try await RawHTTP.get(port: cluster.port, Fixtures.pvcPath() + "?watch=true&resourceVersion=\(current)",
                                                  until: RawHTTP.endsChunkedBody)
            #expect(compacted.lines().first?.contains("\"code\":410") == true)
        }
    }

    @Test func item31_exactListOfACompactedRevisionIs410() async throws {
        try await Fixtures.withCluster { cluster, client in
            let a = try await client.post(Fixtures.pvcPath(), Fixtures.claim("a")).json()
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("b"))
            // Before compaction the exact revision is served as it was.
            let exact = try await client.get(Fixtures.pvcPath() + "?resourceVersion=\(a.rv)&resourceVersionMatch=Exact").json()
            #expect(exact["items"]?.arrayValue?.map(\.name) == ["a"])
            #expect(exact[path: ["metadata", "resourceVersion"]]?.stringValue == a.rv)
            cluster.compactHistory()
            for query in ["?resourceVersion=\(a.rv)&resourceVersionMatch=Exact", "?resourceVersion=\(a.rv)&limit=10"] {
                let response = try await client.get(Fixtures.pvcPath() + query)
                #expect(response.status == 410, "\(query)")
                #expect(try response.reason() == "Expired")
                #expect(try response.message() == "The resourceVersion for the provided list is too old.")
            }
            // NotOlderThan (and rv without limit) is still fine.
            #expect(try await client.get(Fixtures.pvcPath() + "?resourceVersion=\(a.rv)").status == 200)
        }
    }

    @Test func item32_aRevisionNewerThanTheStoreIs504AfterAWait() async throws {
        try await Fixtures.withCluster { cluster, client in
            let future = (Int64(cluster.resourceVersion) ?? 0) + 100
            for path in [Fixtures.pvcPath() + "?resourceVersion=\(future)", Fixtures.pvPath("x") + "?resourceVersion=\(future)"] {
                let response = try await client.get(path)
                #expect(response.status == 504)
                let status = try response.json()
                #expect(status["reason"] == "Timeout")
                #expect(status[path: ["details", "retryAfterSeconds"]] == 1)
                #expect(status[path: ["details", "causes"]]?.arrayValue?.first?["reason"] == "ResourceVersionTooLarge")
                #expect(status["message"]?.stringValue?.hasPrefix("Timeout: Too large resource version: \(future), current: ") == true)
            }
        }
    }

    @Test func item32_aRevisionReachedDuringTheWaitIsServed() async throws {
        try await Fixtures.withCluster(configure: { $0.tooLargeResourceVersionWait = .seconds(20) }) { cluster, client in
            let next = (Int64(cluster.resourceVersion) ?? 0) + 1
            async let response = client.get(Fixtures.pvcPath() + "?resourceVersion=\(next)")
            // Once the request waits on the store's change notifications, a write reaches the revision.
            #expect(await poll { cluster.store.state.withLock { $0.listeners.count } > 0 })
            _ = try cluster.create(Fixtures.claim("a"))
            let served = try await response
            #expect(served.status == 200)
            #expect(try served.json()["items"]?.arrayValue?.count == 1)
        }
    }

    @Test func item33_timeoutSecondsEndsTheStreamCleanly() async throws {
        try await Fixtures.withCluster { cluster, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("a"))
            let raw = try await RawHTTP.get(port: cluster.port, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=1",
                                            until: RawHTTP.endsChunkedBody)
            let decoded = try #require(raw.chunks())
            #expect(decoded.terminated)
            #expect(!raw.lines().contains { $0.contains("\"ERROR\"") })

            // Without timeoutSeconds the configured default range applies.
            let short = try await Fixtures.cluster { $0.defaultWatchTimeout = .milliseconds(100)...(.milliseconds(300)) }
            let defaulted = try await RawHTTP.get(port: short.port, Fixtures.pvcPath() + "?watch=true", until: RawHTTP.endsChunkedBody)
            await short.shutdown()
            #expect(try #require(defaulted.chunks()).terminated)
        }
    }

    @Test func item34_bookmarksOnlyWhenAllowedAndNeverWhenOff() async throws {
        try await Fixtures.withCluster(configure: { $0.bookmarks = .every(.milliseconds(20)...(.milliseconds(60))) }) { _, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("a"))
            let with = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=2&allowWatchBookmarks=true")
            let without = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=1")
            defer { with.cancel(); without.cancel() }
            #expect(await with.wait { state in state.events.filter { $0.eventType == "BOOKMARK" }.count >= 2 })
            let bookmark = try #require(with.events.first { $0.eventType == "BOOKMARK" })
            #expect(bookmark.eventObject["kind"] == "PersistentVolumeClaim")
            #expect(bookmark.eventObject["apiVersion"] == "v1")
            #expect(Int64(bookmark.eventObject.rv) != nil)
            #expect(await without.waitForEnd())
            #expect(without.types == ["ADDED"])
        }
        try await Fixtures.withCluster(configure: { $0.bookmarks = .never }) { _, client in
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=1&allowWatchBookmarks=true")
            defer { watch.cancel() }
            #expect(await watch.waitForEnd())
            #expect(watch.events.isEmpty)
        }
    }

    @Test func item35_watchListSendsAddedThenTheInitialEventsEndBookmark() async throws {
        try await Fixtures.withCluster { cluster, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("a"))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("b"))
            let watch = WatchReader.start(client, Fixtures.pvcPath()
                + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=10")
            defer { watch.cancel() }
            let events = await watch.waitForEvents(3)
            #expect(events.map(\.eventType) == ["ADDED", "ADDED", "BOOKMARK"])
            let bookmark = events[2].eventObject
            #expect(bookmark[path: ["metadata", "annotations", "k8s.io/initial-events-end"]] == "true")
            #expect(bookmark.rv == cluster.resourceVersion)
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c"))
            #expect(await watch.waitForEvents(4).last?.eventType == "ADDED")
        }
    }

    @Test func item35_invalidListOptionCombinationsAre422() async throws {
        try await Fixtures.withCluster { _, client in
            let cases: [(String, String)] = [
                ("?watch=true&sendInitialEvents=true", "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"),
                ("?watch=true&resourceVersionMatch=NotOlderThan", "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"),
                ("?resourceVersionMatch=Exact", "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"),
                ("?resourceVersion=0&resourceVersionMatch=Exact", "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""),
                ("?resourceVersion=1&resourceVersionMatch=Newest", "resourceVersionMatch: Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\""),
                ("?sendInitialEvents=true", "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"),
            ]
            for (query, detail) in cases {
                let response = try await client.get(Fixtures.pvcPath() + query)
                #expect(response.status == 422, "\(query)")
                let status = try response.json()
                #expect(status["message"] == .string("ListOptions.meta.k8s.io \"\" is invalid: \(detail)"), "\(query)")
                #expect(status[path: ["details", "group"]] == "meta.k8s.io")
                #expect(status[path: ["details", "kind"]] == "ListOptions")
            }
        }
    }
}
