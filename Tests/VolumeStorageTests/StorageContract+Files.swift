// Contract cases: writeFile, readFile and the ownership marker through a store.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import Testing
import TestSupport

extension StorageContract {
    static let fileBodies: [StorageContract: @Sendable (StoreContractFixture) throws -> Void] = [
        .writeFile_readFile_roundTripWithExactMode: { f throws in
            try localMkdir(f.local("vol"))
            try f.store.writeFile(rel("vol/file.json"), contents: Array("hello\n".utf8), mode: FileMode(0o640))
            #expect(try f.store.readFile(rel("vol/file.json"), maxBytes: 100) == Array("hello\n".utf8))
            #expect(localStat(f.local("vol/file.json"))?.mode == 0o640)
            #expect(try f.store.stat(rel("vol/file.json"))?.kind == .regularFile)
            #expect(try f.store.stat(rel("vol/file.json"))?.size == 6)
        },
        .writeFile_replacesAtomicallyAndLeavesNoTemporaryFile: { f throws in
            try localMkdir(f.local("vol"))
            try f.store.writeFile(rel("vol/m"), contents: Array("first".utf8), mode: .record)
            try f.store.writeFile(rel("vol/m"), contents: Array("second".utf8), mode: .record)
            #expect(localRead(f.local("vol/m")) == "second")
            #expect(try FileManager.default.contentsOfDirectory(atPath: f.local("vol")) == ["m"])
            // A symlink at the path is replaced, its target untouched.
            try localSymlink(f.outsideDirectory + "/victim.txt", at: f.local("vol/link"))
            try f.store.writeFile(rel("vol/link"), contents: Array("mine".utf8), mode: .record)
            #expect(localStat(f.local("vol/link"))?.kind == .regularFile)
            expectOutsideIntact(f)
        },
        .writeFile_overDirectory_isUnexpectedFileType: { f throws in
            try localMkdir(f.local("vol/sub"))
            let error = storageError { try f.store.writeFile(rel("vol/sub"), contents: [1], mode: .record) }
            #expect(error == .unexpectedFileType(member: f.store.member, operation: .writeFile, path: "vol/sub", found: .directory, expected: .regularFile))
            #expect(try FileManager.default.contentsOfDirectory(atPath: f.local("vol")) == ["sub"])
        },
        .readFile_missing_isNil: { f throws in
            #expect(try f.store.readFile(rel("nothing.json"), maxBytes: 10) == nil)
            #expect(try f.store.readFile(rel("no/thing.json"), maxBytes: 10) == nil)
        },
        .readFile_symlink_isRefused: { f throws in
            try localSymlink(f.outsideDirectory + "/victim.txt", at: f.local("link"))
            let error = storageError { _ = try f.store.readFile(rel("link"), maxBytes: 100) }
            #expect(error == .unexpectedFileType(member: f.store.member, operation: .readFile, path: "link", found: .symbolicLink, expected: .regularFile))
        },
        .readFile_tooLarge_isRefused: { f throws in
            try localWrite(f.local("big"), String(repeating: "x", count: 101))
            try localWrite(f.local("exact"), String(repeating: "x", count: 100))
            #expect(storageError { _ = try f.store.readFile(rel("big"), maxBytes: 100) } == .fileTooLarge(member: f.store.member, path: "big", limit: 100))
            #expect(try f.store.readFile(rel("exact"), maxBytes: 100)?.count == 100)
        },
        .readFile_fifo_isRefusedWithoutBlocking: { f throws in
            #expect(mkfifo(f.local("fifo"), 0o644) == 0)
            let error = storageError { _ = try f.store.readFile(rel("fifo"), maxBytes: 100) }
            #expect(error == .unexpectedFileType(member: f.store.member, operation: .readFile, path: "fifo", found: .other, expected: .regularFile))
        },
        .listDirectory_namesEntries_boundedAndWithoutFollowing: { f throws in
            try localMkdir(f.local("vol"))
            for name in ["a", "b", "c"] { try localWrite(f.local("vol/" + name), name) }
            try localMkdir(f.local("vol/sub"))
            #expect(try f.store.listDirectory(rel("vol"), maxEntries: 10).map { Set($0) } == ["a", "b", "c", "sub"])
            #expect(try f.store.listDirectory(rel("missing"), maxEntries: 10) == nil)
            let tooMany = storageError { _ = try f.store.listDirectory(rel("vol"), maxEntries: 3) }
            #expect(tooMany == .tooManyEntries(member: f.store.member, path: "vol", limit: 3))
            #expect(symlink("vol", f.local("link")) == 0)
            let link = storageError { _ = try f.store.listDirectory(rel("link"), maxEntries: 10) }
            #expect(link == .unexpectedFileType(member: f.store.member, operation: .listDirectory, path: "link", found: .symbolicLink, expected: .directory))
        },
        .listDirectory_manyEntries_allListed: { f throws in
            try localMkdir(f.local("many"))
            for i in 0..<1200 { try localWrite(f.local("many/record-\(i).json"), "x") }
            let names = try #require(try f.store.listDirectory(rel("many"), maxEntries: 5000))
            #expect(names.count == 1200)
            #expect(Set(names).count == 1200)
        },
    ]
}
