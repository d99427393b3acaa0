// Items 40-46 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// the PV binder and its story with an external provisioner.

@testable import LocalCluster
import Testing

@Suite("PV binder (items 40-46)")
struct BinderTests {
    static let classes = "/apis/storage.k8s.io/v1/storageclasses"

    /// Events recorded about an object, by reason.
    static func eventReasons(_ cluster: LocalCluster, namespace: String = "default", about name: String) -> [String] {
        cluster.list(.events, namespace: namespace)
            .filter { $0.string(at: "involvedObject", "name") == name }
            .compactMap { $0["reason"]?.stringValue }
    }

    @Test func item40_externalClassGetsBothProvisionerAnnotationsAndAnEvent() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            _ = try await client.post(Self.classes, Fixtures.storageClass("nfs", provisioner: "example.com/nfs"))
            let created = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10&resourceVersion=\(created.rv)")
            defer { watch.cancel() }
            let events = await watch.waitForEvents(1)
            let annotations = events.first?.eventObject[path: ["metadata", "annotations"]]
            // One write carries both keys.
            #expect(annotations?["volume.kubernetes.io/storage-provisioner"] == "example.com/nfs")
            #expect(annotations?["volume.beta.kubernetes.io/storage-provisioner"] == "example.com/nfs")
            #expect(await cluster.waitUntil { Self.eventReasons($0, about: "data").contains("ExternalProvisioning") })
            let event = try #require(cluster.list(.events, namespace: "default").first { $0["reason"] == "ExternalProvisioning" })
            #expect(event["type"] == "Normal")
            #expect(event["message"] == "Waiting for a volume to be created either by the external provisioner 'example.com/nfs' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
            #expect(event[path: ["involvedObject", "uid"]] == created[path: ["metadata", "uid"]])
            #expect(event[path: ["source", "component"]] == "persistentvolume-controller")
        }
    }

    @Test func item40_aMissingClassIsProvisioningFailedWithoutAnnotations() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", className: "ghost"))
            #expect(await cluster.waitUntil { Self.eventReasons($0, about: "data").contains("ProvisioningFailed") })
            let event = try #require(cluster.list(.events, namespace: "default").first { $0["reason"] == "ProvisioningFailed" })
            #expect(event["type"] == "Warning")
            #expect(event["message"] == "storageclass.storage.k8s.io \"ghost\" not found")
            cluster.syncControllers()
            let claim = try #require(cluster.get(.persistentVolumeClaims, namespace: "default", name: "data"))
            #expect(claim[path: ["metadata", "annotations"]] == nil)
        }
    }

    @Test func item41_waitForFirstConsumerWaitsForTheSchedulerHook() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            _ = try await client.post(Self.classes, Fixtures.storageClass("nfs", bindingMode: "WaitForFirstConsumer"))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data"))
            #expect(await cluster.waitUntil { Self.eventReasons($0, about: "data").contains("WaitForFirstConsumer") })
            cluster.syncControllers()
            let waiting = try #require(cluster.get(.persistentVolumeClaims, namespace: "default", name: "data"))
            #expect(waiting[path: ["metadata", "annotations"]] == nil)
            #expect(waiting[path: ["status", "phase"]] == "Pending")

            let selected = try cluster.selectNode(namespace: "default", claim: "data", node: "node-1")
            #expect(selected[path: ["metadata", "annotations", "volume.kubernetes.io/selected-node"]] == "node-1")
            #expect(await cluster.waitUntil {
                $0.get(.persistentVolumeClaims, namespace: "default", name: "data")?
                    .string(at: "metadata", "annotations", "volume.kubernetes.io/storage-provisioner") == "example.com/nfs"
            })
        }
    }

    @Test func item42_aPreBoundStaticVolumeIsBoundWithFourWritesInOrder() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            // Pre-bound by name only (no uid): the controller completes claimRef (write 1).
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv1", className: "manual",
                                                                          claimRef: ["namespace": "default", "name": "data"]))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: "pv1")?.string(at: "status", "phase") == "Available" })
            let start = cluster.resourceVersion
            let volumes = WatchReader.start(client, Fixtures.pvPath() + "?watch=true&timeoutSeconds=10&resourceVersion=\(start)")
            let claims = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10&resourceVersion=\(start)")
            defer { volumes.cancel(); claims.cancel() }
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", className: "manual")).json()
            #expect(await claims.wait { $0.events.count >= 3 })
            #expect(await volumes.wait { $0.events.count >= 2 })
            let writes = (volumes.events + claims.events).sorted { (Int64($0.eventObject.rv) ?? 0) < (Int64($1.eventObject.rv) ?? 0) }
            #expect(writes.count == 5)
            #expect(writes[0].eventType == "ADDED" && writes[0].eventObject["kind"] == "PersistentVolumeClaim")
            // 1. PV spec: claimRef with uid; no bound-by-controller (the user pre-bound it).
            #expect(writes[1].eventObject["kind"] == "PersistentVolume")
            #expect(writes[1].eventObject[path: ["spec", "claimRef", "uid"]] == claim[path: ["metadata", "uid"]])
            #expect(writes[1].eventObject[path: ["status", "phase"]] == "Available")
            // 2. PV status Bound.
            #expect(writes[2].eventObject["kind"] == "PersistentVolume")
            #expect(writes[2].eventObject[path: ["status", "phase"]] == "Bound")
            // 3. PVC spec volumeName + annotations.
            #expect(writes[3].eventObject[path: ["spec", "volumeName"]] == "pv1")
            #expect(writes[3].eventObject[path: ["metadata", "annotations", "pv.kubernetes.io/bind-completed"]] == "yes")
            #expect(writes[3].eventObject[path: ["metadata", "annotations", "pv.kubernetes.io/bound-by-controller"]] == "yes")
            #expect(writes[3].eventObject[path: ["status", "phase"]] == "Pending")
            // 4. PVC status Bound with the PV's access modes and capacity.
            #expect(writes[4].eventObject[path: ["status", "phase"]] == "Bound")
            #expect(writes[4].eventObject[path: ["status", "capacity", "storage"]] == "1Gi")
            #expect(writes[4].eventObject[path: ["status", "accessModes"]] == ["ReadWriteOnce"])
        }
    }

    @Test func item43_onlyBigEnoughCompatibleVolumesAreChosenComparingQuantitiesSemantically() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("small", storage: "1Gi", className: "manual"))
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("exact", storage: "2048Mi", className: "manual"))
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("large", storage: "5Gi", className: "manual"))
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("rwx", storage: "2Gi", className: "manual",
                                                                          accessModes: ["ReadWriteMany"]))
            var block = Fixtures.volume("block", storage: "2Gi", className: "manual")
            block[path: ["spec", "volumeMode"]] = "Block"
            _ = try await client.post(Fixtures.pvPath(), block)
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("other-class", storage: "2Gi", className: "fast"))
            #expect(await cluster.waitUntil { c in
                ["small", "exact", "large", "rwx", "block", "other-class"].allSatisfy {
                    c.get(.persistentVolumes, name: $0)?.string(at: "status", "phase") == "Available"
                }
            })
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", storage: "2147483648", className: "manual",
                                                                          accessModes: ["ReadWriteMany"]))
            #expect(await cluster.waitUntil {
                $0.get(.persistentVolumeClaims, namespace: "default", name: "data")?.string(at: "status", "phase") == "Bound"
            })
            let claim = try #require(cluster.get(.persistentVolumeClaims, namespace: "default", name: "data"))
            #expect(claim[path: ["spec", "volumeName"]] == "rwx")
            // Written back in canonical form: a plain number stays decimal.
            #expect(claim[path: ["spec", "resources", "requests", "storage"]] == "2147483648")

            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("second", storage: "2Gi", className: "manual"))
            #expect(await cluster.waitUntil {
                $0.get(.persistentVolumeClaims, namespace: "default", name: "second")?.string(at: "spec", "volumeName") == "exact"
            })
        }
    }

    @Test func item43_aProvisionedVolumeNeverPassesThroughAvailable() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            _ = try await client.post(Self.classes, Fixtures.storageClass())
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let volumes = WatchReader.start(client, Fixtures.pvPath() + "?watch=true&timeoutSeconds=10&resourceVersion=\(claim.rv)")
            defer { volumes.cancel() }
            let ref: JSONValue = ["kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": "default", "name": "data",
                                  "uid": claim[path: ["metadata", "uid"]] ?? "", "resourceVersion": .string(claim.rv)]
            let name = "pvc-\(claim.string(at: "metadata", "uid") ?? "")"
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume(name, claimRef: ref, provisionedBy: "example.com/nfs"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: name)?.string(at: "status", "phase") == "Bound" })
            #expect(await volumes.wait { $0.events.contains { $0.eventObject[path: ["status", "phase"]] == "Bound" } })
            #expect(!volumes.events.contains { $0.eventObject[path: ["status", "phase"]] == "Available" })
        }
    }

    @Test func item44_claimDeletionReleasesAndTheReclaimPolicyDecidesTheRest() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("static-delete", className: "manual", reclaimPolicy: "Delete"))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", className: "manual"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: "static-delete")?.string(at: "status", "phase") == "Bound" })
            _ = try await client.delete(Fixtures.pvcPath("default", "data"))
            // A static Delete volume without an external provisioner: no plugin can delete it.
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: "static-delete")?.string(at: "status", "phase") == "Failed" })
            #expect(await cluster.waitUntil { Self.eventReasons($0, about: "static-delete").contains("VolumeFailedDelete") })

            // A re-created claim of the same name (new uid) does not own the old volume.
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("kept", className: "manual", reclaimPolicy: "Retain"))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("again", className: "manual"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: "kept")?.string(at: "status", "phase") == "Bound" })
            cluster.setClaimInUse(namespace: "default", claim: "again", false)
            _ = try await client.delete(Fixtures.pvcPath("default", "again"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumeClaims, namespace: "default", name: "again") == nil })
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("again", className: "other"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: "kept")?.string(at: "status", "phase") == "Released" })
            cluster.syncControllers()
            #expect(cluster.get(.persistentVolumes, name: "kept")?.string(at: "status", "phase") == "Released")
        }
    }

    @Test func item45_lostClaimsAvailableStaticVolumesAndPeriodicResync() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv1", className: "manual"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: "pv1")?.string(at: "status", "phase") == "Available" })
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", className: "manual"))
            #expect(await cluster.waitUntil {
                $0.get(.persistentVolumeClaims, namespace: "default", name: "data")?.string(at: "status", "phase") == "Bound"
            })
            // The PV disappears (finalizer removed by hand): the claim is Lost.
            var volume = try #require(cluster.get(.persistentVolumes, name: "pv1"))
            volume[path: ["metadata", "finalizers"]] = []
            try cluster.update(volume)
            _ = try await client.delete(Fixtures.pvPath("pv1"))
            #expect(await cluster.waitUntil {
                $0.get(.persistentVolumeClaims, namespace: "default", name: "data")?.string(at: "status", "phase") == "Lost"
            })
            #expect(await cluster.waitUntil { Self.eventReasons($0, about: "data").contains("ClaimLost") })

            // Periodic resync: a pending WFFC claim's event is repeated (count grows) without writes.
            _ = try await client.post(Self.classes, Fixtures.storageClass("wait", bindingMode: "WaitForFirstConsumer"))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("later", className: "wait"))
            #expect(await cluster.waitUntil {
                $0.list(.events, namespace: "default").contains { $0["reason"] == "WaitForFirstConsumer" && ($0["count"]?.intValue ?? 0) >= 2 }
            })
        }
    }

    @Test func item45_aConflictingBinderWriteIsRetriedOnTheNextPass() async throws {
        try await Fixtures.withCluster { cluster, _ in
            let volume = try cluster.create(Fixtures.volume("pv1", className: "manual"))
            let claim = try cluster.create(Fixtures.claim("data", className: "manual"))
            // A client changes the claim after the controller read it: its claim write is a 409.
            try cluster.mergePatch(.persistentVolumeClaims, namespace: "default", name: "data", ["metadata": ["labels": ["a": "b"]]])
            #expect {
                try cluster.controller.bind(volume, claim)
            } throws: { error in
                (error as? APIStatus)?.reason == "Conflict"
            }
            #expect(cluster.get(.persistentVolumes, name: "pv1")?.string(at: "status", "phase") == "Bound")
            #expect(cluster.get(.persistentVolumeClaims, namespace: "default", name: "data")?.string(at: "spec", "volumeName") == nil)
            cluster.syncControllers()
            let bound = try #require(cluster.get(.persistentVolumeClaims, namespace: "default", name: "data"))
            #expect(bound[path: ["spec", "volumeName"]] == "pv1")
            #expect(bound[path: ["status", "phase"]] == "Bound")
            #expect(bound[path: ["metadata", "labels", "a"]] == "b")
        }
    }

    @Test func item46_theBinderToleratesAClientWritingConcurrently() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            for index in 0..<8 {
                _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv\(index)", className: "manual"))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c\(index)", className: "manual"))
                        // Unconditional label writes racing the controller's conditional ones.
                        for round in 0..<5 {
                            _ = try await client.mergePatch(Fixtures.pvcPath("default", "c\(index)"),
                                                            ["metadata": ["labels": ["round": .string("\(round)")]]])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await cluster.waitUntil { c in
                c.list(.persistentVolumeClaims, namespace: "default").allSatisfy { $0.string(at: "status", "phase") == "Bound" }
            })
            let claims = cluster.list(.persistentVolumeClaims, namespace: "default")
            #expect(claims.count == 8)
            #expect(Set(claims.compactMap { $0.string(at: "spec", "volumeName") }).count == 8)
            #expect(claims.allSatisfy { $0[path: ["metadata", "labels", "round"]] == "4" })
        }
    }
}
