// Contract cases: removeTree.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import Testing
import TestSupport

extension StorageContract {
    static let removeBodies: [StorageContract: @Sendable (StoreContractFixture) throws -> Void] = [
        .removeTree_removesFilesAndNestedDirectories: { f throws in
            try localMkdir(f.local("vol/a/b/c"))
            try localMkdir(f.local("vol/empty"))
            try localWrite(f.local("vol/top.txt"), "1")
            try localWrite(f.local("vol/a/b/c/deep.txt"), "2")
            try localMkdir(f.local("sibling"))
            #expect(try f.store.removeTree(rel("vol"), budget: nil) == .removed)
            #expect(localStat(f.local("vol")) == nil)
            #expect(localStat(f.local("sibling"))?.kind == .directory)
        },
        .removeTree_symlinksInsidePointingOutside_targetsSurvive: { f throws in
            try localMkdir(f.local("vol/sub"))
            try localSymlink(f.outsideDirectory, at: f.local("vol/to-outside-dir"))
            try localSymlink(f.outsideDirectory + "/victim.txt", at: f.local("vol/sub/to-outside-file"))
            try localSymlink("../../..", at: f.local("vol/sub/dotdot"))
            try localSymlink("/", at: f.local("vol/root"))
            #expect(try f.store.removeTree(rel("vol"), budget: nil) == .removed)
            #expect(localStat(f.local("vol")) == nil)
            expectOutsideIntact(f)
        },
        .removeTree_symlinkAsThePath_unlinksOnlyTheLink: { f throws in
            try localSymlink(f.outsideDirectory, at: f.local("vol"))
            #expect(try f.store.removeTree(rel("vol"), budget: nil) == .removed)
            #expect(localStat(f.local("vol")) == nil)
            expectOutsideIntact(f)
        },
        .removeTree_symlinkedParent_isRefused: { f throws in
            try localSymlink(f.outsideDirectory, at: f.local("ns"))
            let error = storageError { _ = try f.store.removeTree(rel("ns/victim-dir"), budget: nil) }
            #expect(error == .unexpectedFileType(member: f.store.member, operation: .removeTree, path: "ns", found: .symbolicLink, expected: .directory))
            expectOutsideIntact(f)
        },
        .removeTree_root_isRefused: { f throws in
            try localWrite(f.local("keep.txt"), "keep")
            let error = storageError { _ = try f.store.removeTree(.root, budget: nil) }
            #expect(error == .refusedExportRoot(member: f.store.member, operation: .removeTree))
            #expect(localRead(f.local("keep.txt")) == "keep")
        },
        .removeTree_missing_isDidNotExist: { f throws in
            #expect(try f.store.removeTree(rel("vol"), budget: nil) == .didNotExist)
            #expect(try f.store.removeTree(rel("no/such/vol"), budget: nil) == .didNotExist)
            try localMkdir(f.local("vol"))
            #expect(try f.store.removeTree(rel("vol"), budget: nil) == .removed)
            #expect(try f.store.removeTree(rel("vol"), budget: nil) == .didNotExist)
        },
        .removeTree_deeperThanOpenDepth_isRemoved: { f throws in
            // 150 levels: deeper than the mounted store's 64 open levels.
            let deep = (0..<150).map { _ in "d" }.joined(separator: "/")
            try localMkdir(f.local("vol/" + deep))
            try localWrite(f.local("vol/" + deep + "/leaf.txt"), "leaf")
            try localSymlink(f.outsideDirectory, at: f.local("vol/" + deep + "/out"))
            #expect(try f.store.removeTree(rel("vol"), budget: nil) == .removed)
            #expect(localStat(f.local("vol")) == nil)
            expectOutsideIntact(f)
        },
        .removeTree_nonUTF8Names_areRemoved: { f throws in
            try localMkdir(f.local("vol"))
            let name: [UInt8] = Array((f.local("vol") + "/").utf8) + [0xFF, 0xFE, 0x61, 0]
            let fd = name.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    open($0, O_CREAT | O_WRONLY, 0o644)
                }
            }
            try #require(fd >= 0)
            close(fd)
            #expect(try f.store.removeTree(rel("vol"), budget: nil) == .removed)
            #expect(localStat(f.local("vol")) == nil)
        },
        .removeTree_withTinyBudget_continuesAcrossCalls: { f throws in
            try localMkdir(f.local("vol"))
            for index in 0..<300 {
                try localWrite(f.local("vol/f\(index)"), "x")
            }
            var outcome = try f.store.removeTree(rel("vol"), budget: .zero)
            #expect(outcome == .incomplete(removedEntries: 1), "a zero budget still removes one entry")
            var calls = 1
            while case .incomplete = outcome, calls < 1000 {
                outcome = try f.store.removeTree(rel("vol"), budget: .zero)
                calls += 1
            }
            #expect(outcome == .removed)
            #expect(calls == 300, "one entry per call, the directory itself with the last file")
            #expect(localStat(f.local("vol")) == nil)
        },
    ]
}
