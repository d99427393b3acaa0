// Items 19-24 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// finalizer-driven deletion, DELETE responses, options, protection.

import LocalCluster
import Testing

@Suite("Delete (items 19-24)")
struct DeleteTests {
    @Test func item19_deleteWithFinalizersMarksTheObjectAndEmitsModified() async throws {
        try await Fixtures.withCluster { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            #expect(claim[path: ["metadata", "finalizers"]] == ["kubernetes.io/pvc-protection"])
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&resourceVersion=\(claim.rv)&timeoutSeconds=10")
            defer { watch.cancel() }
            #expect(await watch.wait { $0.status == 200 })

            let response = try await client.delete(Fixtures.pvcPath("default", "data"))
            #expect(response.status == 200)
            let terminating = try response.json()
            #expect(terminating["kind"] == "PersistentVolumeClaim")
            #expect(terminating[path: ["metadata", "deletionTimestamp"]] != nil)
            #expect(terminating[path: ["metadata", "deletionGracePeriodSeconds"]] == 0)
            #expect(Int64(terminating.rv) ?? 0 > Int64(claim.rv) ?? 0)
            let events = await watch.waitForEvents(1)
            #expect(events.first?.eventType == "MODIFIED")
            #expect(events.first?.eventObject.rv == terminating.rv)
            #expect(try await client.get(Fixtures.pvcPath("default", "data")).status == 200)

            // A second DELETE changes nothing.
            let again = try await client.delete(Fixtures.pvcPath("default", "data")).json()
            #expect(again.rv == terminating.rv)
        }
    }

    @Test func item20_emptyingTheFinalizersOfATerminatingObjectDeletesIt() async throws {
        try await Fixtures.withCluster { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let terminating = try await client.delete(Fixtures.pvcPath("default", "data")).json()
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&resourceVersion=\(terminating.rv)&timeoutSeconds=10")
            defer { watch.cancel() }
            #expect(await watch.wait { $0.status == 200 })

            var emptied = terminating
            emptied[path: ["metadata", "finalizers"]] = []
            let response = try await client.put(Fixtures.pvcPath("default", "data"), emptied)
            #expect(response.status == 200)
            let events = await watch.waitForEvents(1)
            #expect(events.first?.eventType == "DELETED")
            #expect(try await client.get(Fixtures.pvcPath("default", "data")).status == 404)
            #expect(claim.name == "data")
        }
    }

    @Test func item21_deleteAnswersWithTheObjectForVolumesAndAStatusForLeases() async throws {
        try await Fixtures.withCluster { _, client in
            var volume = Fixtures.volume("pv1")
            volume[path: ["metadata", "finalizers"]] = []
            _ = try await client.post(Fixtures.pvPath(), volume)
            // The admission plugin added pv-protection: the response is the terminating PV.
            let terminating = try await client.delete(Fixtures.pvPath("pv1")).json()
            #expect(terminating["kind"] == "PersistentVolume")
            #expect(terminating[path: ["metadata", "deletionTimestamp"]] != nil)

            let lease = try await client.post(Fixtures.leasePath(), Fixtures.lease("lock")).json()
            let status = try await client.delete(Fixtures.leasePath("default", "lock"))
            #expect(status.status == 200)
            let expected: JSONValue = [
                "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success",
                "details": ["name": "lock", "group": "coordination.k8s.io", "kind": "leases",
                            "uid": .string(lease.string(at: "metadata", "uid") ?? "")],
            ]
            #expect(try status.json() == expected)

            _ = try await client.post("/api/v1/namespaces/default/events", Fixtures.coreEvent("e1"))
            let eventStatus = try await client.delete("/api/v1/namespaces/default/events/e1").json()
            #expect(eventStatus["status"] == "Success")
            #expect(eventStatus[path: ["details", "kind"]] == "events")
        }
    }

    @Test func item21_deleteOfAClaimWithoutFinalizersReturnsItsLastState() async throws {
        try await Fixtures.withCluster(configure: { $0.addsProtectionFinalizers = false }) { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let response = try await client.delete(Fixtures.pvcPath("default", "data")).json()
            #expect(response["kind"] == "PersistentVolumeClaim")
            #expect(response.name == "data")
            #expect(Int64(response.rv) == (Int64(claim.rv) ?? 0) + 1)
        }
    }

    @Test func item22_preconditionsInTheBodyAreCheckedAndQueryOptionsAccepted() async throws {
        try await Fixtures.withCluster(configure: { $0.addsProtectionFinalizers = false }) { _, client in
            let volume = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv1")).json()
            let uid = volume.string(at: "metadata", "uid") ?? ""
            let wrongUID = try await client.delete(Fixtures.pvPath("pv1"), [
                "kind": "DeleteOptions", "apiVersion": "v1", "preconditions": ["uid": "other"],
            ])
            #expect(wrongUID.status == 409)
            #expect(try wrongUID.reason() == "Conflict")
            #expect(try wrongUID.message() == "Operation cannot be fulfilled on PersistentVolume \"pv1\": the UID in the precondition (other) does not match the UID in record (\(uid)). The object might have been deleted and then recreated")
            #expect(try wrongUID.json()[path: ["details", "kind"]] == "PersistentVolume")

            let wrongVersion = try await client.delete(Fixtures.pvPath("pv1"), ["preconditions": ["resourceVersion": "1"]])
            #expect(wrongVersion.status == 409)
            #expect(try wrongVersion.message().contains("the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (\(volume.rv)). The object might have been modified"))

            let matching = try await client.delete(Fixtures.pvPath("pv1"), ["preconditions": ["uid": .string(uid), "resourceVersion": .string(volume.rv)]])
            #expect(matching.status == 200)

            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv2"))
            #expect(try await client.request(.DELETE, Fixtures.pvPath("pv2") + "?propagationPolicy=Background").status == 200)
            #expect(try await client.get(Fixtures.pvPath("pv2")).status == 404)
            #expect(try await client.request(.DELETE, Fixtures.pvPath("pv2") + "?propagationPolicy=Background").status == 404)
        }
    }

    @Test func item23_onlyBackgroundPropagationIsAccepted() async throws {
        try await Fixtures.withCluster { _, client in
            _ = try await client.post(Fixtures.leasePath(), Fixtures.lease("lock"))
            for policy in ["Foreground", "Orphan"] {
                let response = try await client.delete(Fixtures.leasePath("default", "lock"), ["propagationPolicy": .string(policy)])
                #expect(response.status == 422)
                #expect(try response.message() == "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"\(policy)\": supported values: \"Background\"")
            }
            #expect(try await client.get(Fixtures.leasePath("default", "lock")).status == 200)
            #expect(try await client.delete(Fixtures.leasePath("default", "lock"), ["propagationPolicy": "Background"]).status == 200)
        }
    }

    @Test func item24_protectionFinalizersAreAddedAndRemovedByTheControllers() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", className: "")).json()
            #expect(claim[path: ["metadata", "finalizers"]] == ["kubernetes.io/pvc-protection"])
            let volume = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv1", className: "slow")).json()
            #expect(volume[path: ["metadata", "finalizers"]] == ["kubernetes.io/pv-protection"])

            // A claim in use keeps its finalizer; once unused it goes.
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("used", className: ""))
            cluster.setClaimInUse(namespace: "default", claim: "used", true)
            _ = try await client.delete(Fixtures.pvcPath("default", "used"))
            _ = try await client.delete(Fixtures.pvcPath("default", "data"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumeClaims, namespace: "default", name: "data") == nil })
            cluster.syncControllers()
            #expect(cluster.get(.persistentVolumeClaims, namespace: "default", name: "used")?.isTerminatingForTest == true)
            cluster.setClaimInUse(namespace: "default", claim: "used", false)
            #expect(await cluster.waitUntil { $0.get(.persistentVolumeClaims, namespace: "default", name: "used") == nil })

            // A PV that is not Bound loses pv-protection once deleted.
            _ = try await client.delete(Fixtures.pvPath("pv1"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: "pv1") == nil })
        }
    }

    @Test func item24_aBoundVolumeKeepsItsProtectionFinalizer() async throws {
        try await Fixtures.withCluster(controllers: true) { cluster, client in
            _ = try await client.post("/apis/storage.k8s.io/v1/storageclasses", Fixtures.storageClass("manual", provisioner: "kubernetes.io/no-provisioner"))
            _ = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv1", className: "manual"))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", className: "manual"))
            #expect(await cluster.waitUntil { $0.get(.persistentVolumes, name: "pv1")?.string(at: "status", "phase") == "Bound" })
            _ = try await client.delete(Fixtures.pvPath("pv1"))
            cluster.syncControllers()
            let volume = try #require(cluster.get(.persistentVolumes, name: "pv1"))
            #expect(volume.isTerminatingForTest)
            #expect(volume[path: ["metadata", "finalizers"]] == ["kubernetes.io/pv-protection"])
        }
    }
}

extension JSONValue {
    var isTerminatingForTest: Bool { self[path: ["metadata", "deletionTimestamp"]] != nil }
}
