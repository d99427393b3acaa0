// Item 49 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md: the
// `fieldManager` and `fieldValidation` options of create, update and patch (kubectl sends
// both on every write).

@testable import LocalCluster
import Testing

@Suite("fieldManager and fieldValidation (item 49)")
struct WriteOptionsTests {
    func withTypo(_ claim: JSONValue) -> JSONValue {
        var object = claim
        object[path: ["spec", "storageClassNam"]] = "nfs"
        object[path: ["spec", "resources", "request"]] = ["storage": "1Gi"]
        return object
    }

    @Test func item49_unknownFieldsWarnByDefaultFailWhenStrictAndPassWhenIgnored() async throws {
        try await Fixtures.withCluster { _, client in
            let warned = try await client.post(Fixtures.pvcPath(), withTypo(Fixtures.claim("warned")))
            #expect(warned.status == 201)
            #expect(warned.headers["Warning"] == [#"299 - "unknown field \"spec.resources.request\"""#,
                                                   #"299 - "unknown field \"spec.storageClassNam\"""#])

            let strict = try await client.request(.POST, Fixtures.pvcPath() + "?fieldValidation=Strict", json: withTypo(Fixtures.claim("strict")))
            #expect(strict.status == 400)
            #expect(try strict.reason() == "BadRequest")
            #expect(try strict.message() == #"PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: strict decoding error: unknown field "spec.resources.request", unknown field "spec.storageClassNam""#)
            #expect(try await client.get(Fixtures.pvcPath("default", "strict")).status == 404)

            let ignored = try await client.request(.POST, Fixtures.pvcPath() + "?fieldValidation=Ignore", json: withTypo(Fixtures.claim("ignored")))
            #expect(ignored.status == 201)
            #expect(ignored.headers["Warning"].isEmpty)

            let clean = try await client.request(.POST, Fixtures.pvcPath() + "?fieldValidation=Strict", json: Fixtures.claim("clean"))
            #expect(clean.status == 201)
            #expect(clean.headers["Warning"].isEmpty)
        }
    }

    @Test func item49_aWriteReportsOnlyTheUnknownFieldsItIntroduces() async throws {
        try await Fixtures.withCluster { _, client in
            let stored = try await client.post(Fixtures.pvcPath(), withTypo(Fixtures.claim("data"))).json()
            var labelled = stored
            labelled[path: ["metadata", "labels"]] = ["a": "b"]
            let path = Fixtures.pvcPath("default", "data")
            let put = try await client.request(.PUT, path + "?fieldValidation=Strict", json: labelled)
            #expect(put.status == 200, "\(put.text)")
            let patch = try await client.request(.PATCH, path + "?fieldValidation=Strict",
                                                 json: ["metadata": ["labels": ["c": "d"]], "spek": ["x": 1]],
                                                 contentType: "application/merge-patch+json")
            #expect(patch.status == 400)
            #expect(try patch.message().hasSuffix(#"strict decoding error: unknown field "spek""#))
            let warned = try await client.request(.PATCH, path, json: [["op": "add", "path": "/metadata/extra", "value": 1]],
                                                  contentType: "application/json-patch+json")
            #expect(warned.headers["Warning"] == [#"299 - "unknown field \"metadata.extra\"""#])
        }
    }

    @Test func item49_fieldManagerAndFieldValidationAreValidatedAsTheVerbsOptions() async throws {
        try await Fixtures.withCluster { _, client in
            let named = try await client.request(.POST, Fixtures.pvcPath() + "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
                                                 json: Fixtures.claim("data"))
            #expect(named.status == 201)

            let long = String(repeating: "m", count: 129)
            let tooLong = try await client.request(.POST, Fixtures.pvcPath() + "?fieldManager=\(long)", json: Fixtures.claim("other"))
            #expect(tooLong.status == 422)
            #expect(try tooLong.message() == "CreateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes")

            let control = try await client.request(.PATCH, Fixtures.pvcPath("default", "data") + "?fieldManager=a%07b",
                                                   json: ["metadata": ["labels": ["a": "b"]]], contentType: "application/merge-patch+json")
            #expect(control.status == 422)
            #expect(try control.message() == "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Invalid value: \"a\\u0007b\": invalid character U+0007 (at position 1)")

            let unsupported = try await client.request(.PUT, Fixtures.pvcPath("default", "data") + "?fieldValidation=Loud",
                                                       json: try named.json())
            #expect(unsupported.status == 422)
            #expect(try unsupported.message() == "UpdateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loud\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"")
        }
    }

    @Test func item49_unknownFieldPathsNameListElementsAndMapValuesAreNeverUnknown() {
        let claim: JSONValue = [
            "metadata": ["name": "x", "annotations": ["any/key": "v"], "ownerReferences": [["uid": "1", "nme": "typo"]]],
            "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi", "anything": "2"]]],
            "status": ["conditions": [["type": "A"], ["type": "B", "why": "typo"]]],
        ]
        #expect(FieldValidation.unknownFields(claim, schema: TypeSchema.of(.persistentVolumeClaims))
            == ["metadata.ownerReferences[0].nme", "status.conditions[1].why"])
        let volume: JSONValue = ["spec": ["iscsi": ["targetPortal": "10.0.0.1:3260", "anything": true], "nfs": ["server": "a", "path": "/x", "readonly": true]]]
        #expect(FieldValidation.unknownFields(volume, schema: TypeSchema.of(.persistentVolumes)) == ["spec.nfs.readonly"])
    }
}
