// The whole engine on `mode: direct` members served by real nfs-ganesha servers whose
// exports refuse work: a full export (placement's free-space threshold) and a root-squashed
// one (permission denied).
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import RingCore
import TestSupport
import TestTraits
import Testing

@Suite("Engine on direct NFS members (nfs-ganesha): full and forbidden exports", .timeLimit(.minutes(3)), .shutsDownTestBeds)
struct DirectNFSEngineExportTests {
    /// The placement threshold of these tests: a filled 1 MiB tmpfs is far below it.
    static let threshold: UInt64 = 256 * 1024

    /// A server with a 1 MiB tmpfs export `small`, filled up through the local directory.
    private func fullServer() async throws -> GaneshaServer {
        let server = try await GaneshaServer.start(exports: [.init(name: "small", tmpfsBytes: 1 << 20)])
        do {
            try fillFileSystem(at: server.exportDirectory("small") + "/filler")
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    private func configure(_ options: inout ProvisionerEngine.Options) {
        DirectEngine.configure(&options)
        options.engine.minFreeBytes = Self.threshold
    }

    @Test func fullExport_isSkippedByPlacement_claimSpillsOver_eventSaysWhy_andItsVolumesStillDelete() async throws {
        let full = try await GaneshaServer.start(exports: [.init(name: "small", tmpfsBytes: 1 << 20)])
        defer { full.stop() }
        let roomy = try await GaneshaServer.start()
        defer { roomy.stop() }
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let configuration = bed.configuration([full.memberConfiguration(name: "full"), roomy.memberConfiguration(name: "roomy")])
        let ring = try RingSnapshotOf(configuration)
        let run = try bed.startEngine(configuration, configure: configure)
        let storage = try #require(run.engine.registry.entry("full")).storage

        // A volume made while there was room, then the export fills up.
        let early = try claimNames(on: "full", ring: ring, namespace: "data", prefix: "early", count: 1)[0]
        try await bed.createClaim("data", early, className: "nfs")
        let earlyVolume = try await bed.waitForBound("data", early)
        #expect(try placement(of: earlyVolume) == ("full", "ring"))
        try fillFileSystem(at: full.exportDirectory("small") + "/filler")

        let names = try claimNames(on: "full", ring: ring, namespace: "data", prefix: "big", count: 2)
        for name in names { try await bed.createClaim("data", name, className: "nfs") }
        for name in names {
            let volume = try await bed.waitForBound("data", name)
            #expect(try placement(of: volume) == ("roomy", "spill-over"))
            #expect(volume.spec?.nfs?.path == "/export/data-\(name)")
            try await bed.waitUntil("ProvisioningSucceeded about \(name)") {
                try await !bed.eventMessages("ProvisioningSucceeded", about: name, namespace: "data").isEmpty
            }
            let succeeded = try await bed.eventMessages("ProvisioningSucceeded", about: name, namespace: "data")
            #expect(succeeded.contains { $0.contains("spill-over: full: ") && $0.contains("free, below the 256.0 KiB threshold") },
                    "the event names the full member and its free space: \(succeeded)")
        }
        #expect(EngineTestBed.volumeDirectories(under: full.exportDirectory("small")) == ["data-\(early)"])

        // Regression: the probe's own write fails with NOSPC on a full export. That is an
        // answer, not a dead server: three of them used to take the member out of service,
        // deletes included, so its space could never be freed.
        for _ in 0..<3 {
            await #expect(throws: StorageError.self) { try await storage.probe() }
        }
        #expect(await storage.health.condition == .healthy)
        try await bed.deleteClaim("data", early)
        try await bed.waitUntil("PV of \(early) deleted") { try await bed.volume(earlyVolume.metadata.name) == nil }
        #expect(EngineTestBed.volumeDirectories(under: full.exportDirectory("small")).isEmpty)
        try await run.stop()
    }

    @Test func fullExport_asTheOnlyMember_provisioningFailedNamesTheMemberAndItsFreeSpace() async throws {
        let full = try await fullServer()
        defer { full.stop() }
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let run = try bed.startEngine(bed.configuration([full.memberConfiguration(name: "full")]), configure: configure)

        try await bed.createClaim("data", "big", className: "nfs")
        try await bed.waitUntil("ProvisioningFailed about data/big") {
            try await !bed.eventMessages("ProvisioningFailed", about: "big", namespace: "data").isEmpty
        }
        let failed = try await bed.eventMessages("ProvisioningFailed", about: "big", namespace: "data")
        #expect(failed.contains { $0.contains("no member can take new volumes: full: ") && $0.contains("free, below the 256.0 KiB threshold") },
                "\(failed)")
        #expect(try await bed.claim("data", "big")?.status?.phase == "Pending")
        #expect(EngineTestBed.volumeDirectories(under: full.exportDirectory("small")).isEmpty)
        try await run.stop()
    }

    @Test func rootSquashedExport_provisioningFailedNamesTheMemberAndThePath() async throws {
        let server = try await GaneshaServer.start(exports: [.init(name: "squashed", rootSquash: true)])
        defer { server.stop() }
        // Root-owned 0755: the squashed client (anonymous uid) may look but not write.
        try #require(chmod(server.exportDirectory("squashed"), 0o755) == 0, "chmod: errno \(errno)")
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        // Routine probes 30 s apart (the default): the startup probe fails to write (one
        // failure, "suspect"), and listing the member's ownership records meets the refusal,
        // so the member takes no claims and placement says why.
        let run = try bed.startEngine(bed.configuration([server.memberConfiguration(name: "squashed")])) { options in
            DirectEngine.configure(&options)
            options.storage.health = MemberHealth.Configuration()
        }

        try await bed.createClaim("team", "denied", className: "nfs")
        try await bed.waitUntil("ProvisioningFailed about team/denied") {
            try await !bed.eventMessages("ProvisioningFailed", about: "denied", namespace: "team").isEmpty
        }
        let failed = try await bed.eventMessages("ProvisioningFailed", about: "denied", namespace: "team")
        #expect(failed.contains {
            $0.contains("squashed:") && $0.contains("'.nfs-cluster-provisioner") && $0.contains("Permission denied")
        }, "the event names the member, the path and the refusal: \(failed)")
        #expect(try await bed.claim("team", "denied")?.status?.phase == "Pending")
        #expect(!FileManager.default.fileExists(atPath: server.exportDirectory("squashed") + "/team-denied"))
        try await run.stop()
    }
}
