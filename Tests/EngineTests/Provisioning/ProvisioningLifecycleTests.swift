import Foundation
import Testing
import TestSupport
import TestTraits
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

/// Provision → bind → release → reclaim, against LocalCluster (which plays the PV
/// controller) with temporary directories as the NFS exports.
@Suite("Provisioning life cycle", .timeLimit(.minutes(2)), .shutsDownTestBeds)
struct ProvisioningLifecycleTests {
    @Test("a claim gets a directory with the class's mode and a marker, and a PV naming the member's address")
    func provision_bind() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete", "mountPermissions": "0750"])
        let run = try bed.startEngine(bed.configuration(members: ["a", "b", "c"]))
        let uid = try await bed.createClaim("team-a", "data-db-0", className: "nfs")
        let pv = try await bed.waitForBound("team-a", "data-db-0")

        #expect(pv.metadata.name == "pvc-\(uid)")
        #expect(pv.spec?.claimRef?.uid == uid)
        #expect(pv.metadata.annotations["pv.kubernetes.io/provisioned-by"] == bed.provisionerName)
        #expect(pv.metadata.finalizers.contains("external-provisioner.volume.kubernetes.io/finalizer"))
        #expect(pv.spec?.persistentVolumeReclaimPolicy == "Delete")
        #expect(pv.spec?.storageClassName == "nfs")
        #expect(pv.spec?.accessModes == ["ReadWriteMany"])
        #expect(pv.spec?.capacity?["storage"]?.text == "1Gi")
        let record = try VolumeRecord(annotations: pv.metadata.annotations)
        #expect(record.onDelete == .delete && record.claimUID == uid)
        #expect(record.directory.description == "team-a-data-db-0", "the original's name-based layout")
        // spec.nfs.server is the member's address (the original wrote the export path there).
        #expect(pv.spec?.nfs?.server == "nfs-\(record.member).example.com")
        #expect(pv.spec?.nfs?.path == "/exports/\(record.member)/team-a-data-db-0")
        // The directory exists on exactly that member, with the class's mode, and the
        // member's ownership record (outside the volume) names the claim as bound.
        let dir = bed.export(record.member) + "/team-a-data-db-0"
        let attributes = try FileManager.default.attributesOfItem(atPath: dir)
        #expect((attributes[.posixPermissions] as? Int) == 0o750)
        try await bed.waitForRecordBound(record.member, "team-a-data-db-0")
        let owner = try #require(bed.ownershipRecord(record.member, "team-a-data-db-0"))
        #expect(owner.claimUID == uid && owner.volumeName == pv.metadata.name && owner.state == .bound)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "nothing of ours inside the volume")
        for m in ["a", "b", "c"] where m != record.member { #expect(bed.volumeDirectories(m).isEmpty) }
        // The member is where the ring puts the claim.
        let expected = try RingSnapshotOf(bed.configuration(members: ["a", "b", "c"])).locate("team-a-data-db-0").name
        #expect(record.member == expected)
        // Events on the claim: Provisioning, then ProvisioningSucceeded naming the member.
        try await bed.waitUntil("ProvisioningSucceeded event") {
            try await bed.events(about: "data-db-0", namespace: "team-a").contains { $0.reason == "ProvisioningSucceeded" }
        }
        let events = try await bed.events(about: "data-db-0", namespace: "team-a")
        #expect(events.contains { $0.reason == "Provisioning" && $0.type == "Normal" })
        #expect(events.first { $0.reason == "ProvisioningSucceeded" }?.message?.contains("member \(record.member)") == true)
        try await run.stop()
    }

    @Test("release under each delete policy does what it says, then the PV goes", arguments: [
        (["onDelete": "delete"], "delete"),
        (["onDelete": "archive"], "archive"),
        (["onDelete": "retain"], "retain"),
        (["archiveOnDelete": "true", "deleteFile": "true"], "archive"),
        (["archiveOnDelete": "false"], "retain"),
        ([:] as [String: String], "retain"),
    ])
    func release_appliesPolicy(parameters: [String: String], expected: String) async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: parameters)
        let run = try bed.startEngine(bed.configuration(members: ["a", "b"]))
        try await bed.createClaim("default", "web", className: "nfs")
        let pv = try await bed.waitForBound("default", "web")
        let record = try VolumeRecord(annotations: pv.metadata.annotations)
        #expect(record.onDelete.rawValue == expected)
        let dir = bed.export(record.member) + "/" + record.directory.description
        try Data("hello".utf8).write(to: URL(fileURLWithPath: dir + "/file.txt"))

        try await bed.deleteClaim("default", "web")
        try await bed.waitUntil("PV \(pv.metadata.name) deleted") { try await bed.volume(pv.metadata.name) == nil }
        let archived = (try? FileManager.default.contentsOfDirectory(atPath: bed.export(record.member) + "/.nfs-cluster-provisioner/archive")) ?? []
        switch expected {
        case "delete":
            #expect(!FileManager.default.fileExists(atPath: dir))
            #expect(archived.isEmpty)
        case "archive":
            #expect(!FileManager.default.fileExists(atPath: dir))
            #expect(archived.count == 1)
            #expect(archived.first?.contains(pv.metadata.name) == true)
            let kept = bed.export(record.member) + "/.nfs-cluster-provisioner/archive/\(archived[0])/file.txt"
            #expect(FileManager.default.fileExists(atPath: kept), "archive is a rename: the data is all there")
        default:
            #expect(FileManager.default.fileExists(atPath: dir + "/file.txt"))
        }
        try await run.stop()
    }

    @Test("Retain PVs are never touched: the PV stays Released with its data")
    func retainPV_untouched() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("keep", parameters: ["onDelete": "delete"], reclaimPolicy: "Retain")
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        try await bed.createClaim("default", "precious", className: "keep")
        let pv = try await bed.waitForBound("default", "precious")
        #expect(!pv.metadata.finalizers.contains("external-provisioner.volume.kubernetes.io/finalizer"))
        let dir = bed.export("a") + "/default-precious"
        try await bed.deleteClaim("default", "precious")
        try await bed.waitUntil("PV Released") { try await bed.volume(pv.metadata.name)?.status?.phase == "Released" }
        // Give the engine every chance to (wrongly) act: a full resync pass, handled.
        await run.engine.controller.resyncNowAndWait()
        let after = try #require(try await bed.volume(pv.metadata.name))
        #expect(after.status?.phase == "Released")
        #expect(after.metadata.deletionTimestamp == nil)
        #expect(FileManager.default.fileExists(atPath: dir))
        try await run.stop()
    }
}

extension ProvisioningLifecycleTests {
    @Test("a released PV of the original provisioner (no record) keeps its data; only the PV goes")
    func legacyPV_keepsData() async throws {
        let bed = try await EngineTestBed.start()
        let legacyDir = bed.export("a") + "/old-data"
        try FileManager.default.createDirectory(atPath: legacyDir, withIntermediateDirectories: true)
        try Data("legacy".utf8).write(to: URL(fileURLWithPath: legacyDir + "/file"))
        // What the Go original left: provisioned-by our name, server = the export path, no record.
        let pv = try await bed.client.create(PersistentVolume(
            metadata: ObjectMeta(name: "pvc-legacy", annotations: ["pv.kubernetes.io/provisioned-by": bed.provisionerName]),
            spec: .init(capacity: ["storage": "1Gi"], accessModes: ["ReadWriteMany"], persistentVolumeReclaimPolicy: "Delete",
                        storageClassName: "nfs", claimRef: ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim",
                                                                           namespace: "old", name: "data", uid: "gone-uid"),
                        nfs: NFSVolumeSource(server: "/exports/a", path: "/exports/a/old-data"))))
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        try await bed.waitUntil("legacy PV deleted", timeout: .seconds(30)) { try await bed.volume(pv.metadata.name) == nil }
        #expect(try String(contentsOfFile: legacyDir + "/file", encoding: .utf8) == "legacy")
        // Events are sent in the background: wait for it.
        try await bed.waitUntil("VolumeDataKept event") { try await bed.events(about: "pvc-legacy").contains { $0.reason == "VolumeDataKept" } }
        try await run.stop()
    }
}

func RingSnapshotOf(_ c: ProvisionerConfiguration) throws -> RingSnapshot {
    try RingSnapshot(members: c.ringMembers, configuration: c.ring)
}

import RingCore
