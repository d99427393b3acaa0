import Foundation
import LocalCluster
import Synchronization
import Testing
import TestSupport
import TestTraits
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage
import RingCore

/// The guarantees that matter when things go wrong: crashes, re-created claims, ring
/// changes, hung members.
@Suite("Provisioning under faults and changes", .timeLimit(.minutes(3)), .shutsDownTestBeds)
struct ProvisioningRecoveryTests {
    @Test("a re-created claim (StatefulSet) finds its data again")
    func recreatedClaim_findsItsData() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("sts", parameters: ["onDelete": "retain"])
        let run = try bed.startEngine(bed.configuration(members: ["a", "b", "c"]))
        let firstUID = try await bed.createClaim("db", "data-postgres-0", className: "sts")
        let first = try await bed.waitForBound("db", "data-postgres-0")
        let record = try VolumeRecord(annotations: first.metadata.annotations)
        let dir = bed.export(record.member) + "/" + record.directory.description
        try Data("rows".utf8).write(to: URL(fileURLWithPath: dir + "/table"))

        try await bed.deleteClaim("db", "data-postgres-0")
        try await bed.waitUntil("old PV gone") { try await bed.volume(first.metadata.name) == nil }
        let secondUID = try await bed.createClaim("db", "data-postgres-0", className: "sts")
        #expect(secondUID != firstUID)
        let second = try await bed.waitForBound("db", "data-postgres-0")
        let again = try VolumeRecord(annotations: second.metadata.annotations)
        #expect(again.member == record.member && again.directory == record.directory)
        #expect(try String(contentsOfFile: dir + "/table", encoding: .utf8) == "rows")
        #expect(second.metadata.annotations[Annotations.placement] == "reuse")
        try await bed.waitForRecordBound(record.member, record.directory.description, claimUID: secondUID)
        let owner = try #require(bed.ownershipRecord(record.member, record.directory.description))
        #expect(owner.claimUID == secondUID && owner.state == .bound, "the record now names the new claim")
        try await run.stop()
    }

    @Test("adding a member moves no existing volume; new claims use the new ring")
    func addMember_existingVolumesStay() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let run = try bed.startEngine(bed.configuration(members: ["a", "b"]))
        var before: [String: String] = [:]
        for i in 0..<12 {
            try await bed.createClaim("apps", "c\(i)", className: "nfs")
        }
        for i in 0..<12 {
            let pv = try await bed.waitForBound("apps", "c\(i)")
            before[pv.metadata.name] = try VolumeRecord(annotations: pv.metadata.annotations).member
        }
        try await run.engine.reload(bed.configuration(members: ["a", "b", "new"]))
        // Everything provisioned before still points where it was.
        for (name, member) in before {
            let pv = try #require(try await bed.volume(name))
            #expect(try VolumeRecord(annotations: pv.metadata.annotations).member == member)
            #expect(pv.spec?.nfs?.server == "nfs-\(member).example.com")
        }
        // New claims follow the new ring, and some land on the new member.
        let ring = try RingSnapshotOf(bed.configuration(members: ["a", "b", "new"]))
        var onNew = 0
        for i in 0..<30 {
            try await bed.createClaim("apps", "n\(i)", className: "nfs")
        }
        for i in 0..<30 {
            let pv = try await bed.waitForBound("apps", "n\(i)")
            let member = try VolumeRecord(annotations: pv.metadata.annotations).member
            #expect(member == (try ring.locate("apps-n\(i)").name))
            if member == "new" { onNew += 1 }
        }
        #expect(onNew > 0)
        try await run.stop()
    }

    @Test("a crash between the directory and the PV recovers with exactly one directory")
    func crashBetweenDirectoryAndPV_recoversWithOneDirectory() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        // PV creation hangs long enough for the crash to hit after the directory exists.
        let stall = bed.cluster.injectFault(FaultRule(method: "POST", path: .contains("/persistentvolumes"), trigger: .always, action: .delay(.seconds(30))))
        let members = ["a", "b", "c"]
        let first = try bed.startEngine(bed.configuration(members: members))
        let uid = try await bed.createClaim("team", "crashy", className: "nfs")
        try await bed.waitUntil("directory created") { members.contains { !bed.volumeDirectories($0).isEmpty } }
        await first.crash()
        bed.cluster.removeFault(stall)
        // A new process (a new engine, e.g. the other replica) takes over.
        let second = try bed.startEngine(bed.configuration(members: members))
        let pv = try await bed.waitForBound("team", "crashy")
        #expect(pv.metadata.name == "pvc-\(uid)")
        let all = members.flatMap { m in bed.volumeDirectories(m).map { "\(m):\($0)" } }
        #expect(all.count == 1, "exactly one directory: \(all)")
        let record = try VolumeRecord(annotations: pv.metadata.annotations)
        #expect(all == ["\(record.member):\(record.directory)"])
        try await second.stop()
    }

    @Test("a claim re-created while its old PV awaits deletion keeps its data")
    func recreatedDuringPendingDelete_keepsData() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let members = ["a", "b"]
        // An engine that provisions but does not reclaim yet (deletes pending).
        let provisioner = try bed.startEngine(bed.configuration(members: members)) { $0.engine.volumeWorkers = 0 }
        try await bed.createClaim("ns", "web", className: "nfs")
        let old = try await bed.waitForBound("ns", "web")
        let record = try VolumeRecord(annotations: old.metadata.annotations)
        let dir = bed.export(record.member) + "/" + record.directory.description
        try Data("precious".utf8).write(to: URL(fileURLWithPath: dir + "/data"))
        try await bed.deleteClaim("ns", "web")
        try await bed.waitUntil("old PV Released") { try await bed.volume(old.metadata.name)?.status?.phase == "Released" }
        let newUID = try await bed.createClaim("ns", "web", className: "nfs")
        let fresh = try await bed.waitForBound("ns", "web")
        #expect(fresh.metadata.name == "pvc-\(newUID)")
        try await provisioner.stop()
        // Now the deletion of the old PV runs: it must not take the new claim's data.
        let reclaimer = try bed.startEngine(bed.configuration(members: members))
        try await bed.waitUntil("old PV deleted") { try await bed.volume(old.metadata.name) == nil }
        #expect(try String(contentsOfFile: dir + "/data", encoding: .utf8) == "precious")
        #expect(try VolumeRecord(annotations: fresh.metadata.annotations).directory == record.directory)
        try await bed.waitUntil("VolumeDataKept event") { try await bed.events(about: old.metadata.name).contains { $0.reason == "VolumeDataKept" } }
        try await reclaimer.stop()
    }

    @Test("a member whose calls hang costs one timeout; claims keep being placed on the others")
    func hungMember_othersKeepWorking() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let hung = Mutex<FakeVolumeStore?>(nil)
        let run = try bed.startEngine(bed.configuration(members: ["a", "b", "c"])) { options in
            let standard = MemberRegistry.standardFactory(requireMountPoints: false)
            options.storeFactory = { member throws(StorageError) in
                let store = try standard(member)
                guard member.name == "b" else { return store }
                let fake = FakeVolumeStore(wrapping: store)
                fake.inject(.hang)
                hung.withLock { $0 = fake }
                return fake
            }
            options.storage = MemberStorage.Configuration(operationTimeout: .milliseconds(300), probeTimeout: .milliseconds(300))
        }
        let ring = try RingSnapshotOf(bed.configuration(members: ["a", "b", "c"]))
        let names = (0..<15).map { "c\($0)" }
        #expect(try names.contains { try ring.locate("apps-\($0)").name == "b" }, "some claims belong to b by the ring")
        for n in names { try await bed.createClaim("apps", n, className: "nfs") }
        for n in names {
            let pv = try await bed.waitForBound("apps", n)
            let record = try VolumeRecord(annotations: pv.metadata.annotations)
            #expect(record.member != "b")
            if try ring.locate("apps-\(n)").name == "b" {
                #expect(pv.metadata.annotations[Annotations.placement] == "spill-over")
            }
        }
        let fake = try #require(hung.withLock { $0 })
        #expect(fake.hungCalls >= 1, "b was tried and hung")
        let health = try #require(run.engine.registry.entry("b")).storage
        #expect(await health.health.condition.isAvailable == false)
        fake.releaseHangs()
        fake.clearFaults()
        run.engine.registry.entry("b")?.storage.shutdown()
        try await run.stop()
    }

    @Test("draining members take no new claims but keep serving their volumes")
    func drainingMember_takesNoNewClaims() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let run = try bed.startEngine(bed.configuration(members: ["a", "b"]))
        try await bed.createClaim("x", "old", className: "nfs")
        let old = try await bed.waitForBound("x", "old")
        let oldMember = try VolumeRecord(annotations: old.metadata.annotations).member
        try await run.engine.reload(bed.configuration(members: ["a", "b"], draining: [oldMember]))
        for i in 0..<8 { try await bed.createClaim("x", "n\(i)", className: "nfs") }
        for i in 0..<8 {
            let pv = try await bed.waitForBound("x", "n\(i)")
            #expect(try VolumeRecord(annotations: pv.metadata.annotations).member != oldMember)
        }
        // Its existing volume is still reclaimed there.
        try await bed.deleteClaim("x", "old")
        try await bed.waitUntil("old PV deleted") { try await bed.volume(old.metadata.name) == nil }
        #expect(bed.volumeDirectories(oldMember).isEmpty)
        try await run.stop()
    }

    @Test("if the PV cannot be saved, the directory made for it is removed and a warning says so")
    func pvSaveFailure_removesDirectory() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let refuse = bed.cluster.injectFault(FaultRule(method: "POST", path: .contains("/persistentvolumes"), trigger: .always,
                                                       action: .status(code: 403, reason: "Forbidden", message: "test: no", retryAfterSeconds: nil)))
        // A long retry backoff keeps the next attempt (which writes the record again) out of
        // the window in which the cleanup is checked.
        let run = try bed.startEngine(bed.configuration(members: ["a"])) {
            $0.engine.volumeCreateAttempts = 2
            $0.engine.backoff = ExponentialBackoff(base: .seconds(5), maximum: .seconds(5))
        }
        try await bed.createClaim("q", "denied", className: "nfs")
        try await bed.waitUntil("warning about the PV") {
            try await bed.events(about: "denied", namespace: "q").contains {
                $0.reason == "ProvisioningFailed" && ($0.message ?? "").contains("removed the directory made for it")
            }
        }
        #expect(bed.volumeDirectories("a").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: bed.export("a") + "/q-denied"))
        bed.cluster.removeFault(refuse)
        try await bed.waitForBound("q", "denied")
        #expect(bed.volumeDirectories("a") == ["q-denied"])
        try await run.stop()
    }
}
