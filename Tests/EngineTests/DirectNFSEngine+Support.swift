// Shared pieces of the engine tests on direct NFS members: nfs-ganesha servers, engine
// options with short NFS timeouts, claim names the ring gives to a chosen member.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import RingCore
import TestSupport
import Testing

/// Starts one nfs-ganesha per entry of `exports` (starts are serialised by the harness;
/// each takes a fraction of a second). If one cannot start, the test fails with the
/// harness's reason; the servers already started are stopped when released.
func startGaneshaServers(_ exports: [[GaneshaServer.Export]]) async throws -> [GaneshaServer] {
    var servers: [GaneshaServer] = []
    for list in exports {
        do {
            servers.append(try await GaneshaServer.start(exports: list))
        } catch {
            for server in servers { server.stop() }
            throw error
        }
    }
    return servers
}

/// `count` servers, each with one export named `export`.
func startGaneshaServers(count: Int) async throws -> [GaneshaServer] {
    try await startGaneshaServers(Array(repeating: [GaneshaServer.Export(name: "export")], count: count))
}

/// Engine settings for direct members on loopback servers.
enum DirectEngine {
    /// Each NFS call (the mount's included) gives up after this.
    static let nfsTimeout = Duration.seconds(1)

    /// NFS calls time out after 1 s, a whole operation after 3 s (so a stopped server
    /// surfaces as the store's own timeout and the thread comes back); probes run often
    /// (every 100 ms when due; routine every 500 ms; recovery from 200 ms) so that health
    /// changes are seen quickly; free space is re-read after 100 ms.
    static func configure(_ options: inout ProvisionerEngine.Options) {
        options.storeFactory = MemberRegistry.standardFactory(requireMountPoints: false, nfsTimeout: nfsTimeout)
        options.storage = MemberStorage.Configuration(
            operationTimeout: .seconds(3), probeTimeout: .seconds(2),
            health: MemberHealth.Configuration(
                initialProbeBackoff: .milliseconds(200), maxProbeBackoff: .seconds(1), routineProbeInterval: .milliseconds(500)))
        options.engine.probeInterval = .milliseconds(100)
    }
}

/// `count` claim names `<prefix>-<i>` in `namespace` whose first ring candidate is `member`.
func claimNames(on member: String, ring: RingSnapshot, namespace: String, prefix: String, count: Int) throws -> [String] {
    var names: [String] = []
    for index in 0..<10_000 where names.count < count {
        let name = "\(prefix)-\(index)"
        if try ring.locate(PlacementKey.forClaim(namespace: namespace, name: name)).name == member {
            names.append(name)
        }
    }
    try #require(names.count == count, "the ring gives \(member) fewer than \(count) of 10000 names")
    return names
}

/// The member and placement label recorded on a PV.
func placement(of volume: PersistentVolume) throws -> (member: String, label: String?) {
    (try VolumeRecord(annotations: volume.metadata.annotations).member, volume.metadata.annotations[Annotations.placement])
}

extension EngineTestBed {
    /// Messages of the events with `reason` about a claim.
    func eventMessages(_ reason: String, about name: String, namespace: String) async throws -> [String] {
        try await events(about: name, namespace: namespace).filter { $0.reason == reason }.map { $0.message ?? "" }
    }
}
