// The mounted store on a hung mount path: bindfs (FUSE) whose daemon is stopped behaves like
// a hard NFS mount whose server died. No kernel NFS here, so FUSE stands in for it.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import TestSupport
import Testing

/// A temp dir with `source/`, a bindfs mount of it on `mnt/`, a member on the mount (the
/// mount-point check on: bindfs is a separate device) and a healthy member on a plain
/// directory.
private struct HungMountFixture {
    let directory: TempDirectory
    let mount: BindfsMount
    let hung: MemberStorage
    let healthy: MemberStorage

    static func make() async throws -> HungMountFixture {
        let directory = try TempDirectory(prefix: "ncp-fuse")
        let source = try directory.makeDirectory("source")
        let mountPoint = try directory.makeDirectory("mnt")
        let other = try directory.makeDirectory("other")
        let mount: BindfsMount
        do {
            mount = try await BindfsMount.start(source: source, mountPoint: mountPoint, logPath: directory.child("bindfs.log"))
        } catch {
            directory.remove()
            throw error
        }
        let configuration = MemberStorage.Configuration(operationTimeout: .milliseconds(500), probeTimeout: .milliseconds(500))
        let hung = MemberStorage(
            store: try MountedVolumeStore(configuration: .init(member: "fuse", mountPath: mountPoint)),
            configuration: configuration)
        let healthy = MemberStorage(
            store: try MountedVolumeStore(configuration: .init(member: "local", mountPath: other, requireMountPoint: false)),
            configuration: configuration)
        return HungMountFixture(directory: directory, mount: mount, hung: hung, healthy: healthy)
    }

    /// Unmounts first (never blocks, even hung), then removes the directories.
    func tearDown() {
        mount.resume()
        mount.unmount()
        hung.shutdown()
        healthy.shutdown()
        directory.remove()
    }
}

@Suite("Mounted store on a hung FUSE mount (bindfs)")
struct FUSEHungMountTests {
    @Test func stoppedBindfs_memberUnhealthy_otherServes_stuckThreadsReturnAfterSIGCONT() async throws {
        let f = try await HungMountFixture.make()
        defer { f.tearDown() }
        #expect(try await f.hung.createVolume(relativePath: rel("before"), mode: .defaultDirectory, owner: marker(uid: "u0")).isCreated)
        #expect(FileManager.default.fileExists(atPath: f.directory.child("source/" + OwnershipRecord.recordPath(for: try rel("before")).description)))

        await f.mount.suspend()
        let error = await memberError { () async throws(StorageError) in
            try await f.hung.createVolume(relativePath: rel("during"), mode: .defaultDirectory, owner: marker(uid: "u1"))
        }
        #expect(error == .timedOut(member: "fuse", operation: .createVolume, path: "during", after: .milliseconds(500)))
        #expect(await f.hung.health.condition == .unhealthy(failedProbes: 0))
        #expect(f.hung.executor.statistics.stuckThreads == 1, "the blocked thread is counted, not replaced")
        for index in 0..<3 {
            #expect(try await f.healthy.createVolume(
                relativePath: rel("vol-\(index)"), mode: .defaultDirectory, owner: marker(uid: "l\(index)")).isCreated)
        }

        f.mount.resume()
        #expect(await eventually { f.hung.executor.statistics.stuckThreads == 0 }, "the stuck thread came back")
        #expect(f.hung.executor.statistics.lateCompletions >= 1)
        try await f.hung.probe()
        #expect(await f.hung.health.condition == .healthy)
        #expect(try await f.hung.readRecord(relativePath: rel("before"))?.claimUID == "u0")
    }

    @Test func stoppedBindfs_abortedConnection_freesTheStuckThreads_memberStaysUnhealthy() async throws {
        let f = try await HungMountFixture.make()
        defer { f.tearDown() }
        await f.mount.suspend()
        let error = await memberError { () async throws(StorageError) in try await f.hung.freeSpace() }
        #expect(error == .timedOut(member: "fuse", operation: .fileSystemStats, path: ".", after: .milliseconds(500)))
        #expect(f.hung.executor.statistics.stuckThreads == 1)

        // fusectl abort: the kernel fails the blocked call ("Software caused connection
        // abort"), as an operator would free a hung mount without the server coming back.
        try f.mount.abortConnection()
        #expect(await eventually { f.hung.executor.statistics.stuckThreads == 0 }, "the stuck thread came back")
        let probe = await memberError { () async throws(StorageError) in try await f.hung.probe() }
        #expect(probe != nil, "the aborted mount cannot be used")
        #expect(await f.hung.health.acceptsNewVolumes == false)
        #expect(try await f.healthy.freeSpace().totalBytes > 0)
    }
}
