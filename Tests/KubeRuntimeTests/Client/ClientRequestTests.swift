import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// Paths, headers and bodies of every verb, against the scripted transport.
@Suite struct ClientRequestTests {
    let transport = FakeKubeTransport()
    var client: KubeClient { KubeFixtures.client(transport: transport) }

    @Test func get_buildsThePathAndSendsTheBearerToken() async throws {
        transport.enqueue(.get, "/api/v1/namespaces/ns/persistentvolumeclaims/data", .json(200, KubeFixtures.pvc("data", namespace: "ns", rv: "5")))
        let claim = try await client.get(PersistentVolumeClaim.self, name: "data", namespace: "ns")
        #expect(claim.metadata.resourceVersion == "5")
        let request = try #require(transport.requests.first)
        #expect(request.url == "https://kube.test:6443/api/v1/namespaces/ns/persistentvolumeclaims/data")
        #expect(request.header("Authorization") == "Bearer t0k3n")
        #expect(request.header("Accept") == "application/json")
    }

    @Test func get_ofAGroupResource_usesTheApisPath() async throws {
        transport.enqueue(.get, "/apis/storage.k8s.io/v1/storageclasses/nfs",
                          .json(200, #"{"metadata":{"name":"nfs"},"provisioner":"p"}"#))
        let storageClass = try await client.get(StorageClass.self, name: "nfs")
        #expect(storageClass.provisioner == "p")
    }

    @Test func get_missingObject_isNotFound_withTheStatusIntact() async throws {
        transport.enqueue(.get, nil, .json(404, KubeFixtures.status(404, reason: "NotFound", message: "persistentvolumes \"x\" not found")))
        do {
            _ = try await client.get(PersistentVolume.self, name: "x")
            Issue.record("expected NotFound")
        } catch let error as KubeError {
            #expect(error.isNotFound)
            #expect(error.status?.message == "persistentvolumes \"x\" not found")
            #expect(error.reason == .notFound)
        }
    }

    @Test func requests_withInvalidNamesOrNamespaces_areRefusedBeforeSending() async throws {
        await #expect(throws: KubeError.self) { try await client.get(PersistentVolume.self, name: "../etc") }
        await #expect(throws: KubeError.self) { try await client.get(PersistentVolume.self, name: "Upper") }
        await #expect(throws: KubeError.self) { try await client.get(PersistentVolumeClaim.self, name: "a", namespace: "bad.ns") }
        await #expect(throws: KubeError.self) { try await client.get(PersistentVolumeClaim.self, name: "a") }
        await #expect(throws: KubeError.self) { try await client.get(PersistentVolume.self, name: "a", namespace: "ns") }
        let tooLong = String(repeating: "a", count: 254)
        await #expect(throws: KubeError.self) {
            try await client.create(PersistentVolume(metadata: ObjectMeta(name: tooLong)))
        }
        #expect(transport.requests.isEmpty)
    }

    @Test func create_neverSendsServerSetFields_andAddsKindAndAPIVersion() async throws {
        transport.enqueue(.post, "/api/v1/persistentvolumes", .json(201, KubeFixtures.pv("pvc-1", rv: "9")))
        var volume = PersistentVolume(metadata: ObjectMeta(name: "pvc-1", uid: "stale", resourceVersion: "3",
                                                           creationTimestamp: KubeTime(rfc3339: "2020-01-01T00:00:00Z")),
                                      spec: .init(capacity: ["storage": "1Gi"], nfs: NFSVolumeSource(server: "s", path: "/p")))
        volume.metadata.deletionGracePeriodSeconds = 0
        let created = try await client.create(volume)
        #expect(created.metadata.resourceVersion == "9")
        let body = try KubeFixtures.json(try #require(transport.requests.first?.bodyText))
        #expect(body["kind"] == .string("PersistentVolume"))
        #expect(body["apiVersion"] == .string("v1"))
        #expect(body["metadata"] == .object(["name": .string("pvc-1")]))
        #expect(body["spec"]?["nfs"]?["server"] == .string("s"))
        #expect(transport.requests.first?.header("Content-Type") == "application/json")
    }

    @Test func create_withGenerateName_validatesThePrefix() async throws {
        transport.enqueue(.post, "/api/v1/namespaces/default/events", .json(201, #"{"metadata":{"name":"x-abcde","namespace":"default"},"involvedObject":{}}"#))
        let event = Event(metadata: ObjectMeta(generateName: "x-", namespace: "default"), involvedObject: ObjectReference())
        #expect(try await client.create(event).metadata.name == "x-abcde")
        await #expect(throws: KubeError.self) {
            try await client.create(Event(metadata: ObjectMeta(generateName: "X_", namespace: "default"), involvedObject: ObjectReference()))
        }
        await #expect(throws: KubeError.self) {
            try await client.create(Event(metadata: ObjectMeta(namespace: "default"), involvedObject: ObjectReference()))
        }
    }

    @Test func create_ofExistingName_isAlreadyExists() async throws {
        transport.enqueue(.post, nil, .json(409, KubeFixtures.status(409, reason: "AlreadyExists", message: "persistentvolumes \"pvc-1\" already exists")))
        do {
            _ = try await client.create(PersistentVolume(metadata: ObjectMeta(name: "pvc-1")))
            Issue.record("expected AlreadyExists")
        } catch let error as KubeError {
            #expect(error.isAlreadyExists)
            #expect(!error.isConflict)
        }
    }

    @Test func createOrGetExisting_treatsAlreadyExistsAsSuccess_returningTheStoredObject() async throws {
        transport.enqueue(.post, nil, .json(409, KubeFixtures.status(409, reason: "AlreadyExists")))
        transport.enqueue(.get, "/api/v1/persistentvolumes/pvc-1", .json(200, KubeFixtures.pv("pvc-1", rv: "3")))
        let (existing, created) = try await client.createOrGetExisting(PersistentVolume(metadata: ObjectMeta(name: "pvc-1")))
        #expect(!created)
        #expect(existing.metadata.resourceVersion == "3")
        transport.enqueue(.post, nil, .json(201, KubeFixtures.pv("pvc-2", rv: "4")))
        #expect(try await client.createOrGetExisting(PersistentVolume(metadata: ObjectMeta(name: "pvc-2"))).created)
    }

    @Test func update_putsWithTheResourceVersion_andRefusesWithoutOne() async throws {
        transport.enqueue(.put, "/api/v1/namespaces/ns/persistentvolumeclaims/data", .json(200, KubeFixtures.pvc("data", namespace: "ns", rv: "6")))
        var claim = PersistentVolumeClaim(metadata: ObjectMeta(name: "data", namespace: "ns", resourceVersion: "5"))
        let updated = try await client.update(claim)
        #expect(updated.metadata.resourceVersion == "6")
        let body = try KubeFixtures.json(try #require(transport.requests.first?.bodyText))
        #expect(body["metadata"]?["resourceVersion"] == .string("5"))
        claim.metadata.resourceVersion = ""
        await #expect(throws: KubeError.self) { try await client.update(claim) }
        #expect(transport.requests.count == 1)
    }

    @Test func updateStatus_writesTheStatusSubresource() async throws {
        transport.enqueue(.put, "/api/v1/persistentvolumes/pv1/status", .json(200, KubeFixtures.pv("pv1", rv: "8", phase: "Released")))
        let volume = PersistentVolume(metadata: ObjectMeta(name: "pv1", resourceVersion: "7"), status: .init(phase: "Released"))
        #expect(try await client.updateStatus(volume).status?.phase == "Released")
    }

    @Test func mergePatch_sendsMergePatchContentType_andTheResourceVersionWhenConditional() async throws {
        transport.enqueue(.patch, "/api/v1/persistentvolumes/pv1", .json(200, KubeFixtures.pv("pv1", rv: "8")))
        _ = try await client.mergePatch(PersistentVolume.self, name: "pv1",
                                        patch: .object(["metadata": .object(["finalizers": .null])]), resourceVersion: "7")
        let request = try #require(transport.requests.first)
        #expect(request.header("Content-Type") == "application/merge-patch+json")
        #expect(try KubeFixtures.json(try #require(request.bodyText))
                == KubeFixtures.json(#"{"metadata":{"finalizers":null,"resourceVersion":"7"}}"#))
    }

    @Test func delete_sendsPreconditionsAndPropagation_andReportsTheOutcome() async throws {
        transport.enqueue(.delete, "/api/v1/persistentvolumes/pv1", .json(200, KubeFixtures.pv("pv1", rv: "9")))
        let options = DeleteOptions(preconditions: .init(uid: "uid-pv1", resourceVersion: "8"), propagationPolicy: "Background")
        guard case .deleted(let last?) = try await client.delete(PersistentVolume.self, name: "pv1", options: options) else {
            Issue.record("expected deleted with the object")
            return
        }
        #expect(last.metadata.name == "pv1")
        #expect(try KubeFixtures.json(try #require(transport.requests.first?.bodyText)) == KubeFixtures.json("""
            {"apiVersion":"v1","kind":"DeleteOptions","preconditions":{"uid":"uid-pv1","resourceVersion":"8"},"propagationPolicy":"Background"}
            """))
    }

    @Test func delete_withPendingFinalizers_statusBody_andMissingObject() async throws {
        let terminating = KubeFixtures.pv("pv1", rv: "9").replacingOccurrences(
            of: "\"resourceVersion\":\"9\"", with: "\"resourceVersion\":\"9\",\"deletionTimestamp\":\"2024-05-01T12:00:00Z\",\"finalizers\":[\"kubernetes.io/pv-protection\"]")
        transport.enqueue(.delete, nil, .json(200, terminating))
        transport.enqueue(.delete, nil, .json(200, #"{"kind":"Status","apiVersion":"v1","status":"Success","details":{"name":"l","kind":"leases"}}"#))
        transport.enqueue(.delete, nil, .json(404, KubeFixtures.status(404, reason: "NotFound")))
        guard case .pendingFinalizers(let object) = try await client.delete(PersistentVolume.self, name: "pv1") else {
            Issue.record("expected pendingFinalizers")
            return
        }
        #expect(object.metadata.isTerminating)
        guard case .deleted(nil) = try await client.delete(Lease.self, name: "l", namespace: "ns") else {
            Issue.record("expected deleted without object")
            return
        }
        guard case .notFound = try await client.delete(Lease.self, name: "l", namespace: "ns") else {
            Issue.record("expected notFound")
            return
        }
    }

    @Test func delete_preconditionMismatch_isAConflict() async throws {
        transport.enqueue(.delete, nil, .json(409, KubeFixtures.status(409, reason: "Conflict", message: "the UID in the precondition (a) does not match the UID in record (b)")))
        await #expect(throws: KubeError.self) {
            try await client.delete(PersistentVolume.self, name: "pv1", options: DeleteOptions(preconditions: .init(uid: "a")))
        }
    }

    @Test func list_encodesOptionsAsQueryParameters() async throws {
        transport.enqueue(.get, "/api/v1/persistentvolumeclaims", .json(200, KubeFixtures.list("PersistentVolumeClaim", rv: "10", items: [])))
        _ = try await client.list(PersistentVolumeClaim.self, options: ListOptions(
            labelSelector: "app in (a,b)", fieldSelector: "metadata.name=x", limit: 50, resourceVersion: "0"))
        let query = try #require(transport.requests.first?.query)
        #expect(query == ["labelSelector": "app in (a,b)", "fieldSelector": "metadata.name=x", "limit": "50", "resourceVersion": "0"])
        #expect(transport.requests.first?.pathAndQuery.contains("labelSelector=app%20in%20%28a%2Cb%29") == true)
    }

    @Test func malformedSuccessBody_isAMalformedResponseError() async throws {
        transport.enqueue(.get, nil, .json(200, #"{"metadata":{"name":7}}"#))
        do {
            _ = try await client.get(PersistentVolume.self, name: "pv1")
            Issue.record("expected an error")
        } catch let error as KubeError {
            guard case .malformedResponse(_, let detail) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(detail.contains("metadata.name"))
        }
    }
}
