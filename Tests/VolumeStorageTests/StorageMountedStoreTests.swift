// MountedVolumeStore: the store contract on temporary directories, and its export checks.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import TestSupport
import Testing

/// A mounted store on `<tmp>/export`, with `<tmp>/outside` next to it.
func makeMountedFixture(member: String = "server-a") throws -> (StoreContractFixture, TempDirectory) {
    let directory = try TempDirectory(prefix: "ncp-store")
    let export = try directory.makeDirectory("export")
    let outside = try directory.makeDirectory("outside")
    try populateOutside(outside)
    let store = try MountedVolumeStore(
        configuration: .init(member: member, mountPath: export, requireMountPoint: false))
    return (StoreContractFixture(store: store, exportDirectory: export, outsideDirectory: outside), directory)
}

@Suite("MountedVolumeStore")
struct StorageMountedStoreTests {
    @Test(arguments: StorageContract.allCases)
    func contract(_ contract: StorageContract) throws {
        let (fixture, directory) = try makeMountedFixture()
        defer { directory.remove() }
        try contract.run(on: fixture)
    }

    @Test func requireMountPoint_onAPlainDirectory_refusesEveryOperation() throws {
        // The Go original's bug 6: without the mount, MkdirAll wrote into the container.
        let directory = try TempDirectory(prefix: "ncp-store")
        let export = try directory.makeDirectory("export")
        let store = try MountedVolumeStore(configuration: .init(member: "a", mountPath: export))
        let expected = StorageError.exportUnavailable(member: "a", location: export, problem: .notMounted)
        #expect(storageError { _ = try store.makeDirectory(rel("vol"), mode: .defaultDirectory, parentMode: .defaultDirectory) } == expected)
        #expect(storageError { try store.probe() } == expected)
        #expect(storageError { _ = try store.stat(rel("vol")) } == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: export).isEmpty, "nothing was created locally")
    }

    @Test func missingMountPath_isExportUnavailableWithENOENT() throws {
        let directory = try TempDirectory(prefix: "ncp-store")
        let store = try MountedVolumeStore(
            configuration: .init(member: "a", mountPath: directory.child("absent"), requireMountPoint: false))
        #expect(storageError { try store.probe() }
            == .exportUnavailable(member: "a", location: directory.child("absent"), problem: .cannotOpen(errno: ENOENT)))
    }

    @Test func mountPathIsAFile_isExportUnavailableNotADirectory() throws {
        let directory = try TempDirectory(prefix: "ncp-store")
        let file = try directory.writeFile("file", "x")
        let store = try MountedVolumeStore(configuration: .init(member: "a", mountPath: file, requireMountPoint: false))
        #expect(storageError { _ = try store.fileSystemStats() }
            == .exportUnavailable(member: "a", location: file, problem: .notADirectory))
    }

    @Test(arguments: ["", "relative/path", "/with\0nul"])
    func invalidMountPath_isRefusedAtInit(_ path: String) {
        #expect(throws: StorageError.exportUnavailable(member: "a", location: path, problem: .invalidMountPath)) {
            _ = try MountedVolumeStore(configuration: .init(member: "a", mountPath: path))
        }
    }

    @Test func defaultMountPath_isTheOriginalsLayout() {
        #expect(MountedVolumeStore.Configuration.mountPath(member: "10.0.0.7") == "/persistent-volumes/10.0.0.7")
        #expect(MountedVolumeStore.Configuration.mountPath(base: "/mnt/", member: "nfs-1") == "/mnt/nfs-1")
    }

    @Test func exportRootReachedThroughASymlink_isAllowed() throws {
        // The mount path is operator configuration; only paths below it must not follow links.
        let (fixture, directory) = try makeMountedFixture()
        defer { directory.remove() }
        try localSymlink(fixture.exportDirectory, at: directory.child("link-to-export"))
        let store = try MountedVolumeStore(
            configuration: .init(member: "a", mountPath: directory.child("link-to-export"), requireMountPoint: false))
        #expect(try store.makeDirectory(rel("vol"), mode: .defaultDirectory, parentMode: nil) == .created)
        #expect(localStat(fixture.local("vol"))?.kind == .directory)
    }
}

@Suite("FileMode")
struct StorageFileModeTests {
    @Test(arguments: [("0777", 0o777), ("777", 0o777), ("750", 0o750), ("0o2775", 0o2775), ("0", 0)] as [(String, UInt32)])
    func octal_parses(_ text: String, _ value: UInt32) {
        #expect(FileMode(octal: text)?.rawValue == value)
    }

    @Test(arguments: ["", "8", "0x1ff", "-1", "17777", "rwx", " 777", "0o"])
    func octal_refusesOtherText(_ text: String) {
        #expect(FileMode(octal: text) == nil)
    }

    @Test func description_isFourOctalDigits() {
        #expect(FileMode(0o750).description == "0750")
        #expect(FileMode(0o2775).description == "2775")
    }
}
