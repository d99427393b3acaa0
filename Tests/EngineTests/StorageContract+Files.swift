// Contract cases: writeFile, readFile and the ownership marker through a store.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import Testing

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
            try f.store.writeFile(rel("vol/m"), contents: Array("first".utf8), mode: .marker)
            try f.store.writeFile(rel("vol/m"), contents: Array("second".utf8), mode: .marker)
            #expect(localRead(f.local("vol/m")) == "second")
            #expect(try FileManager.default.contentsOfDirectory(atPath: f.local("vol")) == ["m"])
            // A symlink at the path is replaced, its target untouched.
            try localSymlink(f.outsideDirectory + "/victim.txt", at: f.local("vol/link"))
            try f.store.writeFile(rel("vol/link"), contents: Array("mine".utf8), mode: .marker)
            #expect(localStat(f.local("vol/link"))?.kind == .regularFile)
            expectOutsideIntact(f)
        },
        .writeFile_overDirectory_isUnexpectedFileType: { f throws in
            try localMkdir(f.local("vol/sub"))
            let error = storageError { try f.store.writeFile(rel("vol/sub"), contents: [1], mode: .marker) }
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
        .marker_writeAndReadBack_roundTrips: { f throws in
            try localMkdir(f.local("vol"))
            let marker = OwnershipMarker(
                provisioner: "example.com/nfs", claimNamespace: "team-a", claimName: "db",
                claimUID: "6f1c2a9e-0000-4000-8000-000000000001", volumeName: "pvc-6f1c2a9e-0000-4000-8000-000000000001",
                createdAt: Date(timeIntervalSince1970: 1_780_000_000.75))
            let path = try rel("vol/" + ReservedNames.markerFileName)
            try f.store.writeFile(path, contents: marker.encoded(), mode: .marker)
            let bytes = try #require(try f.store.readFile(path, maxBytes: OwnershipMarker.maxBytes))
            #expect(try OwnershipMarker.decode(bytes) == marker)
            #expect(localStat(f.local("vol/" + ReservedNames.markerFileName))?.mode == 0o644)
        },
        .marker_garbage_isATypedProblem: { f throws in
            try localMkdir(f.local("vol"))
            try localWrite(f.local("vol/" + ReservedNames.markerFileName), "\u{1}garbage{{")
            let bytes = try #require(try f.store.readFile(rel("vol/" + ReservedNames.markerFileName), maxBytes: OwnershipMarker.maxBytes))
            #expect(throws: MarkerProblem.self) { try OwnershipMarker.decode(bytes) }
        },
    ]
}
