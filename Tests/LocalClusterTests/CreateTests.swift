// Items 6-11 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// create semantics, names.

@testable import LocalCluster
import Testing

@Suite("Create (items 6-11)")
struct CreateTests {
    @Test func item06_createIs201AndOtherVerbs200() async throws {
        try await Fixtures.withCluster { _, client in
            let created = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data"))
            #expect(created.status == 201)
            let path = Fixtures.pvcPath("default", "data")
            #expect(try await client.get(path).status == 200)
            #expect(try await client.put(path, try created.json()).status == 200)
            #expect(try await client.mergePatch(path, ["metadata": ["labels": ["a": "b"]]]).status == 200)
            #expect(try await client.delete(path).status == 200)
        }
    }

    @Test func item07_createWithAResourceVersionIsRejected() async throws {
        try await Fixtures.withCluster { cluster, client in
            var claim = Fixtures.claim("data")
            claim[path: ["metadata", "resourceVersion"]] = "5"
            let response = try await client.post(Fixtures.pvcPath(), claim)
            #expect(response.status == 500)
            #expect(try response.message() == "resourceVersion should not be set on objects to be created")
            #expect(cluster.get(.persistentVolumeClaims, namespace: "default", name: "data") == nil)
        }
    }

    @Test func item08_serverSetsUIDAndCreationTimestampIgnoringTheClient() async throws {
        try await Fixtures.withCluster { _, client in
            var claim = Fixtures.claim("data")
            claim[path: ["metadata", "uid"]] = "not-a-uuid"
            claim[path: ["metadata", "creationTimestamp"]] = "2001-01-01T00:00:00Z"
            let created = try await client.post(Fixtures.pvcPath(), claim).json()
            let uid = created.string(at: "metadata", "uid") ?? ""
            #expect(uid != "not-a-uuid")
            #expect(uid.count == 36 && uid.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
            let stamp = created.string(at: "metadata", "creationTimestamp") ?? ""
            #expect(stamp != "2001-01-01T00:00:00Z")
            #expect(stamp.count == 20 && stamp.hasSuffix("Z") && stamp.dropFirst(10).hasPrefix("T"))
        }
    }

    @Test func item09_duplicateNameIsAlreadyExistsWithTheExactMessage() async throws {
        try await Fixtures.withCluster { _, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data"))
            let again = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data"))
            #expect(again.status == 409)
            let status = try again.json()
            #expect(status["reason"] == "AlreadyExists")
            #expect(status["message"] == "persistentvolumeclaims \"data\" already exists")
            #expect(status[path: ["details", "kind"]] == "persistentvolumeclaims")
            #expect(status[path: ["details", "name"]] == "data")

            _ = try await client.post(Fixtures.leasePath(), Fixtures.lease("lock"))
            let lease = try await client.post(Fixtures.leasePath(), Fixtures.lease("lock")).json()
            #expect(lease["message"] == "leases.coordination.k8s.io \"lock\" already exists")
            #expect(lease[path: ["details", "group"]] == "coordination.k8s.io")

            // A terminating object (pvc-protection finalizer pending) says so.
            _ = try await client.delete(Fixtures.pvcPath("default", "data"))
            let terminating = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            #expect(terminating["message"] == "object is being deleted: persistentvolumeclaims \"data\" already exists")
        }
    }

    @Test func item10_generateNameAppendsFiveCharactersToAtMost58() async throws {
        try await Fixtures.withCluster { _, client in
            var claim = Fixtures.claim("")
            claim[path: ["metadata", "name"]] = nil
            claim[path: ["metadata", "generateName"]] = "data-"
            let created = try await client.post(Fixtures.pvcPath(), claim)
            #expect(created.status == 201)
            let name = try created.json().name
            #expect(name.hasPrefix("data-") && name.count == 10)
            #expect(name.dropFirst(5).allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })

            claim[path: ["metadata", "generateName"]] = .string(String(repeating: "a", count: 70))
            let long = try await client.post(Fixtures.pvcPath(), claim).json().name
            #expect(long.count == 63 && long.hasPrefix(String(repeating: "a", count: 58)))
        }
    }

    @Test func item10_generateNameCollisionsEndIn409WithRetryAfter() throws {
        let store = ObjectStore(historyLimit: 100)
        let registry = Registry(store: store, clock: { Timestamp(seconds: 0) }, addsProtectionFinalizers: false,
                                tooLargeResourceVersionWait: .zero, seed: 1, nameSuffix: { "xxxxx" })
        _ = try registry.create(.leases, namespace: "default", body: Fixtures.lease("lock-xxxxx"), dryRun: false)
        var lease = Fixtures.lease("")
        lease[path: ["metadata", "name"]] = nil
        lease[path: ["metadata", "generateName"]] = "lock-"
        #expect {
            try registry.create(.leases, namespace: "default", body: lease, dryRun: false)
        } throws: { error in
            guard let status = error as? APIStatus else { return false }
            return status.code == 409 && status.reason == "AlreadyExists" && status.retryAfterSeconds == 1
                && status.message == "leases.coordination.k8s.io \"lock-xxxxx\" already exists"
        }
    }

    @Test func item11_invalidNamesAre422WithFieldCauses() async throws {
        try await Fixtures.withCluster { _, client in
            let response = try await client.post(Fixtures.pvcPath(), Fixtures.claim("Bad_Name"))
            #expect(response.status == 422)
            let status = try response.json()
            #expect(status["reason"] == "Invalid")
            #expect(status[path: ["details", "kind"]] == "PersistentVolumeClaim")
            let cause = status[path: ["details", "causes"]]?.arrayValue?.first
            #expect(cause?["field"] == "metadata.name")
            #expect(cause?["reason"] == "FieldValueInvalid")
            #expect(status["message"]?.stringValue?.hasPrefix(
                "PersistentVolumeClaim \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain") == true)

            let badNamespace = try await client.post(Fixtures.pvcPath("Bad.NS"), Fixtures.claim("data", namespace: "Bad.NS")).json()
            #expect(badNamespace[path: ["details", "causes"]]?.arrayValue?.first?["field"] == "metadata.namespace")

            let longName = String(repeating: "a", count: 254)
            let tooLong = try await client.post(Fixtures.pvPath(), Fixtures.volume(longName)).json()
            #expect(tooLong["message"]?.stringValue?.contains("must be no more than 253 characters") == true)

            let badLease = try await client.post(Fixtures.leasePath(), Fixtures.lease("UPPER")).json()
            #expect(badLease[path: ["details", "group"]] == "coordination.k8s.io")
            #expect(badLease["code"] == 422)
            let badClass = try await client.post("/apis/storage.k8s.io/v1/storageclasses", Fixtures.storageClass("a..b")).json()
            #expect(badClass["code"] == 422)

            var noName = Fixtures.claim("x")
            noName[path: ["metadata", "name"]] = nil
            let missing = try await client.post(Fixtures.pvcPath(), noName).json()
            #expect(missing["message"]?.stringValue?.contains("metadata.name: Required value: name or generateName is required") == true)
        }
    }
}
