// Items 12-18 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// optimistic concurrency, 404s, status/spec separation, defaults, immutability.

import LocalCluster
import Testing

@Suite("Update (items 12-18)")
struct UpdateTests {
    @Test func item12_stalePutIs409ConflictWithTheExactMessage() async throws {
        try await Fixtures.withCluster { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            var first = claim
            first[path: ["metadata", "labels"]] = ["a": "1"]
            #expect(try await client.put(Fixtures.pvcPath("default", "data"), first).status == 200)
            var stale = claim
            stale[path: ["metadata", "labels"]] = ["a": "2"]
            let response = try await client.put(Fixtures.pvcPath("default", "data"), stale)
            #expect(response.status == 409)
            let expected: JSONValue = [
                "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                "message": "Operation cannot be fulfilled on persistentvolumeclaims \"data\": the object has been modified; please apply your changes to the latest version and try again",
                "reason": "Conflict", "details": ["name": "data", "kind": "persistentvolumeclaims"], "code": 409,
            ]
            #expect(try response.json() == expected)

            let lease = try await client.post(Fixtures.leasePath(), Fixtures.lease("lock")).json()
            var staleLease = lease
            staleLease[path: ["metadata", "resourceVersion"]] = "1"
            let leaseConflict = try await client.put(Fixtures.leasePath("default", "lock"), staleLease).json()
            #expect(leaseConflict["message"]?.stringValue?.hasPrefix("Operation cannot be fulfilled on leases.coordination.k8s.io \"lock\"") == true)
            #expect(leaseConflict[path: ["details", "group"]] == "coordination.k8s.io")
        }
    }

    @Test func item13_resourceVersionLessPutIsUnconditionalOnlyForVolumesAndClaims() async throws {
        try await Fixtures.withCluster { _, client in
            var claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            claim[path: ["metadata", "resourceVersion"]] = nil
            claim[path: ["metadata", "labels"]] = ["a": "b"]
            let updated = try await client.put(Fixtures.pvcPath("default", "data"), claim)
            #expect(updated.status == 200)
            #expect(try updated.json()[path: ["metadata", "labels", "a"]] == "b")

            var lease = try await client.post(Fixtures.leasePath(), Fixtures.lease("lock")).json()
            lease[path: ["metadata", "resourceVersion"]] = nil
            let rejected = try await client.put(Fixtures.leasePath("default", "lock"), lease)
            #expect(rejected.status == 422)
            #expect(try rejected.message() == "Lease.coordination.k8s.io \"lock\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update")
        }
    }

    @Test func item14_missingObjectsAre404ForEveryVerb() async throws {
        try await Fixtures.withCluster { _, client in
            let path = Fixtures.pvcPath("default", "ghost")
            let responses = [
                try await client.get(path),
                try await client.put(path, Fixtures.claim("ghost")),
                try await client.mergePatch(path, ["metadata": ["labels": ["a": "b"]]]),
                try await client.delete(path),
                try await client.put(Fixtures.pvPath("ghost"), Fixtures.volume("ghost")),
            ]
            for response in responses {
                #expect(response.status == 404)
                #expect(try response.reason() == "NotFound")
            }
            #expect(try responses[0].message() == "persistentvolumeclaims \"ghost\" not found")
            #expect(try responses[4].message() == "persistentvolumes \"ghost\" not found")
            #expect(try await client.get(Fixtures.pvcPath()).json()["items"] == [])
        }
    }

    @Test func item15_mainResourceIgnoresStatusAndStatusIgnoresSpec() async throws {
        try await Fixtures.withCluster { _, client in
            var volume = try await client.post(Fixtures.pvPath(), Fixtures.volume("pv1")).json()
            volume[path: ["status", "phase"]] = "Bound"
            volume[path: ["spec", "persistentVolumeReclaimPolicy"]] = "Retain"
            let main = try await client.put(Fixtures.pvPath("pv1"), volume).json()
            #expect(main[path: ["status", "phase"]] == "Pending")
            #expect(main[path: ["spec", "persistentVolumeReclaimPolicy"]] == "Retain")

            var statusWrite = main
            statusWrite[path: ["status", "phase"]] = "Available"
            statusWrite[path: ["spec", "persistentVolumeReclaimPolicy"]] = "Delete"
            statusWrite[path: ["metadata", "labels"]] = ["ignored": "yes"]
            let status = try await client.put(Fixtures.pvPath("pv1") + "/status", statusWrite).json()
            #expect(status[path: ["status", "phase"]] == "Available")
            #expect(status[path: ["spec", "persistentVolumeReclaimPolicy"]] == "Retain")
            #expect(status[path: ["metadata", "labels"]] == nil)

            var claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            claim[path: ["status", "phase"]] = "Bound"
            #expect(try await client.put(Fixtures.pvcPath("default", "data"), claim).json()[path: ["status", "phase"]] == "Pending")
            let patched = try await client.mergePatch(Fixtures.pvcPath("default", "data") + "/status",
                                                      ["status": ["phase": "Lost"], "spec": ["volumeName": "x"]]).json()
            #expect(patched[path: ["status", "phase"]] == "Lost")
            #expect(patched[path: ["spec", "volumeName"]] == nil)
            // Leases have no status subresource.
            #expect(try await client.get(Fixtures.leasePath("default", "x") + "/status").status == 404)
        }
    }

    @Test func item16_createClearsStatusAndAppliesDefaults() async throws {
        try await Fixtures.withCluster { _, client in
            var claim = Fixtures.claim("data")
            claim["status"] = ["phase": "Bound", "capacity": ["storage": "5Gi"]]
            let createdClaim = try await client.post(Fixtures.pvcPath(), claim).json()
            #expect(createdClaim["status"] == ["phase": "Pending"])
            #expect(createdClaim[path: ["spec", "volumeMode"]] == "Filesystem")

            var volume = Fixtures.volume("pv1")
            volume[path: ["spec", "persistentVolumeReclaimPolicy"]] = nil
            volume["status"] = ["phase": "Bound"]
            let createdVolume = try await client.post(Fixtures.pvPath(), volume).json()
            #expect(createdVolume[path: ["status", "phase"]] == "Pending")
            #expect(createdVolume[path: ["status", "lastPhaseTransitionTime"]] != nil)
            #expect(createdVolume[path: ["spec", "persistentVolumeReclaimPolicy"]] == "Retain")
            #expect(createdVolume[path: ["spec", "volumeMode"]] == "Filesystem")

            let storageClass = try await client.post("/apis/storage.k8s.io/v1/storageclasses", Fixtures.storageClass()).json()
            #expect(storageClass["reclaimPolicy"] == "Delete")
            #expect(storageClass["volumeBindingMode"] == "Immediate")
        }
    }

    @Test func item17_claimSpecIsImmutableExceptVolumeNameOnceAndGrowthWhenBound() async throws {
        try await Fixtures.withCluster { cluster, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let path = Fixtures.pvcPath("default", "data")
            let resize = try await client.mergePatch(path, ["spec": ["resources": ["requests": ["storage": "2Gi"]]]])
            #expect(resize.status == 422)
            #expect(try resize.json()[path: ["details", "causes"]]?.arrayValue?.first?["field"] == "spec")
            #expect(try resize.message().contains("spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
            #expect(try await client.mergePatch(path, ["spec": ["accessModes": ["ReadWriteMany"]]]).status == 422)

            let named = try await client.mergePatch(path, ["spec": ["volumeName": "pv1"]])
            #expect(named.status == 200)
            #expect(try await client.mergePatch(path, ["spec": ["volumeName": "pv2"]]).status == 422)

            // Bound: storage may grow, not shrink.
            _ = try cluster.mergePatch(.persistentVolumeClaims, namespace: "default", name: "data", ["status": ["phase": "Bound"]], status: true)
            #expect(try await client.mergePatch(path, ["spec": ["resources": ["requests": ["storage": "2Gi"]]]]).status == 200)
            #expect(try await client.mergePatch(path, ["spec": ["resources": ["requests": ["storage": "1Gi"]]]]).status == 422)
            #expect(claim.name == "data")
        }
    }

    @Test func item18_metadataIsImmutableAndNoFinalizersAreAddedWhileTerminating() async throws {
        try await Fixtures.withCluster { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let path = Fixtures.pvcPath("default", "data")
            var newUID = claim
            newUID[path: ["metadata", "uid"]] = "00000000-0000-0000-0000-000000000000"
            let uidChange = try await client.put(path, newUID)
            #expect(uidChange.status == 422)
            #expect(try uidChange.json()[path: ["details", "causes"]]?.arrayValue?.first?["field"] == "metadata.uid")

            // creationTimestamp changes are silently ignored.
            var newStamp = claim
            newStamp[path: ["metadata", "creationTimestamp"]] = "2001-01-01T00:00:00Z"
            newStamp[path: ["metadata", "labels"]] = ["a": "b"]
            let kept = try await client.put(path, newStamp).json()
            #expect(kept[path: ["metadata", "creationTimestamp"]] == claim[path: ["metadata", "creationTimestamp"]])

            // Renaming through PUT is a 400.
            var renamed = kept
            renamed[path: ["metadata", "name"]] = "other"
            #expect(try await client.put(path, renamed).status == 400)

            _ = try await client.delete(path)  // terminating: pvc-protection pending
            let terminating = try await client.get(path).json()
            let added = try await client.mergePatch(path, ["metadata": ["finalizers": ["kubernetes.io/pvc-protection", "example.com/new"]]])
            #expect(added.status == 422)
            #expect(try added.message().contains("metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/new\"}"))
            #expect(try await client.get(path).json().rv == terminating.rv)
        }
    }
}
