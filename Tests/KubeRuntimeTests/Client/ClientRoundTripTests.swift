import Engine
import KubeRuntime
import VolumeStorage
import LocalCluster
import TestSupport
import Testing

/// create/get/list/update/status/merge-patch/delete-with-preconditions for every model
/// against LocalCluster.
@Suite struct ClientRoundTripTests {
    @Test func persistentVolumeClaim_roundTrips() async throws {
        try await withKubeCluster(configure: { $0.runsControllers = false }) { h in
            let client = h.client
            var claim = try await client.create(PersistentVolumeClaim(
                metadata: ObjectMeta(name: "data", namespace: "default", labels: ["app": "x"]),
                spec: .init(accessModes: ["ReadWriteOnce"], resources: .init(requests: ["storage": "1Gi"]), storageClassName: "nfs")))
            #expect(!claim.metadata.uid.isEmpty)
            #expect(claim.metadata.creationTimestamp != nil)
            #expect(claim.status?.phase == "Pending")
            #expect(claim.spec?.volumeMode == "Filesystem")
            #expect(claim.metadata.finalizers == ["kubernetes.io/pvc-protection"])
            #expect(try await client.get(PersistentVolumeClaim.self, name: "data", namespace: "default") == claim)
            let listed = try await client.list(PersistentVolumeClaim.self, options: ListOptions(labelSelector: "app=x"))
            #expect(listed.items.map(\.metadata.name) == ["data"])

            claim.metadata.annotations["note"] = "put"
            claim = try await client.update(claim)
            #expect(claim.metadata.annotations["note"] == "put")

            claim.status = .init(phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: ["storage": "1Gi"])
            claim = try await client.updateStatus(claim)
            #expect(claim.status?.phase == "Bound")

            claim = try await client.mergePatch(PersistentVolumeClaim.self, name: "data", namespace: "default",
                                                patch: .object(["metadata": .object(["labels": .object(["app": .null, "b": .string("2")])])]),
                                                resourceVersion: claim.metadata.resourceVersion)
            #expect(claim.metadata.labels == ["b": "2"])

            await #expect(throws: KubeError.self) {
                try await client.delete(PersistentVolumeClaim.self, name: "data", namespace: "default",
                                        options: DeleteOptions(preconditions: .init(uid: "wrong")))
            }
            guard case .pendingFinalizers(let terminating) = try await client.delete(
                PersistentVolumeClaim.self, name: "data", namespace: "default",
                options: DeleteOptions(preconditions: .init(uid: claim.metadata.uid), propagationPolicy: "Background"))
            else {
                Issue.record("the protection finalizer should hold the claim")
                return
            }
            #expect(terminating.metadata.isTerminating)
            let gone = try await client.modify(PersistentVolumeClaim.self, name: "data", namespace: "default") { $0.metadata.finalizers = [] }
            #expect(gone.metadata.name == "data")
            guard case .notFound = try await client.delete(PersistentVolumeClaim.self, name: "data", namespace: "default") else {
                Issue.record("expected notFound")
                return
            }
        }
    }

    @Test func persistentVolume_roundTrips() async throws {
        try await withKubeCluster(configure: { $0.runsControllers = false; $0.addsProtectionFinalizers = false }) { h in
            let client = h.client
            var volume = try await client.create(PersistentVolume(
                metadata: ObjectMeta(name: "pvc-0f3c9a3e-1b2c-4d5e-8f90-123456789abc",
                                     annotations: ["pv.kubernetes.io/provisioned-by": "example.com/nfs"]),
                spec: .init(capacity: ["storage": "1Gi"], accessModes: ["ReadWriteMany"], persistentVolumeReclaimPolicy: "Delete",
                            storageClassName: "nfs", mountOptions: ["vers=4.1"],
                            claimRef: ObjectReference(kind: "PersistentVolumeClaim", namespace: "default", name: "data", uid: "u-1"),
                            nfs: NFSVolumeSource(server: "10.0.0.1", path: "/export/x"))))
            #expect(volume.spec?.claimRef?.uid == "u-1")
            #expect(volume.status?.phase == "Pending")
            let (again, created) = try await client.createOrGetExisting(volume)
            #expect(!created)
            #expect(again.metadata.uid == volume.metadata.uid)
            #expect(try await client.listAll(PersistentVolume.self).items.count == 1)
            volume.spec?.mountOptions = ["vers=4.2"]
            volume = try await client.update(volume)
            volume.status = .init(phase: "Released", message: "claim gone")
            volume = try await client.updateStatus(volume)
            #expect(volume.status?.phase == "Released")
            #expect(volume.spec?.mountOptions == ["vers=4.2"])
            volume = try await client.modify(PersistentVolume.self, name: volume.metadata.name) { $0.metadata.labels["x"] = "y" }
            guard case .deleted(let last?) = try await client.delete(
                PersistentVolume.self, name: volume.metadata.name,
                options: DeleteOptions(preconditions: .init(uid: volume.metadata.uid, resourceVersion: volume.metadata.resourceVersion)))
            else {
                Issue.record("expected deleted")
                return
            }
            #expect(last.metadata.labels["x"] == "y")
        }
    }

    @Test func storageClass_roundTrips() async throws {
        try await withKubeCluster { h in
            let client = h.client
            var storageClass = try await client.create(StorageClass(
                metadata: ObjectMeta(name: "nfs"), provisioner: "example.com/nfs", parameters: ["onDelete": "retain"],
                mountOptions: ["hard"], volumeBindingMode: "WaitForFirstConsumer"))
            #expect(storageClass.reclaimPolicy == "Delete")
            storageClass.allowVolumeExpansion = true
            storageClass = try await client.update(storageClass)
            storageClass = try await client.modify(StorageClass.self, name: "nfs") { $0.metadata.annotations["a"] = "b" }
            #expect(storageClass.allowVolumeExpansion == true)
            #expect(try await client.get(StorageClass.self, name: "nfs").metadata.annotations == ["a": "b"])
            guard case .deleted = try await client.delete(StorageClass.self, name: "nfs",
                                                          options: DeleteOptions(preconditions: .init(uid: storageClass.metadata.uid)))
            else {
                Issue.record("expected deleted")
                return
            }
        }
    }

    @Test func lease_roundTrips_withMicroTimes() async throws {
        try await withKubeCluster { h in
            let client = h.client
            let now = MicroTime(microsecondsSinceEpoch: 1_714_564_805_123_456)
            var lease = try await client.create(Lease(
                metadata: ObjectMeta(name: "nfs-provisioner", namespace: "default"),
                spec: .init(holderIdentity: "pod-1", leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0)))
            #expect(lease.spec?.renewTime == now)
            lease.spec?.holderIdentity = ""
            lease.spec?.leaseDurationSeconds = 1
            lease = try await client.update(lease)
            #expect(lease.spec?.holderIdentity == "")
            let stored = try #require(h.cluster.get(.leases, namespace: "default", name: "nfs-provisioner"))
            #expect(stored["spec"]?["renewTime"]?.stringValue == "2024-05-01T12:00:05.123456Z")
            #expect(try await client.list(Lease.self, namespace: "default").items.count == 1)
            lease = try await client.mergePatch(Lease.self, name: "nfs-provisioner", namespace: "default",
                                                patch: .object(["spec": .object(["leaseTransitions": .int(1)])]))
            #expect(lease.spec?.leaseTransitions == 1)
            guard case .deleted(nil) = try await client.delete(Lease.self, name: "nfs-provisioner", namespace: "default",
                                                               options: DeleteOptions(preconditions: .init(resourceVersion: lease.metadata.resourceVersion)))
            else {
                Issue.record("a Lease delete answers with a Status")
                return
            }
        }
    }

    @Test func event_roundTrips() async throws {
        try await withKubeCluster { h in
            let client = h.client
            let event = try await client.create(Event(
                metadata: ObjectMeta(generateName: "data-", namespace: "default"),
                involvedObject: ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: "default", name: "data", uid: "u-1"),
                reason: "Provisioning", message: "placing", type: "Normal", source: EventSource(component: "nfs-provisioner"),
                reportingComponent: "nfs-provisioner", reportingInstance: "pod-1",
                firstTimestamp: KubeTime(rfc3339: "2024-05-01T12:00:00Z"), lastTimestamp: KubeTime(rfc3339: "2024-05-01T12:00:00Z"), count: 1))
            #expect(event.metadata.name.hasPrefix("data-"))
            let bumped = try await client.modify(Event.self, name: event.metadata.name, namespace: "default") { $0.count = 2 }
            #expect(bumped.count == 2)
            #expect(try await client.list(Event.self, namespace: "default").items.map(\.reason) == ["Provisioning"])
            guard case .deleted = try await client.delete(Event.self, name: event.metadata.name, namespace: "default",
                                                          options: DeleteOptions(preconditions: .init(uid: event.metadata.uid)))
            else {
                Issue.record("expected deleted")
                return
            }
        }
    }
}
