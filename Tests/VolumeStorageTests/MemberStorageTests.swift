// MemberStorage: volumes with markers, ownership-checked delete and archive, health.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing

/// A settable "now" for the health state machine.
final class ManualNow: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}

/// A member over `<tmp>/export`, its store wrapped in a FakeVolumeStore.
struct MemberFixture {
    let directory: TempDirectory
    let export: String
    let fake: FakeVolumeStore
    let member: MemberStorage
    let clock: ManualNow

    init(name: String = "server-a", timeout: Duration = .seconds(30), threads: Int = 2) throws {
        directory = try TempDirectory(prefix: "ncp-member")
        export = try directory.makeDirectory("export")
        let store = try MountedVolumeStore(configuration: .init(member: name, mountPath: export, requireMountPoint: false))
        fake = FakeVolumeStore(wrapping: store)
        let clock = ManualNow()
        self.clock = clock
        member = MemberStorage(
            store: fake,
            configuration: .init(
                operationTimeout: timeout, probeTimeout: timeout,
                executor: .init(threadCount: threads),
                health: .init(failureThreshold: 3, initialProbeBackoff: .seconds(1), routineProbeInterval: .seconds(30))),
            now: { clock.now })
    }

    func local(_ relative: String) -> String { export + "/" + relative }
}

func marker(_ namespace: String = "team-a", _ name: String = "db", uid: String = "uid-1") -> ClaimIdentity {
    ClaimIdentity(namespace: namespace, name: name, uid: uid)
}

/// The error an async storage call throws, if any.
func memberError<T>(_ body: () async throws(StorageError) -> T) async -> StorageError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

@Suite("MemberStorage volumes")
struct MemberStorageVolumeTests {
    @Test func createVolume_writesTheRecordOutsideTheVolume_andARetryIsAlreadyOurs() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a-db")
        let created = try await f.member.createVolume(relativePath: path, mode: FileMode(0o750), owner: marker())
        #expect(created.isCreated)
        #expect(localStat(f.local("team-a-db"))?.mode == 0o750)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.local("team-a-db")).isEmpty, "nothing of ours inside the volume")
        let record = try #require(try await f.member.readRecord(relativePath: path))
        #expect(record.claim == marker() && record.state == .creating && record.kind == .volume)
        #expect(localStat(f.local(OwnershipRecord.recordPath(for: path).description))?.mode == 0o644)
        #expect(localStat(f.local(ReservedNames.volumesDirectory.description))?.mode == 0o755)
        #expect(f.member.records.record(at: path) == record, "the index learned it")
        #expect(try await f.member.createVolume(relativePath: path, mode: FileMode(0o750), owner: marker()) == .alreadyOurs(record))
    }

    @Test func createVolume_nestedPattern_recordsTheParents_andNeverHandsThemOut() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        #expect(try await f.member.createVolume(relativePath: rel("team-a/db"), mode: .defaultDirectory, owner: marker()).isCreated)
        #expect(localStat(f.local("team-a/db"))?.mode == 0o777)
        #expect(localStat(f.local("team-a"))?.mode == 0o755, "parents: traversable, not writable by all")
        #expect(try await f.member.readRecord(relativePath: rel("team-a"))?.kind == .parent)
        // The flat claim `team/a` renders `team-a`: the parent of other volumes, refused.
        let taken = await memberError { () async throws(StorageError) in
            try await f.member.createVolume(relativePath: rel("team-a"), mode: .defaultDirectory, owner: marker("team", "a", uid: "attacker"))
        }
        #expect(taken == .pathTaken(member: "server-a", path: "team-a", holder: "a parent directory of other volumes"))
        let delete = await memberError { () async throws(StorageError) in
            try await f.member.deleteVolume(relativePath: rel("team-a"), expectedClaimUID: "attacker")
        }
        #expect({ if case .overlapsVolume = delete { true } else { false } }(), "got \(String(describing: delete))")
        #expect(localStat(f.local("team-a/db"))?.kind == .directory)
    }

    @Test func createVolume_insideAnotherVolume_isRefused() async throws {
        // A flat volume `team-a` exists; a nested pattern renders `team-a/db` inside it.
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        _ = try await f.member.createVolume(relativePath: rel("team-a"), mode: .defaultDirectory, owner: marker("team", "a", uid: "u1"))
        let error = await memberError { () async throws(StorageError) in
            try await f.member.createVolume(relativePath: rel("team-a/db"), mode: .defaultDirectory, owner: marker(uid: "u2"))
        }
        #expect(error == .overlapsVolume(member: "server-a", path: "team-a/db", other: "team-a", inside: true))
        #expect(localStat(f.local("team-a/db")) == nil)
    }

    @Test func createVolume_sameRenderedNameForAnotherClaim_isPathTaken() async throws {
        // `team-a`/`db` and `team`/`a-db` both render `team-a-db` (the Go original's bug 3).
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a-db")
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, owner: marker("team-a", "db", uid: "u1"))
        let error = await memberError { () async throws(StorageError) in
            try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, owner: marker("team", "a-db", uid: "u2"))
        }
        #expect(error == .pathTaken(member: "server-a", path: "team-a-db", holder: "claim team-a/db (uid u1)"))
        #expect(try await f.member.readRecord(relativePath: path)?.claimUID == "u1", "the first owner keeps it")
    }

    @Test func createVolume_staleIndex_theRecordFileStillRefuses() async throws {
        // Another member object (a restarted provisioner) wrote the record; this one's index
        // has not seen it.
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let other = MemberStorage(store: f.fake)
        defer { other.shutdown() }
        _ = try await other.createVolume(relativePath: rel("vol"), mode: .defaultDirectory, owner: marker(uid: "u1"))
        #expect(f.member.records.record(at: try rel("vol")) == nil)
        let error = await memberError { () async throws(StorageError) in
            try await f.member.createVolume(relativePath: rel("vol"), mode: .defaultDirectory, owner: marker("x", "y", uid: "u2"))
        }
        #expect(error == .pathTaken(member: "server-a", path: "vol", holder: "claim team-a/db (uid u1)"))
    }

    @Test func createVolume_unrecordedDirectory_isNeverAdopted_whateverItContains() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        try localMkdir(f.local("team-a-db"))
        try localWrite(f.local("team-a-db/data.txt"), "someone's data")
        // Even an old-style marker naming this very claim changes nothing.
        try localWrite(f.local("team-a-db/.nfs-cluster-provisioner.json"),
                       "{\"claimName\":\"db\",\"claimNamespace\":\"team-a\",\"claimUID\":\"uid-1\",\"version\":1}")
        let error = await memberError { () async throws(StorageError) in
            try await f.member.createVolume(relativePath: rel("team-a-db"), mode: .defaultDirectory, owner: marker())
        }
        #expect(error == .unrecordedDirectory(member: "server-a", path: "team-a-db", operation: .createVolume))
        #expect(try await f.member.readRecord(relativePath: rel("team-a-db")) == nil, "no record written")
        #expect(localRead(f.local("team-a-db/data.txt")) == "someone's data")
    }

    @Test func adoptVolume_onlyFromTheRecordedPredecessor_ofTheSameName() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a-db")
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, owner: marker(uid: "u1"))
        let wrongPredecessor = await memberError { () async throws(StorageError) in
            try await f.member.adoptVolume(relativePath: path, claim: marker(uid: "u3"), volumeName: "pvc-u3", replacingClaimUID: "u2",
                                           mode: .defaultDirectory, at: Date())
        }
        #expect(wrongPredecessor == .recordChanged(member: "server-a", path: "team-a-db", found: "claim team-a/db (uid u1)"))
        let otherName = await memberError { () async throws(StorageError) in
            try await f.member.adoptVolume(relativePath: path, claim: marker("team", "a-db", uid: "u4"), volumeName: "pvc-u4",
                                           replacingClaimUID: "u1", mode: .defaultDirectory, at: Date())
        }
        #expect({ if case .pathTaken = otherName { true } else { false } }())
        // A StatefulSet claim re-created with a new uid takes its predecessor's directory over.
        let adopted = try await f.member.adoptVolume(relativePath: path, claim: marker(uid: "u3"), volumeName: "pvc-u3",
                                                     replacingClaimUID: "u1", mode: .defaultDirectory, at: Date())
        #expect(adopted.claimUID == "u3" && adopted.volumeName == "pvc-u3")
        #expect(try await f.member.readRecord(relativePath: path)?.claimUID == "u3")
        // Idempotent.
        _ = try await f.member.adoptVolume(relativePath: path, claim: marker(uid: "u3"), volumeName: "pvc-u3",
                                           replacingClaimUID: "u1", mode: .defaultDirectory, at: Date())
    }

    @Test func garbageRecord_keepsThePathTaken_andTheDataForDelete() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        _ = try await f.member.createVolume(relativePath: rel("vol"), mode: .defaultDirectory, owner: marker())
        try localWrite(f.local(OwnershipRecord.recordPath(for: rel("vol")).description), "{\"version\": \"one\"")
        let delete = await memberError { () async throws(StorageError) in
            try await f.member.deleteVolume(relativePath: rel("vol"), expectedClaimUID: "uid-1")
        }
        #expect({ if case .invalidRecord = delete { true } else { false } }(), "got \(String(describing: delete))")
        #expect(localStat(f.local("vol"))?.kind == .directory, "an unreadable record keeps the data")
        // A fresh index: the damaged file is reported, and the path stays taken by the file.
        let fresh = MemberStorage(store: f.fake)
        defer { fresh.shutdown() }
        let problems = try await fresh.loadRecords()
        #expect(problems.count == 1)
        let create = await memberError { () async throws(StorageError) in
            try await fresh.createVolume(relativePath: rel("vol"), mode: .defaultDirectory, owner: marker("x", "y", uid: "u9"))
        }
        #expect({ if case .invalidRecord = create { true } else { false } }(), "got \(String(describing: create))")
    }

    @Test func tenantWritesInsideItsVolume_changeNothingTheMemberDecides() async throws {
        // The workload replaces what used to be the in-volume marker by a FIFO, a symlink
        // and a huge file: deletion still follows the record, and never blocks.
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        _ = try await f.member.createVolume(relativePath: rel("vol"), mode: .defaultDirectory, owner: marker())
        #expect(mkfifo(f.local("vol/.nfs-cluster-provisioner.json"), 0o644) == 0)
        #expect(symlink("/etc", f.local("vol/link")) == 0)
        try localWrite(f.local("vol/big"), String(repeating: "x", count: 128 * 1024))
        #expect(try await f.member.deleteVolume(relativePath: rel("vol"), expectedClaimUID: "uid-1") == .deleted)
        #expect(localStat(f.local("vol")) == nil)
        #expect(try await f.member.readRecord(relativePath: rel("vol")) == nil, "the record goes with the directory")
        #expect(f.member.records.record(at: try rel("vol")) == nil)
    }

    @Test func loadRecords_fillsTheIndex_andKeepsWritesMadeDuringTheListing() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        for i in 0..<300 {
            _ = try await f.member.createVolume(relativePath: rel("v\(i)"), mode: .defaultDirectory, owner: marker("ns", "c\(i)", uid: "u\(i)"))
        }
        let fresh = MemberStorage(store: f.fake)
        defer { fresh.shutdown() }
        #expect(fresh.records.isLoaded == false)
        #expect(try await fresh.loadRecords().isEmpty)
        #expect(fresh.records.isLoaded && fresh.records.count == 300)
        #expect(fresh.records.records(claimUID: "u42").first?.path == (try rel("v42")))
        #expect(fresh.records.records(namespace: "ns", name: "c7").count == 1)
        // A write that lands while a listing runs survives it.
        fresh.records.beginLoad()
        _ = try await fresh.createVolume(relativePath: rel("late"), mode: .defaultDirectory, owner: marker("ns", "late", uid: "ul"))
        fresh.records.finishLoad([])
        #expect(fresh.records.record(at: try rel("late"))?.claimUID == "ul")
        #expect(fresh.records.record(at: try rel("v1")) == nil, "the listing's content replaced the rest")
    }

    @Test func deleteVolume_whenTheMarkerNamesAnotherClaim_isRefusedAndKeepsTheData() async throws {
        // A claim re-created while its old PV was being deleted reused the directory.
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a-db")
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, owner: marker(uid: "new"))
        try localWrite(f.local("team-a-db/data.txt"), "live data")
        let error = await memberError { () async throws(StorageError) in
            try await f.member.deleteVolume(relativePath: path, expectedClaimUID: "old")
        }
        #expect(error == .ownedByAnotherClaim(member: "server-a", path: "team-a-db", owner: marker(uid: "new"), expectedClaimUID: "old"))
        #expect(error?.isRetryable == false)
        #expect(localRead(f.local("team-a-db/data.txt")) == "live data")
        let archive = await memberError { () async throws(StorageError) in
            try await f.member.archiveVolume(relativePath: path, archiveName: "pvc-old-x", expectedClaimUID: "old")
        }
        #expect({ if case .ownedByAnotherClaim = archive { true } else { false } }())
        #expect(localRead(f.local("team-a-db/data.txt")) == "live data")
    }

    @Test func deleteVolume_removesTheTree_andIsIdempotent() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a-db")
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, owner: marker())
        try localMkdir(f.local("team-a-db/sub/deeper"))
        try localWrite(f.local("team-a-db/sub/deeper/file"), "x")
        #expect(try await f.member.deleteVolume(relativePath: path, expectedClaimUID: "uid-1") == .deleted)
        #expect(localStat(f.local("team-a-db")) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.local(ReservedNames.trashDirectory.description)).isEmpty)
        #expect(try await f.member.deleteVolume(relativePath: path, expectedClaimUID: "uid-1") == .alreadyGone)
    }

    @Test func removeOrphan_removesOnlyAnEmptyDirectory_ofARecordStillCreating() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        _ = try await f.member.createVolume(relativePath: rel("empty"), mode: .defaultDirectory, owner: marker("x", "e", uid: "ue"))
        _ = try await f.member.createVolume(relativePath: rel("full"), mode: .defaultDirectory, owner: marker("x", "f", uid: "uf"))
        try localWrite(f.local("full/one"), "1")
        try localWrite(f.local("full/two"), "2")
        #expect(try await f.member.removeOrphan(relativePath: rel("full"), claimUID: "uf") == .keptNotEmpty)
        #expect(localRead(f.local("full/two")) == "2")
        #expect(try await f.member.removeOrphan(relativePath: rel("empty"), claimUID: "other") == .changed)
        #expect(try await f.member.removeOrphan(relativePath: rel("empty"), claimUID: "ue") == .removed)
        #expect(localStat(f.local("empty")) == nil)
        #expect(try await f.member.readRecord(relativePath: rel("empty")) == nil)
    }

    @Test func deleteVolume_withoutRecord_keepsTheData() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        try localMkdir(f.local("legacy"))
        try localWrite(f.local("legacy/data"), "x")
        let error = await memberError { () async throws(StorageError) in
            try await f.member.deleteVolume(relativePath: rel("legacy"), expectedClaimUID: "uid-1")
        }
        #expect(error == .unrecordedDirectory(member: "server-a", path: "legacy", operation: .deleteVolume))
        #expect(error?.isRetryable == false)
        #expect(localRead(f.local("legacy/data")) == "x")
    }

    @Test func deleteVolume_finishesWhatAnEarlierAttemptLeftInTheTrash() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        try localMkdir(f.local(ReservedNames.trashDirectory.description + "/uid-1/left/over"))
        #expect(try await f.member.deleteVolume(relativePath: rel("gone"), expectedClaimUID: "uid-1") == .deleted)
        #expect(localStat(f.local(ReservedNames.trashDirectory.description + "/uid-1")) == nil)
    }

    @Test func deleteVolume_largeTree_isRemovedInChunks() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        _ = try await f.member.createVolume(relativePath: rel("big"), mode: .defaultDirectory, owner: marker())
        for index in 0..<500 { try localWrite(f.local("big/f\(index)"), "x") }
        #expect(try await f.member.deleteVolume(relativePath: rel("big"), expectedClaimUID: "uid-1") == .deleted)
        #expect(localStat(f.local("big")) == nil)
    }

    @Test(arguments: [RelativePath.root, ReservedNames.directory, ReservedNames.archiveDirectory, ReservedNames.trashDirectory])
    func volumeOperations_refuseTheRootAndTheReservedArea(_ path: RelativePath) async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let error = await memberError { () async throws(StorageError) in
            try await f.member.deleteVolume(relativePath: path, expectedClaimUID: "uid-1")
        }
        if path.isRoot {
            #expect(error == .refusedExportRoot(member: "server-a", operation: .deleteVolume))
        } else {
            #expect(error == .reservedPath(member: "server-a", operation: .deleteVolume, path: path.description))
        }
        #expect(f.fake.totalCalls == 0, "refused before any filesystem call")
    }

    @Test func archiveVolume_isARenameIntoTheArchiveArea_collisionFree() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a/db")
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, owner: marker())
        try localWrite(f.local("team-a/db/data.txt"), "first")
        let inode = localStat(f.local("team-a/db"))?.inode
        let name = ArchiveNaming.name(volumeName: "pvc-uid-1", at: Date(timeIntervalSince1970: 1_780_000_000))
        #expect(name == "pvc-uid-1-20260528T202640Z")

        let first = try await f.member.archiveVolume(relativePath: path, archiveName: name, expectedClaimUID: "uid-1")
        #expect(first == .archived(try ReservedNames.archiveDirectory.appending(name)))
        #expect(localStat(f.local("team-a/db")) == nil)
        let archived = f.local(ReservedNames.archiveDirectory.description + "/" + name)
        #expect(localStat(archived)?.inode == inode, "a rename, not a copy")
        #expect(localRead(archived + "/data.txt") == "first")

        // The same name again (same second): a new name, the first archive untouched.
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, owner: marker())
        try localWrite(f.local("team-a/db/data.txt"), "second")
        let second = try await f.member.archiveVolume(relativePath: path, archiveName: name, expectedClaimUID: "uid-1")
        #expect(second == .archived(try ReservedNames.archiveDirectory.appending(name + "-1")))
        #expect(localRead(archived + "/data.txt") == "first")
        #expect(localRead(archived + "-1/data.txt") == "second")
        #expect(try await f.member.archiveVolume(relativePath: path, archiveName: name, expectedClaimUID: "uid-1") == .alreadyGone)
    }

    @Test func freeSpace_reportsTheExport() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let stats = try await f.member.freeSpace()
        #expect(stats.totalBytes > 0)
    }
}
