import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import TestSupport
import Testing

@Suite struct ClientModelsTests {
    private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    private func encode(_ value: some Encodable) throws -> JSONValue {
        try JSONValue(encoding: value)
    }

    @Test func persistentVolumeClaim_decodesWithUnknownFields_andKeepsQuantitiesExact() throws {
        let text = KubeFixtures.pvc("data", rv: "42", storage: "1073741824",
                                    extra: ",\"futureField\":{\"x\":1}")
            .replacingOccurrences(of: "\"metadata\":{", with: "\"metadata\":{\"managedFields\":[{\"manager\":\"kubectl\"}],")
        let claim = try decode(PersistentVolumeClaim.self, text)
        #expect(claim.metadata.name == "data")
        #expect(claim.metadata.namespace == "default")
        #expect(claim.metadata.resourceVersion == "42")
        #expect(claim.spec?.storageRequest?.text == "1073741824")
        #expect(try claim.spec?.storageRequest?.isSemanticallyEqual(to: "1Gi") == true)
        #expect(claim.spec?.accessModes == ["ReadWriteOnce"])
        #expect(claim.status?.phase == "Pending")
    }

    @Test func persistentVolume_decodesNFSClaimRefAndNodeAffinity() throws {
        let text = KubeFixtures.pv("pvc-1", rv: "7", phase: "Bound", extra: """
            ,"claimRef":{"kind":"PersistentVolumeClaim","namespace":"ns","name":"data","uid":"u-1"},\
            "mountOptions":["vers=4.1"],"storageClassName":"nfs","volumeMode":"Filesystem",\
            "nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}]}}
            """)
        let volume = try decode(PersistentVolume.self, text)
        #expect(volume.spec?.nfs == NFSVolumeSource(server: "10.0.0.1", path: "/export/pvc-1"))
        #expect(volume.spec?.claimRef?.uid == "u-1")
        #expect(volume.spec?.mountOptions == ["vers=4.1"])
        #expect(volume.spec?.persistentVolumeReclaimPolicy == "Delete")
        #expect(volume.spec?.nodeAffinity?.required?.nodeSelectorTerms.first?.matchExpressions?.first?.values == ["a"])
        #expect(volume.status?.phase == "Bound")
    }

    @Test func storageClass_decodesTopLevelFields() throws {
        let text = """
            {"kind":"StorageClass","apiVersion":"storage.k8s.io/v1","metadata":{"name":"nfs"},"provisioner":"example.com/nfs",\
            "parameters":{"onDelete":"retain"},"reclaimPolicy":"Delete","mountOptions":["hard"],\
            "volumeBindingMode":"WaitForFirstConsumer","allowVolumeExpansion":true}
            """
        let storageClass = try decode(StorageClass.self, text)
        #expect(storageClass.provisioner == "example.com/nfs")
        #expect(storageClass.parameters == ["onDelete": "retain"])
        #expect(storageClass.volumeBindingMode == "WaitForFirstConsumer")
        #expect(storageClass.allowVolumeExpansion == true)
    }

    @Test func lease_encodesMicroTimeWithSixDigits_andKeepsEmptyHolder() throws {
        let lease = Lease(metadata: ObjectMeta(name: "lock", namespace: "kube-system"),
                          spec: Lease.Spec(holderIdentity: "", leaseDurationSeconds: 15,
                                           acquireTime: MicroTime(microsecondsSinceEpoch: 1_714_564_805_000_000),
                                           renewTime: MicroTime(microsecondsSinceEpoch: 1_714_564_805_123_456),
                                           leaseTransitions: 3))
        let json = try encode(lease)
        #expect(json["spec"]?["acquireTime"] == .string("2024-05-01T12:00:05.000000Z"))
        #expect(json["spec"]?["renewTime"] == .string("2024-05-01T12:00:05.123456Z"))
        #expect(json["spec"]?["holderIdentity"] == .string(""))
        let back = try json.decode(as: Lease.self)
        #expect(back == lease)
    }

    @Test func event_roundTripsCoreFields() throws {
        let event = Event(
            metadata: ObjectMeta(name: "data.17c", namespace: "ns"),
            involvedObject: ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: "ns", name: "data", uid: "u"),
            reason: "ProvisioningSucceeded", message: "ok", type: "Normal", source: EventSource(component: "nfs"),
            reportingComponent: "nfs", reportingInstance: "nfs-0",
            firstTimestamp: KubeTime(rfc3339: "2024-05-01T12:00:00Z"), lastTimestamp: KubeTime(rfc3339: "2024-05-01T12:00:00Z"),
            count: 1, eventTime: MicroTime(rfc3339: "2024-05-01T12:00:00.5Z"))
        let json = try encode(event)
        #expect(json["firstTimestamp"] == .string("2024-05-01T12:00:00Z"))
        #expect(json["eventTime"] == .string("2024-05-01T12:00:00.500000Z"))
        #expect(try json.decode(as: Event.self) == event)
    }

    @Test func objectMeta_omitsEmptyFields_likeGoOmitempty() throws {
        let json = try encode(ObjectMeta(name: "x"))
        #expect(json == .object(["name": .string("x")]))
        let decoded = try decode(ObjectMeta.self, "{}")
        #expect(decoded.name.isEmpty && decoded.finalizers.isEmpty && decoded.labels.isEmpty)
    }

    @Test func status_decodesDetailsCausesAndRetryAfter() throws {
        let status = try decode(Status.self, KubeFixtures.status(
            422, reason: "Invalid", message: "bad", retryAfterSeconds: 3,
            causes: "[{\"reason\":\"FieldValueInvalid\",\"message\":\"m\",\"field\":\"metadata.name\"}]"))
        #expect(status.code == 422)
        #expect(status.reason == .invalid)
        #expect(status.details?.retryAfterSeconds == 3)
        #expect(status.details?.causes?.first?.field == "metadata.name")
        #expect(status.details?.causes?.first?.reason == "FieldValueInvalid")
    }

    @Test func kubeTime_parsesOffsetsAndFractions_andFormatsUTCSeconds() throws {
        let time = try #require(KubeTime(rfc3339: "2024-05-01T14:00:00.9+02:00"))
        #expect(time.description == "2024-05-01T12:00:00Z")
        #expect(KubeTime(rfc3339: "2024-13-01T00:00:00Z") == nil)
        #expect(KubeTime(rfc3339: "2024-05-01 12:00") == nil)
        #expect(KubeTime(rfc3339: "1969-12-31T23:59:59Z")?.date.timeIntervalSince1970 == -1)
        #expect(throws: DecodingError.self) { try decode([KubeTime].self, "[\"yesterday\"]") }
    }

    @Test func resourceDescriptor_buildsCorePathsAndGroupPaths() {
        #expect(PersistentVolumeClaim.resource.apiVersion == "v1")
        #expect(Lease.resource.apiVersion == "coordination.k8s.io/v1")
        #expect(Lease.resource.groupVersionPath == "/apis/coordination.k8s.io/v1")
        #expect(StorageClass.resource.qualifiedPlural == "storageclasses.storage.k8s.io")
        #expect(ObjectKey(namespace: "ns", name: "a").description == "ns/a")
        #expect(ObjectKey(name: "pv").description == "pv")
    }
}
