// NFSServerHarness: where a server keeps its files, what stop() leaves behind, the
// one-line summaries the demo prints.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import TestSupport
import Testing

@Suite("NFSServerHarness: nfs-ganesha on loopback")
struct GaneshaHarnessTests {
    @Test func start_inAGivenDirectory_servesFromIt_andStopKillsTheServerButKeepsTheDirectory() async throws {
        let parent = try TempDirectory(prefix: "ncp-harness")
        defer { parent.remove() }
        let directory = parent.child("servers/one")
        let server = try await GaneshaServer.start(exports: [.init(name: "a"), .init(name: "b")], directory: directory)
        defer { server.stop() }
        #expect(server.exportDirectory("b") == directory + "/exports/b")
        #expect(server.exportPath("b") == "/b")
        let pid = try #require(server.pid)

        // Both exports answer over NFS on the server's own ports.
        let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: "b", export: "b"))
        #expect(try store.makeDirectory(rel("made-over-nfs"), mode: .defaultDirectory, parentMode: nil) == .created)
        #expect(FileManager.default.fileExists(atPath: directory + "/exports/b/made-over-nfs"))

        server.stop()
        #expect(server.pid == nil)
        #expect(kill(pid, 0) != 0 || !processIsGanesha(pid), "ganesha \(pid) was killed")
        #expect(FileManager.default.fileExists(atPath: directory + "/exports/b/made-over-nfs"), "a given directory is the caller's")
    }

    @Test func stop_removesADirectoryTheServerMadeItself() async throws {
        let server = try await GaneshaServer.start()
        #expect(FileManager.default.fileExists(atPath: server.exportDirectory()))
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.directory))
        server.stop()  // idempotent
    }

    @Test func memberConfiguration_isADirectMemberOnTheServersPorts() async throws {
        let server = try await GaneshaServer.start()
        defer { server.stop() }
        let member = server.memberConfiguration(name: "nfs-a")
        #expect(member.mode == .direct && member.address == "127.0.0.1" && member.export == "/export")
        #expect(member.nfsPort == server.nfsPort && member.mountPort == server.mountPort)
        let store = try #require(try member.makeVolumeStore(nfsTimeout: .seconds(2)) as? DirectNFSVolumeStore)
        try store.probe()
    }

    /// A daemon started by the harness (rpcbind) outlives the test run: it must not hold any
    /// descriptor of the runner (a pipe whatever ran the tests reads to its end would never
    /// close).
    @Test func spawnAndWait_childInheritsNoPipeOfTheRunner() async throws {
        let directory = try TempDirectory(prefix: "ncp-spawn")
        defer { directory.remove() }
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)  // not close-on-exec: a plain spawn would pass it on
        defer { close(ends[0]); close(ends[1]) }
        let listing = directory.child("fds")
        let status = try await HelperThread.run { () throws(HelperError) in
            try ChildProcess.spawnAndWait("/bin/sh", ["-c", "ls -l /proc/$$/fd > '\(listing)'"])
        }
        #expect(status == 0)
        let entries = try String(contentsOfFile: listing, encoding: .utf8).split(separator: "\n").filter { $0.contains(" -> ") }
        // The shell's own descriptors: /dev/null and the listing it writes; never a pipe.
        #expect(!entries.isEmpty)
        #expect(!entries.contains { $0.contains("pipe:") }, "inherited: \(entries); our pipe was \(ends)")
    }

    @Test func summaries_areOneLine_withTheLastWordOfTheTool() {
        let apt = HelperError.packagesUnavailable(
            packages: ["nfs-ganesha", "rpcbind"], log: "Reading package lists...\nE: Unable to locate package nfs-ganesha\n\n")
        #expect(apt.summary == "the Debian packages nfs-ganesha rpcbind are missing and apt-get could not install them: apt-get said \"E: Unable to locate package nfs-ganesha\"")
        let exited = HelperError.exited(what: "ganesha.nfsd on ports 1/2", status: 2, log: "line 1\nline 2")
        #expect(exited.summary == "ganesha.nfsd on ports 1/2 exited with status 2 while starting")
        #expect(exited.description.contains("line 2"), "the full description keeps the log for tests")
        let root = HelperError.needsRoot(what: "nfs-ganesha", why: "it registers with rpcbind")
        #expect(root.summary.hasPrefix("nfs-ganesha needs root (running as uid "))
        for error in [apt, exited, root] { #expect(!error.summary.contains("\n")) }
    }

    private func processIsGanesha(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/comm") else { return false }
        return String(decoding: data, as: UTF8.self).hasPrefix("ganesha")
    }
}
