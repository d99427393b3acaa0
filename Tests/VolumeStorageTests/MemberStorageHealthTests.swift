// MemberStorage health: hung and failing stores, fail-fast, probes and recovery.
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage
import Foundation
import Glibc
import TestSupport
import Testing

@Suite("MemberStorage health")
struct MemberStorageHealthTests {
    @Test func hungStore_timesOut_turnsUnhealthy_failsFast_andRecoversAfterAProbe() async throws {
        let dead = try MemberFixture(name: "dead", timeout: .milliseconds(200))
        let alive = try MemberFixture(name: "alive", timeout: .seconds(30))
        defer { dead.member.shutdown(); alive.member.shutdown(); dead.fake.clearFaults() }
        dead.fake.inject(.hang)

        async let hung = memberError { () async throws(StorageError) in
            try await dead.member.createVolume(relativePath: rel("a"), mode: .defaultDirectory, owner: marker())
        }
        // The other member keeps provisioning while the dead one's call hangs.
        for index in 0..<5 {
            let outcome = try await alive.member.createVolume(
                relativePath: rel("vol-\(index)"), mode: .defaultDirectory, owner: marker(uid: "u\(index)"))
            #expect(outcome.isCreated)
        }
        let error = await hung
        #expect(error == .timedOut(member: "dead", operation: .createVolume, path: "a", after: .milliseconds(200)))
        #expect(await dead.member.health.condition == .unhealthy(failedProbes: 0))
        #expect(await dead.member.health.acceptsNewVolumes == false)

        // Fail fast: no new filesystem call reaches the store.
        let callsBefore = dead.fake.totalCalls
        let fast = await memberError { () async throws(StorageError) in try await dead.member.freeSpace() }
        #expect(fast == .memberUnhealthy(member: "dead", operation: .fileSystemStats, lastError: error))
        #expect(dead.fake.totalCalls == callsBefore)
        #expect(await dead.member.probeIfDue() == .notDue(until: dead.clock.now + .seconds(1)))

        // The server comes back; the stuck thread returns to the pool.
        dead.fake.clearFaults()
        #expect(await eventually { dead.member.executor.statistics.stuckThreads == 0 })
        dead.clock.advance(by: .seconds(1))
        #expect(await dead.member.probeIfDue() == .succeeded)
        #expect(await dead.member.health.condition == .healthy)
        #expect(try await dead.member.createVolume(relativePath: rel("b"), mode: .defaultDirectory, owner: marker()).isCreated)
    }

    @Test func failedRecoveryProbe_keepsItUnhealthy_withALongerWait() async throws {
        let f = try MemberFixture(timeout: .milliseconds(200))
        defer { f.member.shutdown(); f.fake.clearFaults() }
        f.fake.inject(.hang)
        _ = await memberError { () async throws(StorageError) in try await f.member.freeSpace() }
        #expect(await f.member.health.condition == .unhealthy(failedProbes: 0))
        f.clock.advance(by: .seconds(1))
        guard case .failed(let probeError) = await f.member.probeIfDue() else {
            Issue.record("the probe should fail while the store hangs")
            return
        }
        #expect(probeError == .timedOut(member: "server-a", operation: .probe, path: ".", after: .milliseconds(200)))
        let health = await f.member.health
        #expect(health.condition == .unhealthy(failedProbes: 1))
        #expect(health.nextProbeAt == f.clock.now + .seconds(2))
    }

    @Test func serverErrors_makeItSuspectThenUnhealthy_butRequestErrorsDoNot() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        f.fake.inject(.failErrno(ESTALE), for: .fileSystemStats)
        for expected in [MemberHealth.Condition.suspect(consecutiveFailures: 1), .suspect(consecutiveFailures: 2)] {
            let error = await memberError { () async throws(StorageError) in try await f.member.freeSpace() }
            #expect(error?.errnoValue == ESTALE)
            #expect(await f.member.health.condition == expected)
        }
        // A refused delete is the server answering: it resets the count.
        _ = try await f.member.createVolume(relativePath: rel("v"), mode: .defaultDirectory, owner: marker(uid: "owner"))
        _ = await memberError { () async throws(StorageError) in
            try await f.member.deleteVolume(relativePath: rel("v"), expectedClaimUID: "someone-else")
        }
        #expect(await f.member.health.condition == .healthy)
        for _ in 0..<3 {
            _ = await memberError { () async throws(StorageError) in try await f.member.freeSpace() }
        }
        #expect(await f.member.health.condition == .unhealthy(failedProbes: 0))
    }

    @Test func probe_ofAnExportThatIsNotMounted_fails() async throws {
        let directory = try TempDirectory(prefix: "ncp-member")
        let export = try directory.makeDirectory("export")
        let member = MemberStorage(store: try MountedVolumeStore(configuration: .init(member: "a", mountPath: export)))
        defer { member.shutdown() }
        let report = await member.probeIfDue()
        #expect(report == .failed(.exportUnavailable(member: "a", location: export, problem: .notMounted)))
        #expect(await member.health.condition == .suspect(consecutiveFailures: 1))
        #expect(try FileManager.default.contentsOfDirectory(atPath: export).isEmpty)
    }

    @Test func draining_stopsNewVolumesInPlacement_butDeletesStillWork() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        _ = try await f.member.createVolume(relativePath: rel("v"), mode: .defaultDirectory, owner: marker())
        await f.member.setDraining(true)
        #expect(await f.member.health.acceptsNewVolumes == false)
        #expect(try await f.member.deleteVolume(relativePath: rel("v"), expectedClaimUID: "uid-1") == .deleted)
    }

    @Test func runProbes_probesWhenDue_untilCancelled() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await f.member.runProbes(every: .milliseconds(10)) }
            #expect(await eventually { f.fake.callCount(.probe) >= 1 })
            group.cancelAll()
        }
        #expect(f.fake.callCount(.probe) == 1, "the next routine probe is 30 s away on the manual clock")
        #expect(localStat(f.local(ReservedNames.probeDirectory.description))?.kind == .directory)
    }

    @Test func createVolume_markerWriteFails_removesTheDirectoryItCreated() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        f.fake.inject(.failErrno(EIO), for: .writeFile)
        let error = await memberError { () async throws(StorageError) in
            try await f.member.createVolume(relativePath: rel("v"), mode: .defaultDirectory, owner: marker())
        }
        #expect(error?.errnoValue == EIO)
        #expect(localStat(f.local("v")) == nil, "a retry starts clean instead of finding a directory without marker")
        f.fake.clearFaults()
        #expect(try await f.member.createVolume(relativePath: rel("v"), mode: .defaultDirectory, owner: marker()).isCreated)
    }
}

@Suite("MemberStorage path serialisation")
struct MemberStoragePathLockTests {
    @Test func adoptDuringAPendingDelete_waitsForIt_andNeverAdoptsTheDirectoryBeingDeleted() async throws {
        // Without the per-path lock, the adopt could rewrite the record between the delete's
        // ownership check and its rename, and the re-created claim's directory would be deleted.
        let f = try MemberFixture()
        defer { f.member.shutdown(); f.fake.clearFaults() }
        let path = try rel("team-a-db")
        _ = try await f.member.createVolume(relativePath: path, mode: .defaultDirectory, owner: marker(uid: "old"))
        f.fake.inject(.hang, for: .rename)
        async let deleted = f.member.deleteVolume(relativePath: path, expectedClaimUID: "old")
        #expect(await eventually { f.fake.hungCalls == 1 }, "the delete checked ownership and is renaming")
        async let adopted = memberError { () async throws(StorageError) in
            try await f.member.adoptVolume(relativePath: path, claim: marker(uid: "new"), volumeName: "pvc-new",
                                           replacingClaimUID: "old", mode: .defaultDirectory, at: Date())
        }
        #expect(await eventually { await f.member.pathLockWaiters == 1 }, "the adopt waits for the path")
        f.fake.clearFaults()
        #expect(try await deleted == .deleted)
        #expect(await adopted == .unrecordedDirectory(member: "server-a", path: "team-a-db", operation: .adoptVolume))
    }
}
