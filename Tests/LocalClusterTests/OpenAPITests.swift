// Item 47 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md: the
// OpenAPI v3 documents kubectl reads before it writes (server-side field validation, the
// patch strategies of `kubectl apply`), and item 51: the read-only, empty pods.

@testable import LocalCluster
import Testing

@Suite("OpenAPI v3 and pods (items 47, 51)")
struct OpenAPITests {
    @Test func item47_theIndexNamesADocumentPerGroupVersionThatItsURLServes() async throws {
        try await Fixtures.withCluster { _, client in
            let index = try await client.get("/openapi/v3")
            #expect(index.status == 200)
            let paths = try index.json()["paths"]?.objectValue ?? [:]
            #expect(Set(paths.keys) == ["api/v1", "apis/storage.k8s.io/v1", "apis/coordination.k8s.io/v1", "apis/events.k8s.io/v1"])
            for (key, entry) in paths {
                let url = try #require(entry["serverRelativeURL"]?.stringValue)
                #expect(url.hasPrefix("/openapi/v3/\(key)?hash="), "\(url)")
                let document = try await client.get(url)
                #expect(document.status == 200, "\(url)")
                #expect(try document.json()["openapi"] == "3.0.0")
            }
            #expect(try await client.get("/openapi/v3/apis/apps/v1").status == 404)
            #expect(try await client.get("/openapi/v2").status == 404)
        }
    }

    @Test func item47_patchOperationsOfferFieldValidationAndTheServedPatchTypes() async throws {
        try await Fixtures.withCluster { _, client in
            let document = try await client.get("/openapi/v3/apis/storage.k8s.io/v1").json()
            let item = try #require(document[path: ["paths", "/apis/storage.k8s.io/v1/storageclasses/{name}"]])
            let patch = try #require(item["patch"])
            #expect(patch["x-kubernetes-group-version-kind"] == ["group": "storage.k8s.io", "version": "v1", "kind": "StorageClass"])
            #expect(patch["x-kubernetes-action"] == "patch")
            let parameters = (patch["parameters"]?.arrayValue ?? []).compactMap { $0["in"] == "query" ? $0["name"]?.stringValue : nil }
            #expect(Set(parameters) == ["dryRun", "fieldManager", "fieldValidation"])
            let types = Set(patch[path: ["requestBody", "content"]]?.objectValue?.keys.map { $0 } ?? [])
            #expect(types == ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"])

            let core = try await client.get("/openapi/v3/api/v1").json()
            let pods = try #require(core[path: ["paths", "/api/v1/namespaces/{namespace}/pods/{name}"]])
            #expect(pods["get"] != nil && pods["patch"] == nil && pods["delete"] == nil, "pods are read-only")
            #expect(core[path: ["paths", "/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}/status", "patch"]] != nil)
        }
    }

    @Test func item47_schemasCarryTheKindAndTheListStrategies() async throws {
        try await Fixtures.withCluster { _, client in
            let core = try await client.get("/openapi/v3/api/v1").json()
            let claim = try #require(core[path: ["components", "schemas", "io.k8s.api.core.v1.PersistentVolumeClaim"]])
            #expect(claim["x-kubernetes-group-version-kind"] == [["group": "", "version": "v1", "kind": "PersistentVolumeClaim"]])
            let metadata = try #require(claim[path: ["properties", "metadata", "properties"]])
            #expect(metadata["finalizers"]?["x-kubernetes-patch-strategy"] == "merge")
            #expect(metadata["ownerReferences"]?["x-kubernetes-patch-merge-key"] == "uid")
            #expect(metadata["labels"]?["additionalProperties"] == ["type": "string"])
            let spec = try #require(claim[path: ["properties", "spec", "properties"]])
            #expect(spec["accessModes"]?["x-kubernetes-list-type"] == "atomic")
            #expect(spec["accessModes"]?["x-kubernetes-patch-strategy"] == nil)
            #expect(claim[path: ["properties", "status", "properties", "conditions", "x-kubernetes-patch-merge-key"]] == "type")
            let list = try #require(core[path: ["components", "schemas", "io.k8s.api.core.v1.PersistentVolumeClaimList"]])
            #expect(list[path: ["properties", "items", "items", "$ref"]] == "#/components/schemas/io.k8s.api.core.v1.PersistentVolumeClaim")
            // Every $ref resolves.
            var refs: [String] = []
            func collect(_ value: JSONValue) {
                switch value {
                case .object(let members):
                    if let ref = members["$ref"]?.stringValue { refs.append(ref) }
                    members.values.forEach(collect)
                case .array(let items): items.forEach(collect)
                default: break
                }
            }
            collect(core)
            let names = Set(core[path: ["components", "schemas"]]?.objectValue?.keys.map { $0 } ?? [])
            #expect(!refs.isEmpty)
            for ref in refs { #expect(names.contains(String(ref.dropFirst("#/components/schemas/".count))), "\(ref)") }
        }
    }

    @Test func item51_podsAreServedReadOnlyAndNeverExist() async throws {
        try await Fixtures.withCluster { _, client in
            let list = try await client.get("/api/v1/namespaces/default/pods?limit=500")
            #expect(list.status == 200)
            #expect(try list.json()["kind"] == "PodList")
            #expect(try list.json()["items"] == [])
            #expect(try await client.get("/api/v1/pods").status == 200)
            #expect(try await client.get("/api/v1/namespaces/default/pods/web-0").status == 404)
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "web-0"], "spec": ["containers": []]]
            let create = try await client.post("/api/v1/namespaces/default/pods", pod)
            #expect(create.status == 405)
            #expect(try create.reason() == "MethodNotAllowed")
            #expect(try await client.delete("/api/v1/namespaces/default/pods").status == 405)
            #expect(try await client.put("/api/v1/namespaces/default/pods/web-0", pod).status == 405)
            let discovery = try await client.get("/api/v1").json()["resources"]?.arrayValue ?? []
            let pods = discovery.first { $0["name"] == "pods" }
            #expect(pods?["verbs"] == ["get", "list", "watch"])
            #expect(pods?["shortNames"] == ["po"])
        }
    }
}
