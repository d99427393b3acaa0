// The event-driven binder: its indexes choose what a scan over every volume would, its
// changes queue the objects they affect, and nothing waits for the periodic resync.

@testable import LocalCluster
import Logging
import Testing

@Suite("Event-driven binder")
struct BinderIndexTests {
    /// A controller over a bare store (no loop running): the index is kept by the store.
    static func controller() -> PVController {
        let store = ObjectStore(historyLimit: 1000)
        let registry = Registry(store: store, clock: { Timestamp(seconds: 1_700_000_000) }, addsProtectionFinalizers: false,
                                tooLargeResourceVersionWait: .milliseconds(10), seed: 7)
        return PVController(registry: registry, resyncPeriod: .seconds(3600),
                            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    static func put(_ store: ObjectStore, _ resource: ResourceType, _ key: ObjectKey, _ object: JSONValue) throws {
        _ = try store.write(resource, key, dryRun: false) { _ in .put(object) }
    }

    /// A random volume: sizes that tie semantically, classes, access modes, claimRefs to
    /// the claim under test (with and without uid), to another claim, null; phases; terminating.
    static func randomVolume(_ name: String, _ rng: inout SeededRandom) -> JSONValue {
        func pick<T>(_ options: [T]) -> T { options[Int(rng.next() % UInt64(options.count))] }
        var volume = Fixtures.volume(name, storage: pick(["500Mi", "1Gi", "1024Mi", "2Gi", "2048Mi", "5Gi", "bogus"]),
                                     className: pick(["a", "a", "b"]), accessModes: pick([["ReadWriteOnce"], ["ReadWriteMany"], ["ReadWriteOnce", "ReadWriteMany"]]))
        switch rng.next() % 6 {
        case 0: volume[path: ["spec", "claimRef"]] = ["namespace": "ns", "name": "c"]
        case 1: volume[path: ["spec", "claimRef"]] = ["namespace": "ns", "name": "c", "uid": "uid-c"]
        case 2: volume[path: ["spec", "claimRef"]] = ["namespace": "ns", "name": "c", "uid": "uid-old"]
        case 3: volume[path: ["spec", "claimRef"]] = ["namespace": "ns", "name": "other", "uid": "uid-o"]
        case 4: volume[path: ["spec", "claimRef"]] = .null
        default: break
        }
        volume[path: ["status", "phase"]] = .string(pick(["Available", "Available", "Bound", "Released"]))
        if rng.next() % 8 == 0 { volume[path: ["metadata", "deletionTimestamp"]] = "2024-05-01T12:00:00Z" }
        if rng.next() % 8 == 0 { volume[path: ["spec", "volumeMode"]] = "Block" }
        if rng.next() % 4 == 0 { volume[path: ["metadata", "labels"]] = ["tier": .string(pick(["gold", "tin"]))] }
        return volume
    }

    @Test func theIndexedMatchIsTheFullScansMatchThroughCreatesUpdatesAndDeletes() throws {
        var rng = SeededRandom(seed: 11)
        var compared = 0
        var matched = 0
        for round in 0..<40 {
            let controller = Self.controller()
            let store = controller.store
            var names: [String] = []
            for step in 0..<60 {
                // Mostly creates, then updates (which move volumes between indexes) and deletes.
                let choice = names.isEmpty ? 0 : rng.next() % 4
                if choice <= 1 {
                    let name = "v\(round)-\(step)"
                    names.append(name)
                    try Self.put(store, .persistentVolumes, ObjectKey(namespace: "", name: name), Self.randomVolume(name, &rng))
                } else if choice == 2 {
                    let name = names[Int(rng.next() % UInt64(names.count))]
                    try Self.put(store, .persistentVolumes, ObjectKey(namespace: "", name: name), Self.randomVolume(name, &rng))
                } else {
                    let name = names.remove(at: Int(rng.next() % UInt64(names.count)))
                    _ = try store.write(.persistentVolumes, ObjectKey(namespace: "", name: name), dryRun: false) { _ in .delete }
                }
                // Other claims come and go (bound or not): the claim indexes follow them.
                let other = ObjectKey(namespace: "others", name: "k\(rng.next() % 8)")
                if rng.next() % 3 == 0 {
                    _ = try store.write(.persistentVolumeClaims, other, dryRun: false) { current in current == nil ? .keep(.null) : .delete }
                } else {
                    var object = Fixtures.claim(other.name, namespace: other.namespace, className: rng.next() % 2 == 0 ? "a" : "b")
                    if rng.next() % 2 == 0 {
                        object[path: ["spec", "volumeName"]] = .string("v-\(rng.next() % 4)")
                        object = object.settingAnnotation(Annotations.bindCompleted, "yes")
                    }
                    try Self.put(store, .persistentVolumeClaims, other, object)
                }
                var claim = Fixtures.claim("c", namespace: "ns", storage: ["1Gi", "2Gi", "1500Mi"][step % 3], className: "a",
                                           accessModes: step % 2 == 0 ? ["ReadWriteOnce"] : ["ReadWriteMany"])
                claim[path: ["metadata", "uid"]] = "uid-c"
                if step % 5 == 0 { claim[path: ["spec", "selector"]] = ["matchLabels": ["tier": "gold"]] }
                let all = store.snapshot(.persistentVolumes).objects.map(\.1)
                for delay in [false, true] {
                    let expected = VolumeMatching.bestMatch(for: claim, among: all, delayBinding: delay)
                    let found = controller.findMatch(for: claim, delayBinding: delay)
                    #expect(found?.name == expected?.name, "round \(round) step \(step) delay \(delay)")
                    compared += 1
                    if expected != nil { matched += 1 }
                }
            }
            // The index kept through every change is the index of what is left.
            var fresh = BinderIndex()
            for (key, volume) in store.snapshot(.persistentVolumes).objects { fresh.apply(.persistentVolumes, key, old: nil, new: volume) }
            for (key, claim) in store.snapshot(.persistentVolumeClaims).objects { fresh.apply(.persistentVolumeClaims, key, old: nil, new: claim) }
            controller.index.withLock { kept in
                #expect(kept.volumesByClaim == fresh.volumesByClaim)
                #expect(kept.unclaimedByClass == fresh.unclaimedByClass)
                #expect(kept.claimsByVolume == fresh.claimsByVolume)
                #expect(kept.unboundClaimsByClass == fresh.unboundClaimsByClass)
            }
        }
        // The random volumes are such that both outcomes occur often.
        #expect(matched > compared / 5 && matched < compared * 4 / 5, "\(matched) of \(compared) matched")
    }

    @Test func changesQueueTheObjectsTheyAffect() throws {
        var index = BinderIndex()
        index.queuesWork = true
        let claimKey = ObjectKey(namespace: "ns", name: "c")
        var claim = Fixtures.claim("c", namespace: "ns", className: "a")
        index.apply(.persistentVolumeClaims, claimKey, old: nil, new: claim)
        #expect(index.takeQueue() == [.claim(claimKey)])

        // An unclaimed volume of the claim's class: the pending claim is looked at again.
        let free = Fixtures.volume("free", className: "a")
        index.apply(.persistentVolumes, ObjectKey(namespace: "", name: "free"), old: nil, new: free)
        #expect(index.takeQueue() == [.volume("free"), .claim(claimKey)])
        #expect(index.unclaimedVolumes(className: "a", atLeast: Quantity.from("1Gi")!).map(\.name) == ["free"])
        #expect(index.unclaimedVolumes(className: "a", atLeast: Quantity.from("2Gi")!).isEmpty)

        // The binder claims it: it leaves the unclaimed index and names the claim.
        var claimed = free
        claimed[path: ["spec", "claimRef"]] = ["namespace": "ns", "name": "c", "uid": "u"]
        index.apply(.persistentVolumes, ObjectKey(namespace: "", name: "free"), old: free, new: claimed)
        #expect(index.takeQueue() == [.volume("free"), .claim(claimKey)])
        #expect(index.unclaimedVolumes(className: "a", atLeast: Quantity.from("1Gi")!).isEmpty)
        #expect(index.volumes(namingClaim: claimKey) == ["free"])

        // The claim is bound to it; then the claim is deleted: the volume is looked at.
        let unbound = claim
        claim[path: ["spec", "volumeName"]] = "free"
        claim = claim.settingAnnotation(Annotations.bindCompleted, "yes")
        index.apply(.persistentVolumeClaims, claimKey, old: unbound, new: claim)
        #expect(index.takeQueue() == [.claim(claimKey), .volume("free")])
        #expect(index.claimsByVolume["free"] == [claimKey])
        #expect(index.unboundClaimsByClass["a"] == nil)
        index.apply(.persistentVolumeClaims, claimKey, old: claim, new: nil)
        #expect(index.takeQueue() == [.claim(claimKey), .volume("free")])
        #expect(index.claimsByVolume.isEmpty)

        // A class change queues the unbound claims of that class only.
        let other = ObjectKey(namespace: "ns", name: "d")
        index.apply(.persistentVolumeClaims, other, old: nil, new: Fixtures.claim("d", namespace: "ns", className: "b"))
        _ = index.takeQueue()
        index.apply(.storageClasses, ObjectKey(namespace: "", name: "a"), old: nil, new: Fixtures.storageClass("a"))
        #expect(index.takeQueue().isEmpty)
        index.apply(.storageClasses, ObjectKey(namespace: "", name: "b"), old: nil, new: Fixtures.storageClass("b"))
        #expect(index.takeQueue() == [.claim(other)])

        // Deleting the volume: it leaves every index.
        index.apply(.persistentVolumes, ObjectKey(namespace: "", name: "free"), old: claimed, new: nil)
        #expect(index.volumesByClaim.isEmpty && index.unclaimedByClass.isEmpty)
    }

    static func phase(_ cluster: LocalCluster, _ resource: ResourceType, _ name: String, in namespace: String? = nil) -> String? {
        cluster.get(resource, namespace: namespace, name: name)?.string(at: "status", "phase")
    }

    /// With a resync period far beyond the test, every step below happens only because a
    /// change queued the right object.
    @Test func everyStepOfTheStoryFollowsFromAChangeWithoutAResync() async throws {
        try await Fixtures.withCluster(controllers: true, configure: { $0.controllerResyncPeriod = .seconds(3600) }) { cluster, client in
            // A claim whose class does not exist yet, then the class: the claim is annotated.
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("early", className: "late"))
            _ = try await client.post("/apis/storage.k8s.io/v1/storageclasses", Fixtures.storageClass("late"))
            #expect(await cluster.waitUntil {
                $0.get(.persistentVolumeClaims, namespace: "default", name: "early")?
                    .string(at: "metadata", "annotations", "volume.kubernetes.io/storage-provisioner") == "example.com/nfs"
            })
            // A pending claim, then a static volume that fits it: bound.
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("waiting", className: "manual"))
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("static", className: "manual", reclaimPolicy: "Retain"))
            #expect(await cluster.waitUntil { Self.phase($0, .persistentVolumeClaims, "waiting", in: "default") == "Bound" })
            #expect(Self.phase(cluster, .persistentVolumes, "static") == "Bound")
            // The claim in use is deleted: it stays until no longer in use, then its volume is Released.
            cluster.setClaimInUse(namespace: "default", claim: "waiting", true)
            _ = try await client.delete(Fixtures.pvcPath("default", "waiting"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumeClaims, namespace: "default", name: "waiting")?.isTerminating == true })
            cluster.setClaimInUse(namespace: "default", claim: "waiting", false)
            #expect(await cluster.waitUntil { $0.get(.persistentVolumeClaims, namespace: "default", name: "waiting") == nil })
            #expect(await cluster.waitUntil { Self.phase($0, .persistentVolumes, "static") == "Released" })
            // A bound claim whose volume disappears is Lost.
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("second", className: "manual"))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("bound", className: "manual"))
            #expect(await cluster.waitUntil { Self.phase($0, .persistentVolumeClaims, "bound", in: "default") == "Bound" })
            var volume = try #require(cluster.get(.persistentVolumes, name: "second"))
            volume[path: ["metadata", "finalizers"]] = []
            try cluster.update(volume)
            _ = try await client.delete(Fixtures.pvPath("second"))
            #expect(await cluster.waitUntil { Self.phase($0, .persistentVolumeClaims, "bound", in: "default") == "Lost" })
        }
    }
}
