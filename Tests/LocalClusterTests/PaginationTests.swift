// Item 36 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// limit/continue with a constant list revision, opaque tokens, short pages, 410.

import LocalCluster
import Testing

@Suite("Pagination (item 36)")
struct PaginationTests {
    @Test func item36_pagesShareOneRevisionAndSeeTheSnapshot() async throws {
        try await Fixtures.withCluster { _, client in
            for index in 0..<5 { _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c\(index)")) }
            let first = try await client.get(Fixtures.pvcPath() + "?limit=2").json()
            let listRV = try #require(first[path: ["metadata", "resourceVersion"]]?.stringValue)
            #expect(first["items"]?.arrayValue?.map(\.name) == ["c0", "c1"])
            #expect(first[path: ["metadata", "remainingItemCount"]] == 3)
            let token = try #require(first[path: ["metadata", "continue"]]?.stringValue)

            // Changes after the first page do not show in later pages.
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c5"))
            _ = try await client.mergePatch(Fixtures.pvcPath("default", "c3"), ["metadata": ["labels": ["new": "yes"]]])
            let second = try await client.get(Fixtures.pvcPath() + "?limit=2&continue=\(token)").json()
            #expect(second["items"]?.arrayValue?.map(\.name) == ["c2", "c3"])
            #expect(second[path: ["metadata", "resourceVersion"]]?.stringValue == listRV)
            #expect(second["items"]?.arrayValue?[1][path: ["metadata", "labels"]] == nil)
            let next = try #require(second[path: ["metadata", "continue"]]?.stringValue)
            let third = try await client.get(Fixtures.pvcPath() + "?limit=2&continue=\(next)").json()
            #expect(third["items"]?.arrayValue?.map(\.name) == ["c4"])
            #expect(third[path: ["metadata", "continue"]] == nil)
            #expect(third[path: ["metadata", "resourceVersion"]]?.stringValue == listRV)
        }
    }

    @Test func item36_shortPagesStillCarryAContinueToken() async throws {
        try await Fixtures.withCluster { cluster, client in
            for index in 0..<3 { _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c\(index)")) }
            let rule = cluster.injectFault(FaultRule(verb: .list, trigger: .times(1), action: .shortPage(maxItems: 0)))
            let empty = try await client.get(Fixtures.pvcPath() + "?limit=2").json()
            #expect(empty["items"] == [])
            let token = try #require(empty[path: ["metadata", "continue"]]?.stringValue)
            let rest = try await client.get(Fixtures.pvcPath() + "?limit=5&continue=\(token)").json()
            #expect(rest["items"]?.arrayValue?.map(\.name) == ["c0", "c1", "c2"])
            #expect(cluster.fireCount(rule) == 1)
        }
    }

    @Test func item36_anExpiredTokenIs410WithAFreshToken() async throws {
        try await Fixtures.withCluster { cluster, client in
            for index in 0..<4 { _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c\(index)")) }
            let first = try await client.get(Fixtures.pvcPath() + "?limit=2").json()
            let token = try #require(first[path: ["metadata", "continue"]]?.stringValue)
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c9"))
            cluster.compactHistory()
            let expired = try await client.get(Fixtures.pvcPath() + "?limit=2&continue=\(token)")
            #expect(expired.status == 410)
            let status = try expired.json()
            #expect(status["reason"] == "Expired")
            #expect(status["message"]?.stringValue?.hasPrefix("The provided continue parameter is too old to display a consistent list result.") == true)
            // The fresh token continues (inconsistently) from the latest state.
            let fresh = try #require(status[path: ["metadata", "continue"]]?.stringValue)
            let resumed = try await client.get(Fixtures.pvcPath() + "?limit=10&continue=\(fresh)").json()
            #expect(resumed["items"]?.arrayValue?.map(\.name) == ["c2", "c3", "c9"])

            let garbage = try await client.get(Fixtures.pvcPath() + "?limit=2&continue=bm90LWEtdG9rZW4")
            #expect(garbage.status == 400)
            let withVersion = try await client.get(Fixtures.pvcPath() + "?limit=2&resourceVersion=3&continue=\(token)")
            #expect(withVersion.status == 400)
        }
    }
}
