import Engine
import KubeRuntime
import VolumeStorage
import Logging
import Synchronization
import TestSupport
import Testing

/// The cache keyed by namespace/name, wholesale replace on relist with deletions for
/// vanished objects, the synced signal, coalesced change notifications.
@Suite struct StoreTests {
    static func claim(_ name: String, namespace: String = "ns", rv: String = "1") -> PersistentVolumeClaim {
        PersistentVolumeClaim(metadata: ObjectMeta(name: name, namespace: namespace, resourceVersion: rv))
    }

    @Test func restarted_replacesContentsWholesale_andReportsVanishedObjectsAsDeleted() {
        let store = Store<PersistentVolumeClaim>()
        store.apply(.restarted([Self.claim("a"), Self.claim("b"), Self.claim("c", namespace: "other")]))
        let update = store.apply(.restarted([Self.claim("b", rv: "2"), Self.claim("d")]))
        #expect(update.deleted.map(\.key).sorted() == [ObjectKey(namespace: "ns", name: "a"), ObjectKey(namespace: "other", name: "c")])
        #expect(update.applied.map(\.key).sorted() == [ObjectKey(namespace: "ns", name: "b"), ObjectKey(namespace: "ns", name: "d")])
        #expect(store.snapshot.keys.sorted() == [ObjectKey(namespace: "ns", name: "b"), ObjectKey(namespace: "ns", name: "d")])
        #expect(store.get(name: "b", namespace: "ns")?.metadata.resourceVersion == "2")
    }

    @Test func applied_andDeleted_updateByKey_andErrorsChangeNothing() {
        let store = Store<PersistentVolumeClaim>()
        store.apply(.applied(Self.claim("a")))
        store.apply(.applied(Self.claim("a", rv: "2")))
        store.apply(.applied(Self.claim("a", namespace: "x")))
        #expect(store.count == 2)
        #expect(store.get(ObjectKey(namespace: "ns", name: "a"))?.metadata.resourceVersion == "2")
        let update = store.apply(.deleted(Self.claim("a", rv: "3")))
        #expect(update.deleted.first?.metadata.resourceVersion == "2")
        store.apply(.error(.invalidRequest("x")))
        #expect(store.objects.map(\.key) == [ObjectKey(namespace: "x", name: "a")])
    }

    @Test func clusterScopedObjects_areKeyedByName() {
        let store = Store<PersistentVolume>()
        store.apply(.restarted([PersistentVolume(metadata: ObjectMeta(name: "pv1"))]))
        #expect(store.get(name: "pv1") != nil)
    }

    @Test func hasSynced_afterTheFirstRestart_only() async throws {
        let store = Store<PersistentVolumeClaim>()
        store.apply(.applied(Self.claim("early")))
        #expect(!store.hasSynced)
        store.apply(.restarted([]))
        #expect(store.hasSynced)
        try await store.waitUntilSynced()  // returns at once
    }

    @Test func waitUntilSynced_resumesWhenTheListArrives() async throws {
        let store = Store<PersistentVolumeClaim>()
        async let waited: Void = store.waitUntilSynced()
        // Let the waiter register (no sleep: yield until it is parked or the store syncs).
        for _ in 0..<100 { await Task.yield() }
        store.apply(.restarted([Self.claim("a")]))
        try await waited
        #expect(store.hasSynced)
    }

    @Test func waitUntilSynced_throwsWhenCancelled() async {
        let store = Store<PersistentVolumeClaim>()
        let task = Task { try await store.waitUntilSynced() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!store.hasSynced)
    }

    @Test func changes_coalesceRepeatedKeys_andIncludeDeletions() async {
        let store = Store<PersistentVolumeClaim>()
        let changes = store.changes()
        store.apply(.restarted([Self.claim("a"), Self.claim("b")]))
        for rv in 2...50 { store.apply(.applied(Self.claim("a", rv: String(rv)))) }
        store.apply(.deleted(Self.claim("b")))
        store.apply(.applied(Self.claim("c")))
        #expect(changes.pendingCount == 3)
        store.finish()
        var keys: [String] = []
        for await key in changes { keys.append(key.description) }
        #expect(keys.sorted() == ["ns/a", "ns/b", "ns/c"])
    }

    @Test func changes_afterRelist_includeVanishedKeys() async {
        let store = Store<PersistentVolumeClaim>()
        store.apply(.restarted([Self.claim("gone"), Self.claim("kept")]))
        let changes = store.changes(includeExisting: false)
        store.apply(.restarted([Self.claim("kept", rv: "2")]))
        store.finish()
        var keys: [String] = []
        for await key in changes { keys.append(key.description) }
        #expect(keys.sorted() == ["ns/gone", "ns/kept"])
    }

    @Test func changes_includeExistingKeys_forALateSubscriber() async {
        let store = Store<PersistentVolumeClaim>()
        store.apply(.restarted([Self.claim("a"), Self.claim("b")]))
        let changes = store.changes()
        store.finish()
        var keys: [String] = []
        for await key in changes { keys.append(key.description) }
        #expect(keys.sorted() == ["ns/a", "ns/b"])
    }

    @Test func changes_deliverToAWaitingConsumer() async {
        let store = Store<PersistentVolumeClaim>()
        let changes = store.changes()
        let consumer = Task { () -> ObjectKey? in
            var iterator = changes.makeAsyncIterator()
            return await iterator.next()
        }
        for _ in 0..<100 { await Task.yield() }
        store.apply(.applied(Self.claim("x")))
        #expect(await consumer.value == ObjectKey(namespace: "ns", name: "x"))
    }

    @Test func changes_endWhenTheConsumerIsCancelled() async {
        let store = Store<PersistentVolumeClaim>()
        let changes = store.changes()
        let consumer = Task { () -> ObjectKey? in
            var iterator = changes.makeAsyncIterator()
            return await iterator.next()
        }
        consumer.cancel()
        #expect(await consumer.value == nil)
    }

    @Test func reflector_feedsTheStoreFromAWatcher_andReportsErrors() async throws {
        let transport = FakeKubeTransport()
        let client = KubeFixtures.client(transport: transport)
        let path = "/api/v1/persistentvolumeclaims"
        transport.enqueue(.get, path, .json(200, KubeFixtures.list("PersistentVolumeClaim", rv: "10",
                                                                   items: [KubeFixtures.pvc("a", rv: "9"), KubeFixtures.pvc("b", rv: "10")])))
        transport.enqueue(.get, path, .watch([
            KubeFixtures.event("DELETED", KubeFixtures.pvc("a", rv: "11")),
            #"{"type":"SURPRISE","object":{}}"#,
            KubeFixtures.event("ADDED", KubeFixtures.pvc("c", rv: "12")),
        ], end: .hang))
        let store = Store<PersistentVolumeClaim>()
        let errors = ErrorLog()
        let reflector = Reflector(source: Watcher<PersistentVolumeClaim>(client: client).backoff(), store: store,
                                  logger: Logger(label: "test"), onError: { errors.append($0) })
        let task = Task { await reflector.consume() }
        try await store.waitUntilSynced()
        let changes = store.changes()
        var seen: Set<String> = []
        for await key in changes {
            seen.insert(key.description)
            if store.get(name: "c", namespace: "default") != nil, store.get(name: "a", namespace: "default") == nil { break }
        }
        task.cancel()
        await task.value
        #expect(store.objects.map(\.metadata.name).sorted() == ["b", "c"])
        #expect(errors.count == 1)
        #expect(!seen.isEmpty)
    }
}

/// Collects errors reported by a reflector.
final class ErrorLog: Sendable {
    private let errors = Mutex<[KubeError]>([])
    func append(_ error: KubeError) { errors.withLock { $0.append(error) } }
    var count: Int { errors.withLock { $0.count } }
}
