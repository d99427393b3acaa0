// Faults of a real NFS server (nfs-ganesha on loopback) seen through MemberStorage:
// stopped, killed and restarted, full, refusing root.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import TestSupport
import Testing

/// A member on a direct NFS store of `server`: each NFS call times out after 1 s, a whole
/// operation after 4 s (so a stopped server surfaces as the store's own timeout and the
/// executor thread comes back at once).
func directMember(_ server: GaneshaServer, name: String, export: String? = nil) throws -> MemberStorage {
    let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: name, export: export, timeout: .seconds(1)))
    return MemberStorage(store: store, configuration: .init(operationTimeout: .seconds(4), probeTimeout: .seconds(4)))
}

@Suite("nfs-ganesha faults through MemberStorage")
struct GaneshaFaultTests {
    @Test func stoppedServer_memberUnhealthyAfterOneCall_otherMemberServes_recoversAfterSIGCONT() async throws {
        async let startedA = GaneshaServer.start()
        async let startedB = GaneshaServer.start()
        let (serverA, serverB) = try await (startedA, startedB)
        defer { serverA.stop(); serverB.stop() }
        let a = try directMember(serverA, name: "nfs-a")
        let b = try directMember(serverB, name: "nfs-b")
        defer { a.shutdown(); b.shutdown() }
        #expect(try await a.createVolume(relativePath: rel("before"), mode: .defaultDirectory, owner: marker(uid: "u0")).isCreated)

        await serverA.suspend()
        let error = await memberError { () async throws(StorageError) in
            try await a.createVolume(relativePath: rel("during"), mode: .defaultDirectory, owner: marker(uid: "u1"))
        }
        guard case .timedOut("nfs-a", _, _, _) = error else {
            serverA.resume()
            Issue.record("expected a timeout from the stopped server, got \(String(describing: error))")
            return
        }
        // One call, not three: a timeout makes the member unhealthy at once.
        #expect(await a.health.condition == .unhealthy(failedProbes: 0))
        #expect(await a.health.acceptsNewVolumes == false)
        // Fail fast while unhealthy: placement skips it without waiting.
        let fast = await memberError { () async throws(StorageError) in try await a.freeSpace() }
        #expect(fast?.healthImpact == .unknown, "memberUnhealthy, got \(String(describing: fast))")
        // The other server keeps serving while A is stopped.
        for index in 0..<3 {
            #expect(try await b.createVolume(
                relativePath: rel("vol-\(index)"), mode: .defaultDirectory, owner: marker(uid: "b\(index)")).isCreated)
        }
        #expect(FileManager.default.fileExists(atPath: serverB.exportDirectory() + "/" + OwnershipRecord.recordPath(for: try rel("vol-2")).description))

        serverA.resume()
        #expect(await eventually { a.executor.statistics.stuckThreads == 0 })
        try await a.probe()
        #expect(await a.health.condition == .healthy)
        let after = try await a.createVolume(relativePath: rel("during"), mode: .defaultDirectory, owner: marker(uid: "u1"))
        // The timed-out attempt may have been applied after SIGCONT: then the retry finds
        // its record (and perhaps its directory) instead of creating them. Both are this
        // claim's volume.
        switch after {
        case .created(let record), .alreadyOurs(let record): #expect(record.claimUID == "u1")
        }
    }

    @Test func killedServer_isReconnectedAfterRestart_andKeepsItsVolumes() async throws {
        let server = try await GaneshaServer.start()
        defer { server.stop() }
        let member = try directMember(server, name: "nfs-a")
        defer { member.shutdown() }
        #expect(try await member.createVolume(relativePath: rel("vol"), mode: .defaultDirectory, owner: marker(uid: "u0")).isCreated)

        try await server.kill()
        let error = await memberError { () async throws(StorageError) in try await member.freeSpace() }
        #expect(error?.healthImpact == .failure, "a dead server is a server failure, got \(String(describing: error))")

        try await server.restart()
        try await member.probe()
        #expect(await member.health.condition == .healthy)
        #expect(try await member.readRecord(relativePath: rel("vol"))?.claimUID == "u0")
        #expect(try await member.createVolume(relativePath: rel("vol-2"), mode: .defaultDirectory, owner: marker(uid: "u2")).isCreated)
    }

    @Test func fullExport_failsTheMarkerWriteWithNoSpace_andReportsLowFreeSpace() async throws {
        let server = try await GaneshaServer.start(exports: [.init(name: "small", tmpfsBytes: 1 << 20)])
        defer { server.stop() }
        let member = try directMember(server, name: "nfs-small")
        defer { member.shutdown() }
        let before = try await member.freeSpace()
        #expect(before.totalBytes <= 2 << 20, "a 1 MiB tmpfs, got \(before)")

        try fillFileSystem(at: server.exportDirectory("small") + "/filler")
        let full = try await member.freeSpace()
        #expect(full.availableBytes < 64 * 1024, "placement's free-space threshold sees it full: \(full)")

        let error = await memberError { () async throws(StorageError) in
            try await member.createVolume(relativePath: rel("team-a-db"), mode: .defaultDirectory, owner: marker())
        }
        guard case .systemCall("nfs-small", _, let path, let call, ENOSPC) = error else {
            Issue.record("expected ENOSPC from the server, got \(String(describing: error))")
            return
        }
        // The first write is the ownership record's, in the reserved area.
        #expect(path.hasPrefix(OwnershipRecord.recordPath(for: try rel("team-a-db")).description))
        #expect(call.contains("NFS3ERR_NOSPC"))
        #expect(error?.description.contains("No space left on device") == true)
        // Rolled back: no half-made volume is left behind.
        #expect(!FileManager.default.fileExists(atPath: server.exportDirectory("small") + "/team-a-db"))
        // A full disk is placement's business, not a dead server.
        #expect(await member.health.condition == .healthy)
    }

    @Test func rootSquashedExport_permissionDenied_namesTheMemberAndThePath() async throws {
        let server = try await GaneshaServer.start(exports: [.init(name: "squashed", rootSquash: true)])
        defer { server.stop() }
        // Root-owned 0755: the squashed client (anonymous uid) may look but not write.
        chmod(server.exportDirectory("squashed"), 0o755)
        let member = try directMember(server, name: "nfs-squashed")
        defer { member.shutdown() }

        let error = await memberError { () async throws(StorageError) in
            try await member.createVolume(relativePath: rel("team-a-db"), mode: .defaultDirectory, owner: marker())
        }
        // The first write is the reserved area's (for the ownership record).
        #expect(error == .systemCall(
            member: "nfs-squashed", operation: .makeDirectory, path: ReservedNames.directory.description,
            call: "NFSv3 MKDIR (NFS3ERR_ACCES)", errno: EACCES))
        #expect(error?.description.contains("nfs-squashed") == true)
        #expect(error?.description.contains("'.nfs-cluster-provisioner'") == true)
        #expect(error?.isRetryable == false)
        // Permission denied is a request the server answered, not a dead server.
        #expect(await member.health.condition == .healthy)
    }
}

