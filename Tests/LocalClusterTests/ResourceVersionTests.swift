// Items 3-5 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// one global integer revision, list RV, no-op writes.

import LocalCluster
import Testing

@Suite("Resource versions (items 3-5)")
struct ResourceVersionTests {
    @Test func item03_everyWriteGetsTheNextGlobalRevision() async throws {
        try await Fixtures.withCluster { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let volume = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv1")).json()
            let lease = try await client.post(Fixtures.leasePath(), Fixtures.lease("lock")).json()
            let first = try #require(Int64(claim.rv))
            #expect(Int64(volume.rv) == first + 1)
            #expect(Int64(lease.rv) == first + 2)
            var changed = claim
            changed[path: ["metadata", "labels"]] = ["tier": "gold"]
            let updated = try await client.put(Fixtures.pvcPath("default", "data"), changed).json()
            #expect(Int64(updated.rv) == first + 3)
        }
    }

    @Test func item04_listResourceVersionIsTheCurrentRevision() async throws {
        try await Fixtures.withCluster { _, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data"))
            let volume = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv1")).json()
            // The claim list's RV is the global revision, newer than any claim in it.
            let list = try await client.get(Fixtures.pvcPath()).json()
            #expect(list[path: ["metadata", "resourceVersion"]]?.stringValue == volume.rv)
        }
    }

    @Test func item05_identicalUpdateKeepsTheRevisionAndEmitsNoEvent() async throws {
        try await Fixtures.withCluster { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&resourceVersion=\(claim.rv)&timeoutSeconds=10")
            defer { watch.cancel() }
            #expect(await watch.wait { $0.status == 200 })

            let same = try await client.put(Fixtures.pvcPath("default", "data"), claim)
            #expect(same.status == 200)
            #expect(try same.json().rv == claim.rv)
            let samePatch = try await client.mergePatch(Fixtures.pvcPath("default", "data"), ["metadata": ["labels": nil]])
            #expect(try samePatch.json().rv == claim.rv)

            var labelled = claim
            labelled[path: ["metadata", "labels"]] = ["a": "b"]
            let changed = try await client.put(Fixtures.pvcPath("default", "data"), labelled).json()
            #expect(changed.rv != claim.rv)
            let events = await watch.waitForEvents(1)
            // The first event after the no-op writes is the real change.
            #expect(events.first?.eventType == "MODIFIED")
            #expect(events.first?.eventObject.rv == changed.rv)
            #expect(watch.events.count == 1)
        }
    }
}
