// The whole engine (LocalCluster, controller, placement) on `mode: direct` members served by
// real nfs-ganesha servers on loopback: a stopped server, a killed and restarted one.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import RingCore
import TestSupport
import TestTraits
import Testing

@Suite("Engine on direct NFS members (nfs-ganesha): stopped and killed servers", .timeLimit(.minutes(3)), .shutsDownTestBeds)
struct DirectNFSEngineFaultTests {
    @Test func stoppedServer_memberUnhealthyAfterOneTimeout_claimsBindOnTheOthers_recoversAfterSIGCONT() async throws {
        let servers = try await startGaneshaServers(count: 3)
        defer { for server in servers { server.stop() } }
        let serverB = servers[1]
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let configuration = bed.configuration(zip(["a", "b", "c"], servers).map { $1.memberConfiguration(name: $0) })
        let ring = try RingSnapshotOf(configuration)
        let run = try bed.startEngine(configuration, configure: DirectEngine.configure)
        let b = try #require(run.engine.registry.entry("b")).storage

        // Before: b takes the claims the ring gives it.
        let before = try claimNames(on: "b", ring: ring, namespace: "apps", prefix: "before", count: 1)[0]
        try await bed.createClaim("apps", before, className: "nfs")
        let beforeVolume = try await bed.waitForBound("apps", before)
        #expect(try placement(of: beforeVolume) == ("b", "ring"))
        #expect(EngineTestBed.volumeDirectories(under: serverB.exportDirectory()) == ["apps-\(before)"])

        // SIGSTOP: b answers nothing; claims of b's spill over, the others' stay put.
        await serverB.suspend()
        let ofB = try claimNames(on: "b", ring: ring, namespace: "apps", prefix: "stopped", count: 3)
        let ofOthers = try claimNames(on: "a", ring: ring, namespace: "apps", prefix: "stopped-a", count: 1)
            + claimNames(on: "c", ring: ring, namespace: "apps", prefix: "stopped-c", count: 1)
        for name in ofB + ofOthers { try await bed.createClaim("apps", name, className: "nfs") }
        for name in ofB {
            let volume = try await bed.waitForBound("apps", name)
            let (member, label) = try placement(of: volume)
            #expect(member != "b" && label == "spill-over", "\(name) on \(member) (\(label ?? "-"))")
            // Events are sent in the background: wait for this one, then read it.
            try await bed.waitUntil("ProvisioningSucceeded about \(name)") {
                try await !bed.eventMessages("ProvisioningSucceeded", about: name, namespace: "apps").isEmpty
            }
            let succeeded = try await bed.eventMessages("ProvisioningSucceeded", about: name, namespace: "apps")
            #expect(succeeded.contains { $0.contains("spill-over: b: ") }, "the event says b was skipped and why: \(succeeded)")
        }
        for name in ofOthers {
            let volume = try await bed.waitForBound("apps", name)
            #expect(try placement(of: volume).label == "ring")
        }
        // One timed-out call (or probe) took b out at once: no failure threshold for hangs.
        let stopped = await b.health
        #expect(!stopped.condition.isAvailable, "b is \(stopped.condition)")
        #expect(stopped.lastError?.healthImpact == .timeout, "b failed by timing out: \(String(describing: stopped.lastError))")
        #expect(EngineTestBed.volumeDirectories(under: serverB.exportDirectory()) == ["apps-\(before)"])

        // SIGCONT: a recovery probe brings b back, and it takes its claims again.
        serverB.resume()
        try await bed.waitUntil("b healthy after SIGCONT") { await b.health.condition == .healthy }
        let after = try claimNames(on: "b", ring: ring, namespace: "apps", prefix: "resumed", count: 2)
        for name in after { try await bed.createClaim("apps", name, className: "nfs") }
        for name in after {
            let volume = try await bed.waitForBound("apps", name)
            #expect(try placement(of: volume) == ("b", "ring"))
        }
        // Its old volume is reclaimed there too.
        try await bed.deleteClaim("apps", before)
        try await bed.waitUntil("PV of \(before) deleted") { try await bed.volume(beforeVolume.metadata.name) == nil }
        #expect(!FileManager.default.fileExists(atPath: serverB.exportDirectory() + "/apps-\(before)"))
        try await run.stop()
    }

    @Test func killedServer_isReconnectedAfterRestart_takesClaimsAgain_andReclaimsItsOldVolumes() async throws {
        let servers = try await startGaneshaServers(count: 2)
        defer { for server in servers { server.stop() } }
        let serverA = servers[0]
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let configuration = bed.configuration(zip(["a", "b"], servers).map { $1.memberConfiguration(name: $0) })
        let ring = try RingSnapshotOf(configuration)
        let run = try bed.startEngine(configuration, configure: DirectEngine.configure)
        let a = try #require(run.engine.registry.entry("a")).storage

        let before = try claimNames(on: "a", ring: ring, namespace: "db", prefix: "before", count: 1)[0]
        try await bed.createClaim("db", before, className: "nfs")
        let beforeVolume = try await bed.waitForBound("db", before)
        #expect(try placement(of: beforeVolume) == ("a", "ring"))

        // SIGKILL: refused connections are server failures; the probes take a out.
        try await serverA.kill()
        try await bed.waitUntil("a unhealthy after SIGKILL") { await !a.health.condition.isAvailable }
        let whileDead = try claimNames(on: "a", ring: ring, namespace: "db", prefix: "dead", count: 1)[0]
        try await bed.createClaim("db", whileDead, className: "nfs")
        #expect(try placement(of: try await bed.waitForBound("db", whileDead)) == ("b", "spill-over"))

        // The same server again on the same ports: the member reconnects by itself.
        try await serverA.restart()
        try await bed.waitUntil("a healthy after the restart") { await a.health.condition == .healthy }
        let after = try claimNames(on: "a", ring: ring, namespace: "db", prefix: "restarted", count: 2)
        for name in after { try await bed.createClaim("db", name, className: "nfs") }
        for name in after {
            #expect(try placement(of: try await bed.waitForBound("db", name)) == ("a", "ring"))
        }
        #expect(EngineTestBed.volumeDirectories(under: serverA.exportDirectory()) == (["db-\(before)"] + after.map { "db-\($0)" }).sorted())

        // The volume made before the crash is deleted through the new connection.
        try await bed.deleteClaim("db", before)
        try await bed.waitUntil("PV of \(before) deleted") { try await bed.volume(beforeVolume.metadata.name) == nil }
        #expect(!FileManager.default.fileExists(atPath: serverA.exportDirectory() + "/db-\(before)"))
        try await run.stop()
    }
}
