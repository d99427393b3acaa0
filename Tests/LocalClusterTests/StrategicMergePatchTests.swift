// Item 48 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md: strategic
// merge patch (what `kubectl apply`, `kubectl edit` and `kubectl patch` send for built-in
// kinds), over HTTP and on the merge rules themselves.

@testable import LocalCluster
import Testing

@Suite("Strategic merge patch (item 48)")
struct StrategicMergePatchTests {
    func smp(_ client: TestClient, _ path: String, _ patch: JSONValue, query: String = "") async throws -> TestResponse {
        try await client.request(.PATCH, path + query, json: patch, contentType: "application/strategic-merge-patch+json")
    }

    @Test func item48_finalizersAreUnitedAndMapsMergedWhereAMergePatchWouldReplace() async throws {
        try await Fixtures.withCluster { _, client in
            var claim = Fixtures.claim("data", accessModes: ["ReadWriteOnce", "ReadOnlyMany"])
            claim[path: ["metadata", "labels"]] = ["a": "1", "b": "2"]
            claim[path: ["metadata", "finalizers"]] = ["example.com/one"]
            _ = try await client.post(Fixtures.pvcPath(), claim)
            let path = Fixtures.pvcPath("default", "data")
            let response = try await smp(client, path, [
                "metadata": ["labels": ["a": nil, "c": "3"], "finalizers": ["example.com/two"]],
            ])
            #expect(response.status == 200, "\(response.text)")
            let object = try response.json()
            #expect(object[path: ["metadata", "labels"]] == ["b": "2", "c": "3"])
            // finalizers has patchStrategy merge: the new one joins, the old ones stay.
            #expect(object[path: ["metadata", "finalizers"]] == ["example.com/one", "kubernetes.io/pvc-protection", "example.com/two"])

            let removed = try await smp(client, path, ["metadata": ["$deleteFromPrimitiveList/finalizers": ["example.com/one"]]])
            #expect(try removed.json()[path: ["metadata", "finalizers"]] == ["kubernetes.io/pvc-protection", "example.com/two"])
            let ordered = try await smp(client, path, ["metadata": ["$setElementOrder/finalizers": ["example.com/two", "kubernetes.io/pvc-protection"]]])
            #expect(try ordered.json()[path: ["metadata", "finalizers"]] == ["example.com/two", "kubernetes.io/pvc-protection"])
        }
    }

    @Test func item48_listsWithoutAStrategyAreReplacedAndDirectivesReplaceOrDeleteObjects() async throws {
        try await Fixtures.withCluster { _, client in
            var storageClass = Fixtures.storageClass("nfs")
            storageClass["mountOptions"] = ["nfsvers=4.1", "hard"]
            _ = try await client.post("/apis/storage.k8s.io/v1/storageclasses", storageClass)
            let path = "/apis/storage.k8s.io/v1/storageclasses/nfs"
            let replaced = try await smp(client, path, ["mountOptions": ["nfsvers=3"]])
            #expect(replaced.status == 200, "\(replaced.text)")
            #expect(try replaced.json()["mountOptions"] == ["nfsvers=3"])

            let annotated = try await smp(client, path, ["metadata": ["annotations": ["x": "1", "y": "2"]]])
            #expect(try annotated.json()[path: ["metadata", "annotations"]] == ["x": "1", "y": "2"])
            let whole = try await smp(client, path, ["metadata": ["annotations": ["$patch": "replace", "z": "3"]]])
            #expect(try whole.json()[path: ["metadata", "annotations"]] == ["z": "3"])
            let gone = try await smp(client, path, ["metadata": ["annotations": ["$patch": "delete"]]])
            #expect(try gone.json()[path: ["metadata", "annotations"]] == nil)

            let unknown = try await smp(client, path, ["metadata": ["annotations": ["$patch": "shred"]]])
            #expect(unknown.status == 400)
            #expect(try unknown.message().hasPrefix("Unknown patch type: shred"))
            let notAnObject = try await smp(client, path, ["a", "b"])
            #expect(notAnObject.status == 400)
            #expect(try notAnObject.message() == "json: cannot unmarshal array into Go value of type map[string]interface {}")
        }
    }

    @Test func item48_conditionsMergeByTypeAndAPatchIsValidatedAndConditional() async throws {
        try await Fixtures.withCluster { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let status = Fixtures.pvcPath("default", "data") + "/status"
            let first = try await smp(client, status, ["status": ["conditions": [
                ["type": "Resizing", "status": "True"], ["type": "FileSystemResizePending", "status": "False"],
            ]]])
            #expect(first.status == 200, "\(first.text)")
            let second = try await smp(client, status, ["status": ["conditions": [
                ["type": "Resizing", "status": "False", "reason": "Done"],
                ["type": "FileSystemResizePending", "$patch": "delete"],
            ]]])
            #expect(try second.json()[path: ["status", "conditions"]] == [["type": "Resizing", "status": "False", "reason": "Done"]])
            let keyless = try await smp(client, status, ["status": ["conditions": [["status": "True"]]]])
            #expect(keyless.status == 422)

            // The result is validated like any write, and a resourceVersion makes it conditional.
            let path = Fixtures.pvcPath("default", "data")
            let immutable = try await smp(client, path, ["spec": ["accessModes": ["ReadWriteMany"]]])
            #expect(immutable.status == 422)
            #expect(try immutable.reason() == "Invalid")
            let stale = try await smp(client, path, ["metadata": ["resourceVersion": .string(claim.rv), "labels": ["a": "b"]]])
            #expect(stale.status == 409)
        }
    }

    @Test func item48_mergeRulesFollowTheSchema() throws {
        let schema = TypeSchema.objectMeta
        let current: JSONValue = [
            "ownerReferences": [["uid": "1", "name": "a", "kind": "K"], ["uid": "2", "name": "b", "kind": "K"]],
            "labels": ["keep": "x"],
        ]
        let patch: JSONValue = [
            "ownerReferences": [["uid": "2", "name": "b2"], ["uid": "3", "name": "c", "kind": "K"], ["uid": "1", "$patch": "delete"]],
            "$retainKeys": ["ownerReferences"],
        ]
        let merged = try StrategicMergePatch.apply(patch, to: current, schema: schema)
        #expect(merged["ownerReferences"] == [["uid": "2", "name": "b2", "kind": "K"], ["uid": "3", "name": "c", "kind": "K"]])
        #expect(merged["labels"] == nil, "$retainKeys drops the members it does not list")
        #expect(throws: PatchError.self) {
            try StrategicMergePatch.apply(["labels": ["a": "b"], "$retainKeys": ["finalizers"]], to: current, schema: schema)
        }
        let replacedList = try StrategicMergePatch.apply(["ownerReferences": [["$patch": "replace"], ["uid": "9", "name": "z"]]],
                                                         to: current, schema: schema)
        #expect(replacedList["ownerReferences"] == [["uid": "9", "name": "z"]])
        // A member the schema does not know merges like a JSON merge patch.
        let unknown = try StrategicMergePatch.apply(["extra": ["list": [1], "map": ["b": 2]]],
                                                    to: ["extra": ["list": [0], "map": ["a": 1]]], schema: schema)
        #expect(unknown["extra"] == ["list": [1], "map": ["a": 1, "b": 2]])
    }
}
