// Items 25-26 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// JSON merge patch, JSON patch, unsupported patch types, dryRun (strategic merge patch:
// StrategicMergePatchTests, item 48).

import LocalCluster
import Testing

@Suite("Patch and dryRun (items 25-26)")
struct PatchTests {
    @Test func item25_mergePatchReplacesListsAndDeletesWithNull() async throws {
        try await Fixtures.withCluster { _, client in
            var claim = Fixtures.claim("data")
            claim[path: ["metadata", "labels"]] = ["a": "1", "b": "2"]
            claim[path: ["metadata", "finalizers"]] = ["example.com/one", "example.com/two"]
            _ = try await client.post(Fixtures.pvcPath(), claim)
            let patched = try await client.mergePatch(Fixtures.pvcPath("default", "data"), [
                "metadata": ["labels": ["a": nil, "c": "3"], "finalizers": ["example.com/two"]],
            ])
            #expect(patched.status == 200)
            let object = try patched.json()
            #expect(object[path: ["metadata", "labels"]] == ["b": "2", "c": "3"])
            #expect(object[path: ["metadata", "finalizers"]] == ["example.com/two"])
        }
    }

    @Test func item25_jsonPatchAppliesOperationsAndAFailedTestIs422() async throws {
        try await Fixtures.withCluster { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let path = Fixtures.pvcPath("default", "data")
            let ok = try await client.jsonPatch(path, [
                ["op": "test", "path": "/metadata/resourceVersion", "value": .string(claim.rv)],
                ["op": "add", "path": "/metadata/labels", "value": ["a/b": "c"]],
                ["op": "add", "path": "/metadata/finalizers/-", "value": "example.com/x"],
                ["op": "replace", "path": "/metadata/labels/a~1b", "value": "d"],
            ])
            #expect(ok.status == 200)
            let object = try ok.json()
            #expect(object[path: ["metadata", "labels"]] == ["a/b": "d"])
            #expect(object[path: ["metadata", "finalizers"]] == ["kubernetes.io/pvc-protection", "example.com/x"])

            let failedTest = try await client.jsonPatch(path, [
                ["op": "test", "path": "/metadata/resourceVersion", "value": .string(claim.rv)],
                ["op": "remove", "path": "/metadata/finalizers/1"],
            ])
            #expect(failedTest.status == 422)
            #expect(try failedTest.reason() == "Invalid")
            #expect(try failedTest.json()[path: ["details", "causes"]]?.arrayValue?.first?["message"]
                == "testing value /metadata/resourceVersion failed: test failed")
            let missing = try await client.jsonPatch(path, [["op": "remove", "path": "/metadata/annotations/x"]])
            #expect(missing.status == 422)
            let malformed = try await client.jsonPatch(path, ["op": "add"])
            #expect(malformed.status == 400)
        }
    }

    @Test func item25_resourceVersionInAPatchIsChecked() async throws {
        try await Fixtures.withCluster { _, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let path = Fixtures.pvcPath("default", "data")
            let current = try await client.mergePatch(path, ["metadata": ["resourceVersion": .string(claim.rv), "labels": ["a": "1"]]])
            #expect(current.status == 200)
            let stale = try await client.mergePatch(path, ["metadata": ["resourceVersion": .string(claim.rv), "labels": ["a": "2"]]])
            #expect(stale.status == 409)
            #expect(try stale.reason() == "Conflict")
            #expect(try stale.message().hasSuffix("the object has been modified; please apply your changes to the latest version and try again"))
        }
    }

    @Test func item25_applyAndOtherPatchTypesAre415() async throws {
        try await Fixtures.withCluster { _, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data"))
            let path = Fixtures.pvcPath("default", "data")
            for contentType in ["application/apply-patch+yaml", "text/plain"] {
                let response = try await client.request(.PATCH, path, json: ["metadata": ["labels": ["a": "b"]]], contentType: contentType)
                #expect(response.status == 415, "\(contentType)")
                #expect(try response.reason() == "UnsupportedMediaType")
                #expect(try response.message() == "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json")
            }
        }
    }

    @Test func item26_dryRunPersistsNothingAndOtherValuesAre422() async throws {
        try await Fixtures.withCluster { cluster, client in
            let before = cluster.resourceVersion
            let created = try await client.request(.POST, Fixtures.pvcPath() + "?dryRun=All", json: Fixtures.claim("data"))
            #expect(created.status == 201)
            #expect(try created.json().name == "data")
            #expect(cluster.resourceVersion == before)
            #expect(try await client.get(Fixtures.pvcPath("default", "data")).status == 404)

            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let afterCreate = cluster.resourceVersion
            var labelled = claim
            labelled[path: ["metadata", "labels"]] = ["a": "b"]
            let dryPut = try await client.request(.PUT, Fixtures.pvcPath("default", "data") + "?dryRun=All", json: labelled)
            #expect(dryPut.status == 200)
            #expect(try dryPut.json()[path: ["metadata", "labels", "a"]] == "b")
            let dryPatch = try await client.request(.PATCH, Fixtures.pvcPath("default", "data") + "?dryRun=All",
                                                    json: ["metadata": ["labels": ["x": "y"]]], contentType: "application/merge-patch+json")
            #expect(dryPatch.status == 200)
            let dryDelete = try await client.request(.DELETE, Fixtures.pvcPath("default", "data") + "?dryRun=All")
            #expect(dryDelete.status == 200)
            #expect(cluster.resourceVersion == afterCreate)
            let stored = try await client.get(Fixtures.pvcPath("default", "data")).json()
            #expect(stored == claim)

            let bad = try await client.request(.POST, Fixtures.pvcPath() + "?dryRun=Some", json: Fixtures.claim("other"))
            #expect(bad.status == 422)
            #expect(try bad.message() == "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Some\"}: supported values: \"All\"")
        }
    }
}
