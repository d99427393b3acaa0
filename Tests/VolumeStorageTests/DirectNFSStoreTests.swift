// DirectNFSVolumeStore beyond the shared contract: configuration, mount failures,
// reconnection, the member factory.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing

@Suite("DirectNFSVolumeStore")
struct DirectNFSStoreTests {
    @Test(arguments: [
        ("", "/export", "the server must be a host name or an IP address"),
        ("host/x", "/export", "the server must be a host name or an IP address"),
        ("10.0.0.7", "export", "the export must be an absolute path without NUL bytes"),
        ("10.0.0.7", "/ex\0port", "the export must be an absolute path without NUL bytes"),
    ])
    func invalidConfiguration_isRefusedAtInitWithTheReason(_ server: String, _ export: String, _ problem: String) {
        let configuration = DirectNFSVolumeStore.Configuration(member: "a", server: server, export: export)
        #expect(throws: StorageError.exportUnavailable(
            member: "a", location: configuration.location, problem: .invalidNFSConfiguration(problem))) {
            _ = try DirectNFSVolumeStore(configuration: configuration)
        }
    }

    @Test func zeroTimeout_isRefused() {
        let configuration = DirectNFSVolumeStore.Configuration(member: "a", server: "h", export: "/e", timeout: .zero)
        #expect(throws: StorageError.self) { _ = try DirectNFSVolumeStore(configuration: configuration) }
    }

    @Test func location_isServerColonExport_withIPv6InBrackets() {
        #expect(DirectNFSVolumeStore.Configuration(member: "a", server: "10.0.0.7", export: "/srv").location == "10.0.0.7:/srv")
        #expect(DirectNFSVolumeStore.Configuration(member: "a", server: "fd00::7", export: "/srv").location == "[fd00::7]:/srv")
    }

    @Test func memberFactory_directMember_isADirectStoreOnAddressAndExport() throws {
        let member = MemberConfiguration(name: "nfs-1", address: "10.0.0.7", export: "/srv/nfs", mountPath: nil, mode: .direct)
        let store = try member.makeVolumeStore(nfsTimeout: .seconds(3))
        let direct = try #require(store as? DirectNFSVolumeStore)
        #expect(direct.configuration == .init(member: "nfs-1", server: "10.0.0.7", export: "/srv/nfs", timeout: .seconds(3)))
        #expect(store.location == "10.0.0.7:/srv/nfs")
    }

    @Test func memberFactory_mountedMember_isAMountedStoreAtItsMountPath() throws {
        let member = MemberConfiguration(name: "nfs-1", address: "10.0.0.7", export: "/srv", mountPath: "/persistent-volumes/nfs-1")
        let store = try member.makeVolumeStore()
        #expect((store as? MountedVolumeStore)?.configuration.mountPath == "/persistent-volumes/nfs-1")
    }

    @Test func nothingListening_isExportUnavailableNamingTheServer() throws {
        let port = try LoopbackPort.free()
        let store = try DirectNFSVolumeStore(configuration: .init(
            member: "gone", server: "127.0.0.1", export: "/export", timeout: .seconds(1), nfsPort: port, mountPort: port))
        let error = storageError { try store.probe() }
        guard case .exportUnavailable("gone", "127.0.0.1:/export", .mountFailed(_, let message)) = error else {
            Issue.record("expected exportUnavailable(mountFailed), got \(String(describing: error))")
            return
        }
        #expect(message.contains("127.0.0.1:/export"))
        #expect(error?.healthImpact == .failure)
    }

    @Test func unknownExport_isExportUnavailableWithTheMountError() async throws {
        let server = try await GaneshaServer.start()
        defer { server.stop() }
        var configuration = server.storeConfiguration(member: "a")
        configuration.export = "/no-such-export"
        let store = try DirectNFSVolumeStore(configuration: configuration)
        let error = storageError { _ = try store.fileSystemStats() }
        guard case .exportUnavailable("a", _, .mountFailed(let code, let message)) = error else {
            Issue.record("expected exportUnavailable(mountFailed), got \(String(describing: error))")
            return
        }
        #expect(code == EACCES || code == ENOENT, "MNT3ERR_ACCES or NOENT, got \(code): \(message)")
    }

    @Test func connections_areReusedAcrossCalls() async throws {
        let server = try await GaneshaServer.start()
        defer { server.stop() }
        let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: "a"))
        for index in 0..<5 {
            _ = try store.makeDirectory(rel("d\(index)"), mode: .defaultDirectory, parentMode: nil)
        }
        #expect(store.mountCount == 1, "one mount, then the pooled connection")
    }

    @Test func concurrentCalls_fromManyThreads_eachUseTheirOwnContext_andShareParentsSafely() async throws {
        let server = try await GaneshaServer.start()
        defer { server.stop() }
        let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: "a"))
        let failures = await HelperThread.run { () -> [String] in
            let found = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 16) { index in
                do {
                    // All race to create the shared parent: EEXIST on it is success.
                    let path = try RelativePath("shared/vol-\(index)")
                    _ = try store.makeDirectory(path, mode: FileMode(0o750), parentMode: FileMode(0o755))
                    try store.writeFile(path.appending("m"), contents: Array("\(index)".utf8), mode: .record)
                    _ = try store.removeTree(path, budget: nil)
                } catch {
                    found.withLock { $0.append("\(index): \(error)") }
                }
            }
            return found.withLock { $0 }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.exportDirectory() + "/shared").isEmpty)
        #expect(localStat(server.exportDirectory() + "/shared")?.mode == 0o755)
        #expect(store.mountCount <= 16)
    }

    @Test func restartedServer_isReconnectedWithoutAFailedCall() async throws {
        let server = try await GaneshaServer.start()
        defer { server.stop() }
        let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: "a"))
        #expect(try store.makeDirectory(rel("before"), mode: .defaultDirectory, parentMode: nil) == .created)
        try await server.restart()
        // The pooled connection is stale (its socket was reset): the store notices before
        // any reply, mounts again and runs the call on the fresh connection.
        #expect(try store.stat(rel("before"))?.kind == .directory)
        #expect(try store.makeDirectory(rel("after"), mode: .defaultDirectory, parentMode: nil) == .created)
        #expect(store.mountCount == 2)
    }

    @Test func killedServer_failsCallsWithAServerFailure_untilRestarted() async throws {
        let server = try await GaneshaServer.start()
        defer { server.stop() }
        let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: "a"))
        try store.probe()
        try await server.kill()
        let error = try #require(storageError { try store.probe() })
        #expect(error.healthImpact == .failure, "a dead server is a server failure: \(error)")
        #expect(error.isRetryable)
        try await server.restart()
        try store.probe()
    }

    @Test func stoppedServer_callTimesOutAfterTheStoreTimeout_thenWorksAfterSIGCONT() async throws {
        let server = try await GaneshaServer.start()
        defer { server.stop() }
        let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: "a", timeout: .seconds(1)))
        try store.probe()
        await server.suspend()
        let error = await HelperThread.run { storageErrorValue { _ = try store.stat(rel("x")) } }
        server.resume()
        #expect(error == .timedOut(member: "a", operation: .stat, path: "x", after: .seconds(1)))
        #expect(try store.stat(rel("x")) == nil)
    }
}

/// The StorageError thrown by `body`, or nil; for use off the test's task (no Issue).
func storageErrorValue(_ body: () throws -> Void) -> StorageError? {
    do {
        try body()
        return nil
    } catch {
        return error as? StorageError
    }
}
