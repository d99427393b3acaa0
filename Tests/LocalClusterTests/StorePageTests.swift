// List pages come from the sorted keys and the recent history, not from sorting the whole
// resource: they must be exactly what filtering and sorting everything gives.

@testable import LocalCluster
import Testing

@Suite("Store pages")
struct StorePageTests {
    @Test func pagesAtEveryRevisionAreTheFullSortedSnapshotCutIntoPieces() throws {
        var rng = SeededRandom(seed: 5)
        let store = ObjectStore(historyLimit: 100_000)
        let namespaces = ["a", "b", "c"]
        var revisions: [Int64] = [store.currentRevision]
        for step in 0..<400 {
            let key = ObjectKey(namespace: namespaces[Int(rng.next() % 3)], name: "o\(rng.next() % 60)")
            if rng.next() % 4 == 0 {
                _ = try? store.write(.leases, key, dryRun: false) { current in current == nil ? .keep(.null) : .delete }
            } else {
                let labels: JSONValue = ["tier": rng.next() % 2 == 0 ? "gold" : "tin"]
                _ = try store.write(.leases, key, dryRun: false) { _ in
                    .put(["metadata": ["name": .string(key.name), "namespace": .string(key.namespace), "labels": labels], "step": .int(Int64(step))])
                }
            }
            revisions.append(store.currentRevision)
        }
        let filters = [
            ObjectFilter(resource: .leases),
            ObjectFilter(resource: .leases, namespace: "b"),
            ObjectFilter(resource: .leases, labels: try LabelSelector.parse("tier=gold")),
            ObjectFilter(resource: .leases, namespace: "c", labels: try LabelSelector.parse("tier=tin")),
        ]
        var compared = 0
        for revision in revisions.enumerated().filter({ $0.offset % 7 == 0 }).map(\.element) + [store.currentRevision] {
            for filter in filters {
                let whole = try #require(store.objects(matching: filter, at: revision)).objects
                for limit in [1, 7, 50, Int.max] {
                    var after: ObjectKey?
                    var gathered: [(ObjectKey, JSONValue)] = []
                    while true {
                        let page = try #require(store.page(matching: filter, at: revision, after: after, limit: limit))
                        gathered += page.items
                        let rest = whole.filter { key, _ in key > (page.items.last?.0 ?? after ?? ObjectKey(namespace: "", name: "")) }
                        #expect(page.more == !rest.isEmpty)
                        if filter.selectsEverything && page.more { #expect(page.remaining == rest.count) }
                        guard page.more else { break }
                        after = page.items.last?.0
                    }
                    #expect(gathered.map(\.0) == whole.map(\.0), "revision \(revision) limit \(limit)")
                    #expect(gathered.map(\.1) == whole.map(\.1))
                    compared += 1
                }
            }
        }
        #expect(compared > 100)
        store.compact()
        #expect(store.page(matching: filters[0], at: revisions[1], after: nil, limit: 10) == nil)
    }

    @Test func theDirectListOfOneNamespaceHoldsOnlyItsObjects() async throws {
        try await Fixtures.withCluster { cluster, _ in
            try cluster.create(Fixtures.claim("a", namespace: "x"))
            try cluster.create(Fixtures.claim("b", namespace: "y"))
            #expect(cluster.list(.persistentVolumeClaims, namespace: "x").map(\.name) == ["a"])
            #expect(cluster.list(.persistentVolumeClaims).map(\.name) == ["a", "b"])
        }
    }
}
