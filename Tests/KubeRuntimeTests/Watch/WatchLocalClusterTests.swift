import Engine
import KubeRuntime
import VolumeStorage
import LocalCluster
import Synchronization
import TestSupport
import Testing

/// The watcher against LocalCluster's real watch streams and faults (issue 3 part 4).
@Suite struct WatchLocalClusterTests {
    static func claim(_ name: String) -> PersistentVolumeClaim {
        PersistentVolumeClaim(metadata: ObjectMeta(name: name, namespace: "default"),
                              spec: .init(accessModes: ["ReadWriteOnce"], resources: .init(requests: ["storage": "1Gi"])))
    }

    static func describe(_ event: WatcherEvent<PersistentVolumeClaim>) -> String {
        switch event {
        case .restarted(let objects): return "restarted(\(objects.map(\.metadata.name).sorted().joined(separator: ",")))"
        case .applied(let object): return "applied(\(object.metadata.name))"
        case .deleted(let object): return "deleted(\(object.metadata.name))"
        case .error(let error): return "error(\(error.code.map(String.init) ?? "stream"))"
        }
    }

    /// Pulls elements until `count` non-error elements arrived (errors are collected too).
    static func take(_ iterator: inout Watcher<PersistentVolumeClaim>.AsyncIterator, _ count: Int) async -> [String] {
        var result: [String] = []
        var successes = 0
        while successes < count, let event = await iterator.next() {
            result.append(describe(event))
            if !event.isError { successes += 1 }
        }
        return result
    }

    @Test func listThenWatch_seesChanges_andDeletions() async throws {
        try await withKubeCluster(configure: { $0.runsControllers = false; $0.addsProtectionFinalizers = false }) { h in
            _ = try await h.client.create(Self.claim("a"))
            var iterator = Watcher<PersistentVolumeClaim>(client: h.client).makeAsyncIterator()
            #expect(await Self.take(&iterator, 1) == ["restarted(a)"])
            _ = try await h.client.create(Self.claim("b"))
            #expect(await Self.take(&iterator, 1) == ["applied(b)"])
            _ = try await h.client.delete(PersistentVolumeClaim.self, name: "a", namespace: "default")
            #expect(await Self.take(&iterator, 1) == ["deleted(a)"])
            let listRV = h.cluster.listWatchLog
            #expect(listRV.first == "list rv=0")
            #expect(listRV.count == 2)
        }
    }

    @Test func droppedWatch_resumesWithoutRelisting() async throws {
        try await withKubeCluster(configure: { $0.runsControllers = false }) { h in
            _ = try await h.client.create(Self.claim("a"))
            let fault = h.cluster.injectFault(FaultRule(verb: .watch, trigger: .times(1), action: .watch(WatchFault(dropAfterEvents: 1))))
            var iterator = Watcher<PersistentVolumeClaim>(client: h.client).makeAsyncIterator()
            #expect(await Self.take(&iterator, 1) == ["restarted(a)"])
            _ = try await h.client.create(Self.claim("b"))
            #expect(await Self.take(&iterator, 1) == ["applied(b)"])
            let bRV = try #require(h.cluster.get(.persistentVolumeClaims, namespace: "default", name: "b")?["metadata"]?["resourceVersion"]?.stringValue)
            _ = try await h.client.create(Self.claim("c"))
            let events = await Self.take(&iterator, 1)
            #expect(events == ["error(stream)", "applied(c)"])
            #expect(h.cluster.fireCount(fault) == 1)
            let log = h.cluster.listWatchLog
            #expect(log.filter { $0.hasPrefix("list") }.count == 1)
            #expect(log.last == "watch rv=\(bRV)")
        }
    }

    @Test func expiredErrorEventInTheStream_relists() async throws {
        try await withKubeCluster(configure: { $0.runsControllers = false }) { h in
            _ = try await h.client.create(Self.claim("a"))
            h.cluster.injectFault(FaultRule(verb: .watch, trigger: .times(1), action: .watch(WatchFault(errorAfterEvents: 0))))
            var iterator = Watcher<PersistentVolumeClaim>(client: h.client).makeAsyncIterator()
            let events = await Self.take(&iterator, 2)
            #expect(events == ["restarted(a)", "error(410)", "restarted(a)"])
            let log = h.cluster.listWatchLog
            #expect(log.count == 3)
            #expect(log.first == "list rv=0")
            #expect(log.dropFirst().first?.hasPrefix("watch rv=") == true)
            #expect(log.last?.hasPrefix("list rv=") == true && log.last != "list rv=0")
        }
    }

    @Test func watchFromACompactedRevision_relistsAndSeesWhatChangedMeanwhile() async throws {
        let compacted = Mutex(false)
        let options = KubeHarnessOptions(beforeRequest: { request, cluster in
            // Before the first watch: a write and a compaction, so the list's revision is
            // older than the server's history when the watch asks for it.
            guard request.query["watch"] == "true", compacted.withLock({ done in defer { done = true }; return !done }) else { return }
            _ = try? cluster.create(["apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                     "metadata": ["name": "late", "namespace": "default"],
                                     "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]])
            cluster.compactHistory()
        })
        try await withKubeCluster(options: options, configure: { $0.runsControllers = false }) { h in
            _ = try await h.client.create(Self.claim("a"))
            var iterator = Watcher<PersistentVolumeClaim>(client: h.client).makeAsyncIterator()
            let events = await Self.take(&iterator, 2)
            #expect(events == ["restarted(a)", "error(410)", "restarted(a,late)"])
        }
    }

    @Test func slowSplitChunks_decodeToTheSameEvents() async throws {
        try await withKubeCluster(configure: { $0.runsControllers = false }) { h in
            h.cluster.injectFault(FaultRule(verb: .watch, trigger: .always, action: .watch(WatchFault(chunkSize: 1))))
            var iterator = Watcher<PersistentVolumeClaim>(client: h.client).makeAsyncIterator()
            #expect(await Self.take(&iterator, 1) == ["restarted()"])
            for name in ["x", "y", "z"] { _ = try await h.client.create(Self.claim(name)) }
            #expect(await Self.take(&iterator, 3) == ["applied(x)", "applied(y)", "applied(z)"])
        }
    }

    @Test func reflector_keepsAStoreInSync_throughFaults() async throws {
        try await withKubeCluster(configure: { $0.runsControllers = false; $0.addsProtectionFinalizers = false }) { h in
            for name in ["a", "b"] { _ = try await h.client.create(Self.claim(name)) }
            h.cluster.injectFault(FaultRule(verb: .watch, trigger: .times(1), action: .watch(WatchFault(dropAfterEvents: 1))))
            h.cluster.injectFault(FaultRule(verb: .watch, trigger: .times(1), action: .watch(WatchFault(errorAfterEvents: 1))))
            let store = Store<PersistentVolumeClaim>()
            let reflector = Reflector(source: Watcher<PersistentVolumeClaim>(client: h.client).backoff(), store: store,
                                      logger: .init(label: "test"))
            let task = Task { await reflector.consume() }
            try await store.waitUntilSynced()
            _ = try await h.client.create(Self.claim("c"))
            _ = try await h.client.delete(PersistentVolumeClaim.self, name: "a", namespace: "default")
            _ = try await h.client.create(Self.claim("d"))
            _ = try await h.client.delete(PersistentVolumeClaim.self, name: "b", namespace: "default")
            _ = try await h.client.create(Self.claim("e"))
            let changes = store.changes()
            for await _ in changes where Set(store.objects.map(\.metadata.name)) == ["c", "d", "e"] { break }
            task.cancel()
            await task.value
            #expect(Set(store.objects.map(\.metadata.name)) == ["c", "d", "e"])
        }
    }
}
