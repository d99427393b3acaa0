import Foundation
import Synchronization
import Testing
import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import TestTraits
import NFSServerHarness

/// The attacks a tenant can mount from inside its own volume or with its claim's name,
/// end to end on local-directory members: each must end safely.
/// The kinds of member the attacks run against.
enum MemberKind: String, CaseIterable, Sendable {
    /// The export mounted in the pod (a local directory here).
    case mounted
    /// NFSv3 spoken directly (an nfs-ganesha server on loopback).
    case direct
}

/// One member `a` of the given kind, and the local directory behind its export (where a
/// tenant's pod is simulated by writing into its volume).
struct AttackBed {
    let bed: EngineTestBed
    let run: EngineRun
    let local: String
    private let server: GaneshaServer?

    static func start(_ kind: MemberKind, _ bed: EngineTestBed) async throws -> AttackBed {
        switch kind {
        case .mounted:
            let run = try bed.startEngine(bed.configuration(members: ["a"]))
            return AttackBed(bed: bed, run: run, local: bed.export("a"), server: nil)
        case .direct:
            let server = try await GaneshaServer.start()
            do {
                let run = try bed.startEngine(bed.configuration([server.memberConfiguration(name: "a")]), configure: DirectEngine.configure)
                return AttackBed(bed: bed, run: run, local: server.exportDirectory(), server: server)
            } catch {
                server.stop()
                throw error
            }
        }
    }

    func record(_ directory: String) -> OwnershipRecord? {
        EngineTestBed.records(under: local).first { $0.path.description == directory }
    }

    func stop() async throws {
        try await run.stop()
        server?.stop()
    }
}

@Suite("Tenant isolation: ownership lives outside the volume", .timeLimit(.minutes(3)), .shutsDownTestBeds)
struct TenantIsolationTests {
    let nested = "${.PVC.namespace}/${.PVC.name}"

    func directory(_ pv: PersistentVolume) throws -> String {
        try VolumeRecord(annotations: pv.metadata.annotations).directory.description
    }

    @Test("a flat claim named like the parent of nested volumes gets its own directory; deleting it deletes nothing of theirs",
          arguments: MemberKind.allCases)
    func flatClaim_cannotTakeOverNestedParent(_ kind: MemberKind) async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nested", parameters: ["pathPattern": nested, "onDelete": "delete"])
        try await bed.createClass("flat", parameters: ["onDelete": "delete"])
        let attack = try await AttackBed.start(kind, bed)
        try await bed.createClaim("team-a", "db", className: "nested")
        #expect(try directory(try await bed.waitForBound("team-a", "db")) == "team-a/db")
        try Data("victim".utf8).write(to: URL(fileURLWithPath: attack.local + "/team-a/db/rows"))

        // `team/a` with the flat default renders `team-a`: the parent of the nested volume.
        try await bed.createClaim("team", "a", className: "flat")
        let attacker = try await bed.waitForBound("team", "a")
        #expect(try directory(attacker) != "team-a", "the parent is never handed out")
        #expect(!(try directory(attacker)).hasPrefix("team-a/"))
        try await bed.deleteClaim("team", "a")
        try await bed.waitUntil("attacker's PV gone") { try await bed.volume(attacker.metadata.name) == nil }
        #expect(try String(contentsOfFile: attack.local + "/team-a/db/rows", encoding: .utf8) == "victim")
        #expect(attack.record("team-a")?.kind == .parent)
        try await attack.stop()
    }

    @Test("a nested claim is never created inside an existing flat volume")
    func nestedClaim_neverInsideAFlatVolume() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nested", parameters: ["pathPattern": nested])
        try await bed.createClass("flat")
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        try await bed.createClaim("team", "a", className: "flat")
        #expect(try directory(try await bed.waitForBound("team", "a")) == "team-a")
        try await bed.createClaim("team-a", "db", className: "nested")
        try await bed.waitUntil("ProvisioningFailed for team-a/db") {
            try await bed.events(about: "db", namespace: "team-a").contains { $0.reason == "ProvisioningFailed" && ($0.message ?? "").contains("taken") }
        }
        #expect(try await bed.claim("team-a", "db")?.status?.phase == "Pending")
        #expect(!FileManager.default.fileExists(atPath: bed.export("a") + "/team-a/db"))
        try await run.stop()
    }

    @Test("a forged marker inside the attacker's volume steers no claim into it", arguments: MemberKind.allCases)
    func forgedMarker_steersNothing(_ kind: MemberKind) async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let attack = try await AttackBed.start(kind, bed)
        // `team/a-db` renders `team-a-db`, as `team-a/db` will.
        try await bed.createClaim("team", "a-db", className: "nfs")
        let attacker = try await bed.waitForBound("team", "a-db")
        let attackerDirectory = try directory(attacker)
        #expect(attackerDirectory == "team-a-db")
        // The attacker's pod writes a marker naming the victim, as the old layout had it.
        let forged = #"{"claimName":"db","claimNamespace":"team-a","claimUID":"x","createdAt":"2026-01-01T00:00:00Z","provisioner":"p","version":1,"volumeName":"pvc-x"}"#
        try Data(forged.utf8).write(to: URL(fileURLWithPath: attack.local + "/team-a-db/.nfs-cluster-provisioner.json"))
        try await bed.createClaim("team-a", "db", className: "nfs")
        let victim = try await bed.waitForBound("team-a", "db")
        #expect(try directory(victim) != attackerDirectory, "the victim never lands in the attacker's directory")
        #expect(victim.metadata.annotations[Annotations.placement] == "ring")
        #expect(attack.record(attackerDirectory)?.claim?.namespace == "team")
        try await attack.stop()
    }

    @Test("whatever the tenant puts in its volume (a foreign marker, a FIFO, a symlink), onDelete: delete deletes it",
          arguments: MemberKind.allCases)
    func tenantContent_cannotBlockOrSkipDeletion(_ kind: MemberKind) async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let attack = try await AttackBed.start(kind, bed)
        try await bed.createClaim("apps", "one", className: "nfs")
        try await bed.createClaim("apps", "two", className: "nfs")
        let one = try await bed.waitForBound("apps", "one")
        let two = try await bed.waitForBound("apps", "two")
        let forged = #"{"claimName":"x","claimNamespace":"y","claimUID":"someone-else","createdAt":"2026-01-01T00:00:00Z","provisioner":"p","version":1,"volumeName":"pvc-x"}"#
        try Data(forged.utf8).write(to: URL(fileURLWithPath: attack.local + "/apps-one/.nfs-cluster-provisioner.json"))
        try Data(repeating: 0x41, count: 128 * 1024).write(to: URL(fileURLWithPath: attack.local + "/apps-one/big"))
        #expect(mkfifo(attack.local + "/apps-two/.nfs-cluster-provisioner.json", 0o644) == 0)
        let outside = bed.root.child("outside-the-volume")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: outside))
        #expect(symlink(outside, attack.local + "/apps-two/link") == 0)
        for (name, pv) in [("one", one), ("two", two)] {
            try await bed.deleteClaim("apps", name)
            try await bed.waitUntil("PV of \(name) gone") { try await bed.volume(pv.metadata.name) == nil }
            #expect(!FileManager.default.fileExists(atPath: attack.local + "/apps-\(name)"), "the data went as the policy says")
        }
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "keep", "the symlink's target is untouched")
        try await attack.stop()
    }

    @Test("a member re-pointed to another export under the same name reclaims nothing of its old PVs")
    func repointedMember_reclaimsNothing() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let first = bed.configuration(members: ["a"])
        let run = try bed.startEngine(first)
        try await bed.createClaim("apps", "old", className: "nfs")
        let old = try await bed.waitForBound("apps", "old")
        // The same member name, another server and export (mounted elsewhere), holding a
        // directory of the same name.
        var second = first
        second.members[0].address = "nfs-other.example.com"
        second.members[0].export = "/exports/other"
        second.members[0].mountPath = bed.export("other")
        try FileManager.default.createDirectory(atPath: bed.export("other") + "/apps-old", withIntermediateDirectories: true)
        try Data("other data".utf8).write(to: URL(fileURLWithPath: bed.export("other") + "/apps-old/file"))
        try await run.engine.reload(second)
        try await bed.deleteClaim("apps", "old")
        try await bed.waitUntil("VolumeFailedDelete naming the re-pointing") {
            try await bed.events(about: old.metadata.name).contains { ($0.message ?? "").contains("re-pointed") }
        }
        #expect(try String(contentsOfFile: bed.export("other") + "/apps-old/file", encoding: .utf8) == "other data")
        #expect(FileManager.default.fileExists(atPath: bed.export("a") + "/apps-old"))
        #expect(try await bed.volume(old.metadata.name) != nil, "the PV stays: it is the pointer to the data")
        try await run.stop()
    }

    @Test("a directory made by hand at a claim's path is never adopted", arguments: MemberKind.allCases)
    func handMadeDirectory_isNotAdopted(_ kind: MemberKind) async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let attack = try await AttackBed.start(kind, bed)
        try FileManager.default.createDirectory(atPath: attack.local + "/apps-db", withIntermediateDirectories: true)
        try Data("not yours".utf8).write(to: URL(fileURLWithPath: attack.local + "/apps-db/secret"))
        try await bed.createClaim("apps", "db", className: "nfs")
        let pv = try await bed.waitForBound("apps", "db")
        #expect(try directory(pv) != "apps-db")
        try await bed.deleteClaim("apps", "db")
        try await bed.waitUntil("PV gone") { try await bed.volume(pv.metadata.name) == nil }
        #expect(try String(contentsOfFile: attack.local + "/apps-db/secret", encoding: .utf8) == "not yours")
        try await attack.stop()
    }

    @Test("volumes made before records existed get records at start: ours (annotations) and the Go original's (spec.nfs.path)")
    func migration_recordsOlderVolumes() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        for dir in ["apps-ours", "apps-legacy-pvc-1"] {
            try FileManager.default.createDirectory(atPath: bed.export("a") + "/" + dir, withIntermediateDirectories: true)
        }
        func pv(_ name: String, claim: String, uid: String, server: String, path: String, annotations: [String: String]) -> PersistentVolume {
            PersistentVolume(
                metadata: ObjectMeta(name: name, annotations: annotations.merging([Annotations.provisionedBy: bed.provisionerName]) { a, _ in a }),
                spec: .init(capacity: ["storage": Quantity("1Gi")], accessModes: ["ReadWriteMany"],
                            persistentVolumeReclaimPolicy: "Retain", storageClassName: "nfs",
                            claimRef: ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: "apps", name: claim, uid: uid),
                            nfs: NFSVolumeSource(server: server, path: path)))
        }
        _ = try await bed.client.create(pv("pvc-ours", claim: "ours", uid: "u-ours", server: "nfs-a.example.com", path: "/exports/a/apps-ours",
                                           annotations: VolumeRecord(member: "a", directory: try RelativePath("apps-ours"), onDelete: .delete, claimUID: "u-ours").annotations))
        // The Go original named the export path as the server.
        _ = try await bed.client.create(pv("pvc-1", claim: "legacy", uid: "u-legacy", server: "/exports/a", path: "/exports/a/apps-legacy-pvc-1", annotations: [:]))
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        try await bed.waitUntil("records written") { bed.ownershipRecord("a", "apps-legacy-pvc-1") != nil && bed.ownershipRecord("a", "apps-ours") != nil }
        #expect(bed.ownershipRecord("a", "apps-ours")?.origin == .migrated)
        #expect(bed.ownershipRecord("a", "apps-ours")?.claimUID == "u-ours")
        #expect(bed.ownershipRecord("a", "apps-legacy-pvc-1")?.origin == .legacy)
        #expect(bed.ownershipRecord("a", "apps-legacy-pvc-1")?.claim?.name == "legacy")
        try await run.stop()
    }
}

/// Filesystem calls per new claim, counted at the VolumeStore boundary: the same whatever
/// the number of members, and none on members that are not chosen.
@Suite("Per-claim storage cost does not grow with the member count", .serialized, .shutsDownTestBeds)
struct PerClaimCostTests {
    @Test(arguments: [3, 30, 300])
    func callsPerClaim_onlyOnTheChosenMember(_ memberCount: Int) async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let stores = Mutex<[String: FakeVolumeStore]>([:])
        let names = (0..<memberCount).map { "m\($0)" }
        let run = try bed.startEngine(bed.configuration(members: names)) { options in
            let standard = MemberRegistry.standardFactory(requireMountPoints: false)
            options.storeFactory = { (member: MemberConfiguration) throws(StorageError) -> any VolumeStore in
                let fake = FakeVolumeStore(wrapping: try standard(member))
                stores.withLock { $0[member.name] = fake }
                return fake
            }
            options.engine.probeInterval = .seconds(3600)
            options.engine.resyncPeriod = .seconds(3600)
            // A loaded machine must not turn a slow call into an unhealthy member here: the
            // probe loop that would bring it back is turned off.
            options.storage = MemberStorage.Configuration(operationTimeout: .seconds(60), probeTimeout: .seconds(60),
                                                          executor: BlockingExecutor.Configuration(threadCount: 1))
        }
        // Warm up: every member joined (records listed, free space read).
        try await bed.createClaim("warm", "up", className: "nfs")
        let warm = try VolumeRecord(annotations: try await bed.waitForBound("warm", "up").metadata.annotations)
        // Its record is marked bound just after its PV: not a call to count for the next claim.
        try await bed.waitForRecordBound(warm.member, warm.directory.description)
        func counts() -> [String: Int] { stores.withLock { $0.mapValues(\.totalCalls) } }
        let before = counts()
        try await bed.createClaim("apps", "measured", className: "nfs")
        let pv = try await bed.waitForBound("apps", "measured")
        let placed = try VolumeRecord(annotations: pv.metadata.annotations)
        let chosen = placed.member
        try await bed.waitForRecordBound(chosen, placed.directory.description)
        let after = counts()
        let delta = after.map { ($0.key, $0.value - (before[$0.key] ?? 0)) }
        let others = delta.filter { $0.0 != chosen }.map(\.1).reduce(0, +)
        let onChosen = delta.first { $0.0 == chosen }?.1 ?? -1
        #expect(others == 0, "members not chosen saw \(others) calls")
        // stat, record write + rename, mkdir, record marked bound.
        #expect(onChosen == 5, "the chosen member saw \(onChosen) calls")
        try await run.stop()
    }
}

@Suite("What a crash leaves behind", .shutsDownTestBeds)
struct CrashLeftoverTests {
    @Test("a record still creating for a claim that is gone and has no PV: removed when empty, kept and reported when not")
    func orphans_removedWhenEmpty_keptWhenNot() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        // What a kill between the record and the PV leaves, for claims deleted meanwhile.
        try await bed.leaveCrashLeftovers(on: "a", [("gone-empty", testClaim(ns: "gone", name: "empty", uid: "u-empty")),
                                                    ("gone-full", testClaim(ns: "gone", name: "full", uid: "u-full"))])
        try Data("written before the crash".utf8).write(to: URL(fileURLWithPath: bed.export("a") + "/gone-full/file"))
        try Data("and more".utf8).write(to: URL(fileURLWithPath: bed.export("a") + "/gone-full/second"))
        let run = try bed.startEngine(bed.configuration(members: ["a"])) {
            $0.engine.resyncPeriod = .milliseconds(300)
            $0.engine.orphanGracePeriod = .zero
        }
        // A live claim provisioned meanwhile is not touched.
        try await bed.createClaim("apps", "live", className: "nfs")
        let live = try await bed.waitForBound("apps", "live")
        try await bed.waitUntil("the empty orphan removed") {
            !FileManager.default.fileExists(atPath: bed.export("a") + "/gone-empty") && bed.ownershipRecord("a", "gone-empty") == nil
        }
        #expect(try String(contentsOfFile: bed.export("a") + "/gone-full/file", encoding: .utf8) == "written before the crash")
        #expect(bed.ownershipRecord("a", "gone-full")?.state == .creating, "kept for an operator")
        #expect(FileManager.default.fileExists(atPath: bed.export("a") + "/gone-full/second"))
        let liveDirectory = try VolumeRecord(annotations: live.metadata.annotations).directory.description
        #expect(FileManager.default.fileExists(atPath: bed.export("a") + "/" + liveDirectory))
        try await run.stop()
    }

    @Test("claims placed while the members' records are re-listed all the time: every record kept, no path shared")
    func createsRacingIndexRefreshes_loseNothing() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let run = try bed.startEngine(bed.configuration(members: ["a", "b"])) { $0.engine.resyncPeriod = .milliseconds(20) }
        // `team-a`/`x-<i>` and `team`/`a-x-<i>` render the same paths: the index must keep
        // every fresh record across the re-listings for them to stay apart.
        for i in 0..<15 {
            try await bed.createClaim("team-a", "x-\(i)", className: "nfs")
            try await bed.createClaim("team", "a-x-\(i)", className: "nfs")
        }
        var placed: Set<String> = []
        for i in 0..<15 {
            for (ns, name) in [("team-a", "x-\(i)"), ("team", "a-x-\(i)")] {
                let pv = try await bed.waitForBound(ns, name)
                let record = try VolumeRecord(annotations: pv.metadata.annotations)
                #expect(placed.insert("\(record.member):\(record.directory)").inserted, "\(ns)/\(name) shares \(record.directory)")
            }
        }
        let records = ["a", "b"].flatMap { m in EngineTestBed.records(under: bed.export(m)).map { "\(m):\($0.path)" } }
        #expect(Set(records) == placed)
        try await run.stop()
    }

    @Test("a reclaimed PV is reclaimed once: its later watch events do not delete it again")
    func reclaim_runsOnce() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        try await bed.createClaim("apps", "once", className: "nfs")
        let pv = try await bed.waitForBound("apps", "once")
        try await bed.deleteClaim("apps", "once")
        try await bed.waitUntil("PV gone") { try await bed.volume(pv.metadata.name) == nil }
        // Every watch event of the PV has reached the cache once its deletion has; then
        // every key they queued has been handled once the queues are idle.
        try await bed.waitUntil("PV gone from the engine's cache") { run.engine.controller.context.volumes.get(name: pv.metadata.name) == nil }
        await run.engine.controller.resyncNowAndWait()
        let deletes = bed.cluster.requestLog.filter { $0.method == "DELETE" && $0.path.hasSuffix("/persistentvolumes/\(pv.metadata.name)") }
        #expect(deletes.count == 1, "DELETE of the PV sent \(deletes.count) times")
        try await run.stop()
    }
}
