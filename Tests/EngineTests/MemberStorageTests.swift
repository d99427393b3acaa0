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

func marker(_ namespace: String = "team-a", _ name: String = "db", uid: String = "uid-1") -> OwnershipMarker {
    OwnershipMarker(
        provisioner: "example.com/nfs", claimNamespace: namespace, claimName: name, claimUID: uid,
        volumeName: "pvc-\(uid)", createdAt: Date(timeIntervalSince1970: 1_780_000_000))
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
    @Test func createVolume_createsWithModeAndMarker_andARetryIsAlreadyOurs() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a-db")
        #expect(try await f.member.createVolume(relativePath: path, mode: FileMode(0o750), marker: marker()) == .created)
        #expect(localStat(f.local("team-a-db"))?.mode == 0o750)
        #expect(try await f.member.readMarker(relativePath: path) == marker())
        #expect(try await f.member.createVolume(relativePath: path, mode: FileMode(0o750), marker: marker()) == .alreadyOurs(marker()))
    }

    @Test func createVolume_nestedPattern_createsParents() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        #expect(try await f.member.createVolume(relativePath: rel("team-a/db"), mode: .defaultDirectory, marker: marker()) == .created)
        #expect(localStat(f.local("team-a/db"))?.mode == 0o777)
        #expect(localStat(f.local("team-a"))?.mode == 0o755, "parents: traversable, not writable by all")
        #expect(localRead(f.local("team-a/db/" + ReservedNames.markerFileName)) != nil)
    }

    @Test func createVolume_sameRenderedNameForAnotherClaim_isExistsWithMarker() async throws {
        // `team-a`/`db` and `team`/`a-db` both render `team-a-db` (the Go original's bug 3).
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a-db")
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, marker: marker("team-a", "db", uid: "u1"))
        let other = marker("team", "a-db", uid: "u2")
        let outcome = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, marker: other)
        #expect(outcome == .existsWithMarker(marker("team-a", "db", uid: "u1")))
        if case .existsWithMarker(let found) = outcome { #expect(!found.isSameClaimName(as: other)) }
        #expect(try await f.member.readMarker(relativePath: path)?.claimUID == "u1", "the first owner keeps it")
    }

    @Test func createVolume_legacyDirectory_isExistsWithoutMarker_andCanBeAdopted() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        try localMkdir(f.local("team-a-db"))
        try localWrite(f.local("team-a-db/data.txt"), "old data")
        let path = try rel("team-a-db")
        #expect(try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, marker: marker()) == .existsWithoutMarker)
        try await f.member.adoptVolume(relativePath: path, marker: marker(), replacing: nil)
        try await f.member.adoptVolume(relativePath: path, marker: marker(), replacing: nil)  // idempotent
        #expect(try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, marker: marker()) == .alreadyOurs(marker()))
        #expect(localRead(f.local("team-a-db/data.txt")) == "old data")
    }

    @Test func adoptVolume_whenTheMarkerChanged_isRefused() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a-db")
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, marker: marker(uid: "u1"))
        let error = await memberError { () async throws(StorageError) in
            try await f.member.adoptVolume(relativePath: path, marker: marker(uid: "u3"), replacing: marker(uid: "u2"))
        }
        #expect(error == .markerChanged(member: "server-a", path: "team-a-db", found: marker(uid: "u1")))
        // A StatefulSet claim re-created with a new uid takes its predecessor's directory over.
        try await f.member.adoptVolume(relativePath: path, marker: marker(uid: "u3"), replacing: marker(uid: "u1"))
        #expect(try await f.member.readMarker(relativePath: path)?.claimUID == "u3")
    }

    @Test func garbageMarker_isInvalidMarker_forCreateAndDelete() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        try localMkdir(f.local("vol"))
        try localWrite(f.local("vol/" + ReservedNames.markerFileName), "{\"version\": \"one\"")
        let create = await memberError { () async throws(StorageError) in
            try await f.member.createVolume(relativePath: rel("vol"), mode: .defaultDirectory, marker: marker())
        }
        guard case .invalidMarker(_, let path, _) = create else {
            Issue.record("expected invalidMarker, got \(String(describing: create))")
            return
        }
        #expect(path == "vol/" + ReservedNames.markerFileName)
        let delete = await memberError { () async throws(StorageError) in
            try await f.member.deleteVolume(relativePath: rel("vol"), expectedClaimUID: "uid-1")
        }
        #expect({ if case .invalidMarker = delete { true } else { false } }())
        #expect(localStat(f.local("vol"))?.kind == .directory, "an unreadable marker keeps the data")
    }

    @Test func deleteVolume_whenTheMarkerNamesAnotherClaim_isRefusedAndKeepsTheData() async throws {
        // A claim re-created while its old PV was being deleted reused the directory.
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let path = try rel("team-a-db")
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, marker: marker(uid: "new"))
        try localWrite(f.local("team-a-db/data.txt"), "live data")
        let error = await memberError { () async throws(StorageError) in
            try await f.member.deleteVolume(relativePath: path, expectedClaimUID: "old")
        }
        #expect(error == .ownedByAnotherClaim(member: "server-a", path: "team-a-db", marker: marker(uid: "new"), expectedClaimUID: "old"))
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
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, marker: marker())
        try localMkdir(f.local("team-a-db/sub/deeper"))
        try localWrite(f.local("team-a-db/sub/deeper/file"), "x")
        #expect(try await f.member.deleteVolume(relativePath: path, expectedClaimUID: "uid-1") == .deleted)
        #expect(localStat(f.local("team-a-db")) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.local(ReservedNames.trashDirectory.description)).isEmpty)
        #expect(try await f.member.deleteVolume(relativePath: path, expectedClaimUID: "uid-1") == .alreadyGone)
    }

    @Test func deleteVolume_withoutMarker_deletes() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        try localMkdir(f.local("legacy"))
        try localWrite(f.local("legacy/data"), "x")
        #expect(try await f.member.deleteVolume(relativePath: rel("legacy"), expectedClaimUID: "uid-1") == .deleted)
        #expect(localStat(f.local("legacy")) == nil)
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
        _ = try await f.member.createVolume(relativePath: rel("big"), mode: .defaultDirectory, marker: marker())
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
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, marker: marker())
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
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, marker: marker())
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
