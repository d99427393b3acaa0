// The VolumeStore contract: every store (mounted, libnfs) must pass these cases.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import Testing
import TestSupport

/// A store under test, with local access to the directory backing its export (a temp dir
/// for the mounted store, the directory nfs-ganesha exports for the libnfs store) and to a
/// directory outside the export that must never be touched.
struct StoreContractFixture: Sendable {
    var store: any VolumeStore
    /// Local path of the export root's contents.
    var exportDirectory: String
    /// Local path of a directory outside the export, holding `victim.txt` and `victim-dir/`.
    var outsideDirectory: String

    func local(_ relative: String) -> String { exportDirectory + "/" + relative }
}

/// The contract cases. A store's test suite runs them all:
///
/// ```swift
/// @Test(arguments: StorageContract.allCases)
/// func contract(_ contract: StorageContract) throws {
///     try contract.run(on: makeFixture())
/// }
/// ```
enum StorageContract: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case makeDirectory_defaultMode_isExactly0777DespiteUmask
    case makeDirectory_mode0750_isExact
    case makeDirectory_nested_createsParentsWithMode
    case makeDirectory_missingParentWithoutCreateParents_isNotFound
    case makeDirectory_existing_isAlreadyExistedAndModeUnchanged
    case makeDirectory_overFile_isUnexpectedFileType
    case makeDirectory_throughSymlink_isRefusedAndOutsideUntouched
    case makeDirectory_root_isRefused
    case stat_symlink_describesTheLinkItself
    case stat_missing_isNil
    case stat_root_isDirectory
    case writeFile_readFile_roundTripWithExactMode
    case writeFile_replacesAtomicallyAndLeavesNoTemporaryFile
    case writeFile_overDirectory_isUnexpectedFileType
    case readFile_missing_isNil
    case readFile_symlink_isRefused
    case readFile_tooLarge_isRefused
    case readFile_fifo_isRefusedWithoutBlocking
    case rename_movesDirectoryWithContents
    case rename_existingTarget_isRefusedAndBothIntact
    case rename_missingSource_isNotFound
    case rename_root_isRefused
    case removeTree_removesFilesAndNestedDirectories
    case removeTree_symlinksInsidePointingOutside_targetsSurvive
    case removeTree_symlinkAsThePath_unlinksOnlyTheLink
    case removeTree_symlinkedParent_isRefused
    case removeTree_root_isRefused
    case removeTree_missing_isDidNotExist
    case removeTree_deeperThanOpenDepth_isRemoved
    case removeTree_nonUTF8Names_areRemoved
    case removeTree_withTinyBudget_continuesAcrossCalls
    case setMode_isExact
    case setMode_symlink_isRefusedAndTargetUnchanged
    case fileSystemStats_reportsCapacity
    case probe_succeedsAndLeavesNoProbeFile
    case listDirectory_namesEntries_boundedAndWithoutFollowing
    case listDirectory_manyEntries_allListed

    var testDescription: String { rawValue }

    func run(on fixture: StoreContractFixture) throws {
        let body = Self.bodies[self]
        try #require(body != nil, "no body for contract case \(rawValue)")
        try body?(fixture)
    }

    private static let bodies: [StorageContract: @Sendable (StoreContractFixture) throws -> Void] = {
        var all: [StorageContract: @Sendable (StoreContractFixture) throws -> Void] = [:]
        all.merge(directoryBodies) { $1 }
        all.merge(fileBodies) { $1 }
        all.merge(removeBodies) { $1 }
        return all
    }()
}

// MARK: - Helpers shared by the contract files

/// lstat of a local path: (kind, permission bits), or nil when absent.
func localStat(_ path: String) -> (kind: FileKind, mode: UInt32, inode: UInt64)? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    let kind: FileKind =
        switch info.st_mode & S_IFMT {
        case S_IFDIR: .directory
        case S_IFREG: .regularFile
        case S_IFLNK: .symbolicLink
        default: .other
        }
    return (kind, UInt32(info.st_mode) & 0o7777, UInt64(info.st_ino))
}

func localRead(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}

func localWrite(_ path: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

func localMkdir(_ path: String) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
}

func localSymlink(_ target: String, at path: String) throws {
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
}

/// Runs `body` and returns the StorageError it throws (nil if none; another error type is
/// recorded as a test issue).
func storageError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> StorageError? {
    do {
        try body()
        return nil
    } catch let error as StorageError {
        return error
    } catch {
        Issue.record("expected a StorageError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The outside directory is exactly as the fixture made it.
func expectOutsideIntact(_ fixture: StoreContractFixture, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(localRead(fixture.outsideDirectory + "/victim.txt") == "precious", sourceLocation: sourceLocation)
    #expect(localRead(fixture.outsideDirectory + "/victim-dir/inner.txt") == "precious too", sourceLocation: sourceLocation)
    #expect(localStat(fixture.outsideDirectory + "/victim.txt")?.mode == 0o644, sourceLocation: sourceLocation)
}

/// Makes the fixture's outside directory content.
func populateOutside(_ outside: String) throws {
    try localMkdir(outside + "/victim-dir")
    try localWrite(outside + "/victim.txt", "precious")
    try localWrite(outside + "/victim-dir/inner.txt", "precious too")
    chmod(outside + "/victim.txt", 0o644)
}
