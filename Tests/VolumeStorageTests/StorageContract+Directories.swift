// Contract cases: makeDirectory, stat, rename, setMode, stats, probe.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import Testing
import TestSupport

extension StorageContract {
    static let directoryBodies: [StorageContract: @Sendable (StoreContractFixture) throws -> Void] = [
        .makeDirectory_defaultMode_isExactly0777DespiteUmask: { f throws in
            let outcome = try f.store.makeDirectory(rel("vol"), mode: .defaultDirectory, parentMode: nil)
            #expect(outcome == .created)
            #expect(try f.store.stat(rel("vol"))?.mode == FileMode(0o777))
            #expect(localStat(f.local("vol"))?.mode == 0o777)
        },
        .makeDirectory_mode0750_isExact: { f throws in
            #expect(try f.store.makeDirectory(rel("vol"), mode: FileMode(0o750), parentMode: nil) == .created)
            let info = try #require(try f.store.stat(rel("vol")))
            #expect(info.kind == .directory)
            #expect(info.mode == FileMode(0o750))
        },
        .makeDirectory_nested_createsParentsWithMode: { f throws in
            #expect(try f.store.makeDirectory(rel("ns/a/vol"), mode: FileMode(0o770), parentMode: FileMode(0o770)) == .created)
            #expect(localStat(f.local("ns"))?.mode == 0o770)
            #expect(localStat(f.local("ns/a"))?.mode == 0o770)
            #expect(localStat(f.local("ns/a/vol"))?.mode == 0o770)
            // A second volume below the existing parent leaves the parent alone.
            try f.store.setMode(rel("ns"), mode: FileMode(0o755))
            #expect(try f.store.makeDirectory(rel("ns/b"), mode: FileMode(0o700), parentMode: FileMode(0o700)) == .created)
            #expect(localStat(f.local("ns"))?.mode == 0o755)
        },
        .makeDirectory_missingParentWithoutCreateParents_isNotFound: { f throws in
            let error = storageError { _ = try f.store.makeDirectory(rel("missing/vol"), mode: .defaultDirectory, parentMode: nil) }
            guard case .notFound(_, .makeDirectory, let path) = error else {
                Issue.record("expected notFound, got \(String(describing: error))")
                return
            }
            #expect(path == "missing")
            #expect(localStat(f.local("missing")) == nil)
        },
        .makeDirectory_existing_isAlreadyExistedAndModeUnchanged: { f throws in
            try localMkdir(f.local("vol"))
            chmod(f.local("vol"), 0o700)
            #expect(try f.store.makeDirectory(rel("vol"), mode: .defaultDirectory, parentMode: .defaultDirectory) == .alreadyExisted)
            #expect(localStat(f.local("vol"))?.mode == 0o700)
        },
        .makeDirectory_overFile_isUnexpectedFileType: { f throws in
            try localWrite(f.local("vol"), "x")
            let error = storageError { _ = try f.store.makeDirectory(rel("vol"), mode: .defaultDirectory, parentMode: nil) }
            #expect(error == .unexpectedFileType(member: f.store.member, operation: .makeDirectory, path: "vol", found: .regularFile, expected: .directory))
        },
        .makeDirectory_throughSymlink_isRefusedAndOutsideUntouched: { f throws in
            try localSymlink(f.outsideDirectory, at: f.local("link"))
            let error = storageError { _ = try f.store.makeDirectory(rel("link/vol"), mode: .defaultDirectory, parentMode: .defaultDirectory) }
            #expect(error == .unexpectedFileType(member: f.store.member, operation: .makeDirectory, path: "link", found: .symbolicLink, expected: .directory))
            #expect(localStat(f.outsideDirectory + "/vol") == nil)
            expectOutsideIntact(f)
        },
        .makeDirectory_root_isRefused: { f throws in
            let error = storageError { _ = try f.store.makeDirectory(.root, mode: .defaultDirectory, parentMode: .defaultDirectory) }
            #expect(error == .refusedExportRoot(member: f.store.member, operation: .makeDirectory))
        },
        .stat_symlink_describesTheLinkItself: { f throws in
            try localSymlink(f.outsideDirectory, at: f.local("link"))
            #expect(try f.store.stat(rel("link"))?.kind == .symbolicLink)
            // Below a symlink: refused, not followed.
            let error = storageError { _ = try f.store.stat(rel("link/victim.txt")) }
            #expect(error == .unexpectedFileType(member: f.store.member, operation: .stat, path: "link", found: .symbolicLink, expected: .directory))
        },
        .stat_missing_isNil: { f throws in
            #expect(try f.store.stat(rel("nothing")) == nil)
            #expect(try f.store.stat(rel("nothing/below")) == nil)
        },
        .stat_root_isDirectory: { f throws in
            #expect(try f.store.stat(.root)?.kind == .directory)
        },
        .rename_movesDirectoryWithContents: { f throws in
            try localMkdir(f.local("a/inner"))
            try localWrite(f.local("a/inner/data.txt"), "data")
            let inode = localStat(f.local("a"))?.inode
            try localMkdir(f.local("archive"))
            try f.store.rename(rel("a"), to: rel("archive/a-1"))
            #expect(localStat(f.local("a")) == nil)
            #expect(localRead(f.local("archive/a-1/inner/data.txt")) == "data")
            #expect(localStat(f.local("archive/a-1"))?.inode == inode, "a rename, not a copy")
        },
        .rename_existingTarget_isRefusedAndBothIntact: { f throws in
            try localMkdir(f.local("a"))
            try localWrite(f.local("a/one.txt"), "one")
            try localMkdir(f.local("b"))
            try localWrite(f.local("b/two.txt"), "two")
            let error = storageError { try f.store.rename(rel("a"), to: rel("b")) }
            #expect(error == .alreadyExists(member: f.store.member, operation: .rename, path: "b"))
            #expect(localRead(f.local("a/one.txt")) == "one")
            #expect(localRead(f.local("b/two.txt")) == "two")
            // An empty directory as target is not replaced either.
            try localMkdir(f.local("c"))
            #expect(storageError { try f.store.rename(rel("a"), to: rel("c")) } == .alreadyExists(member: f.store.member, operation: .rename, path: "c"))
            #expect(localRead(f.local("a/one.txt")) == "one")
        },
        .rename_missingSource_isNotFound: { f throws in
            let error = storageError { try f.store.rename(rel("nothing"), to: rel("other")) }
            #expect(error == .notFound(member: f.store.member, operation: .rename, path: "nothing"))
        },
        .rename_root_isRefused: { f throws in
            #expect(storageError { try f.store.rename(.root, to: rel("x")) } == .refusedExportRoot(member: f.store.member, operation: .rename))
            try localMkdir(f.local("a"))
            #expect(storageError { try f.store.rename(rel("a"), to: .root) } == .refusedExportRoot(member: f.store.member, operation: .rename))
            #expect(storageError { try f.store.rename(rel("a"), to: rel("a/b")) }
                == .invalidPath(path: "a/b", problem: .insideItself(source: "a")))
            #expect(localStat(f.local("a"))?.kind == .directory)
        },
        .setMode_isExact: { f throws in
            try localMkdir(f.local("vol"))
            try f.store.setMode(rel("vol"), mode: FileMode(0o2775))
            #expect(localStat(f.local("vol"))?.mode == 0o2775)
        },
        .setMode_symlink_isRefusedAndTargetUnchanged: { f throws in
            try localSymlink(f.outsideDirectory + "/victim.txt", at: f.local("link"))
            let error = storageError { try f.store.setMode(rel("link"), mode: FileMode(0o777)) }
            #expect(error == .unexpectedFileType(member: f.store.member, operation: .setMode, path: "link", found: .symbolicLink, expected: .directory))
            expectOutsideIntact(f)
        },
        .fileSystemStats_reportsCapacity: { f throws in
            let stats = try f.store.fileSystemStats()
            #expect(stats.totalBytes > 0)
            #expect(stats.availableBytes <= stats.totalBytes)
        },
        .probe_succeedsAndLeavesNoProbeFile: { f throws in
            try f.store.probe()
            try f.store.probe()
            let probeDirectory = f.local(ReservedNames.probeDirectory.description)
            #expect(localStat(probeDirectory)?.kind == .directory)
            #expect(try FileManager.default.contentsOfDirectory(atPath: probeDirectory).isEmpty)
        },
    ]
}
