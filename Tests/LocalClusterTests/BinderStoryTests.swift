// The binder's story end to end, as an external provisioner sees it over HTTP (issue 3, part 4).

import LocalCluster
import Testing

@Suite("PV binder story")
struct BinderStoryTests {
    @Test func story_externalProvisionerClaimIsAnnotatedBoundReleasedAndLeftForTheProvisioner() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            _ = try await client.post("/apis/storage.k8s.io/v1/storageclasses", Fixtures.storageClass("nfs", provisioner: "example.com/nfs"))
            let start = cluster.resourceVersion
            let claims = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=20&resourceVersion=\(start)")
            let volumes = WatchReader.start(client, Fixtures.pvPath() + "?watch=true&timeoutSeconds=20&resourceVersion=\(start)")
            defer { claims.cancel(); volumes.cancel() }

            // 1. The claim gets both storage-provisioner annotations (and an event).
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            #expect(await claims.wait { state in
                state.events.contains { $0.eventObject.string(at: "metadata", "annotations", "volume.beta.kubernetes.io/storage-provisioner") == "example.com/nfs" }
            })
            let annotated = try await client.get(Fixtures.pvcPath("default", "data")).json()
            #expect(annotated[path: ["metadata", "annotations", "volume.kubernetes.io/storage-provisioner"]] == "example.com/nfs")
            #expect(await cluster.waitUntil { $0.list(.events, namespace: "default").contains { $0["reason"] == "ExternalProvisioning" } })

            // 2. The provisioner creates pvc-<uid> with a full claimRef.
            let uid = claim.string(at: "metadata", "uid") ?? ""
            let name = "pvc-\(uid)"
            let ref: JSONValue = ["kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": "default", "name": "data",
                                  "uid": .string(uid), "resourceVersion": .string(annotated.rv)]
            let created = try await client.post(Fixtures.pvPath(), Fixtures.volume(name, reclaimPolicy: "Delete", claimRef: ref,
                                                                                    provisionedBy: "example.com/nfs"))
            #expect(created.status == 201)
            let pvCreated = try created.json()

            // 3. The binding writes, in order: (no PV spec write) PV status Bound, claim spec, claim status.
            #expect(await claims.wait { $0.events.contains { $0.eventObject[path: ["status", "phase"]] == "Bound" } })
            // The two watches are separate streams: the PV's write comes first but its event
            // may reach this reader after the claim's.
            #expect(await volumes.wait { $0.events.contains { $0.eventObject[path: ["status", "phase"]] == "Bound" } })
            let afterCreate = Int64(pvCreated.rv) ?? 0
            let writes = (claims.events + volumes.events)
                .filter { (Int64($0.eventObject.rv) ?? 0) > afterCreate }
                .sorted { (Int64($0.eventObject.rv) ?? 0) < (Int64($1.eventObject.rv) ?? 0) }
            #expect(writes.count == 3)
            #expect(writes.first?.eventObject["kind"] == "PersistentVolume")
            #expect(writes.first?.eventObject[path: ["status", "phase"]] == "Bound")
            #expect(writes.first?.eventObject[path: ["metadata", "annotations", "pv.kubernetes.io/bound-by-controller"]] == nil)
            #expect(writes.dropFirst().first?.eventObject[path: ["spec", "volumeName"]] == .string(name))
            #expect(writes.dropFirst().first?.eventObject[path: ["status", "phase"]] == "Pending")
            #expect(writes.last?.eventObject[path: ["status", "phase"]] == "Bound")
            #expect(volumes.events.allSatisfy { $0.eventObject[path: ["status", "phase"]] != "Available" })

            // 4. The claim is deleted: the PV is Released and left alone (Delete, external provisioner).
            _ = try await client.delete(Fixtures.pvcPath("default", "data"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: name)?.string(at: "status", "phase") == "Released" })
            cluster.syncControllers()
            cluster.syncControllers()
            let released = try #require(cluster.get(.persistentVolumes, name: name))
            #expect(released[path: ["status", "phase"]] == "Released")
            #expect(released[path: ["metadata", "deletionTimestamp"]] == nil)
            #expect(released[path: ["spec", "claimRef", "uid"]] == .string(uid))

            // 5. The provisioner deletes the PV: pv-protection lets it go (not Bound).
            _ = try await client.delete(Fixtures.pvPath(name))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: name) == nil })

            // 6. A Retain volume stays Released.
            let retained = try await client.post(Fixtures.pvcPath(), Fixtures.claim("keep")).json()
            let keepName = "pvc-\(retained.string(at: "metadata", "uid") ?? "")"
            let keepRef: JSONValue = ["kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": "default", "name": "keep",
                                      "uid": retained[path: ["metadata", "uid"]] ?? ""]
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume(keepName, reclaimPolicy: "Retain", claimRef: keepRef,
                                                                          provisionedBy: "example.com/nfs"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: keepName)?.string(at: "status", "phase") == "Bound" })
            _ = try await client.delete(Fixtures.pvcPath("default", "keep"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: keepName)?.string(at: "status", "phase") == "Released" })
            cluster.syncControllers()
            #expect(cluster.get(.persistentVolumes, name: keepName)?.string(at: "status", "phase") == "Released")
        }
    }
}
