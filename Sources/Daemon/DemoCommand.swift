import ArgumentParser
import Engine
import Foundation
import LocalCluster
import Logging
import RingCore

/// `nfs-cluster-provisioner demo`: the whole product on a machine with no cluster.
///
/// Starts LocalCluster (an in-process Kubernetes API server with the PV binder), makes
/// local directories the NFS exports, runs the real engine against it over HTTP, and walks
/// through provisioning, the ring's balance, deletion under each policy, and a re-created
/// StatefulSet claim finding its data. Ends with a summary cross-checked against what the
/// cluster holds; exits 0 when everything matched.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the provisioner at work against an in-process Kubernetes API server and local directories.")

    @Option(help: "How many NFS servers (local directories) to spread over.")
    var members: Int = 3
    @Option(help: "How many claims to create.")
    var claims: Int = 24
    @Option(help: "Ring hash: xxh3 or crc32.")
    var hash: String = "xxh3"
    @Option(help: "Where to put the exports (default: a new temporary directory).")
    var directory: String?
    @Flag(help: "Leave the exports on disk for inspection.")
    var keep = false
    @Flag(help: "Log the engine's work too.")
    var verbose = false

    func run() async throws {
        guard (1...64).contains(members) else { throw UsageError("--members must be between 1 and 64") }
        guard (3...1000).contains(claims) else { throw UsageError("--claims must be between 3 and 1000") }
        guard let ringHash = RingHash(rawValue: hash.lowercased()) else { throw UsageError("--hash \"\(hash)\" is not a hash; use xxh3 or crc32") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .info : .error
            return handler
        }
        let root = try directory ?? Self.temporaryDirectory()
        let show = DemoOutput()
        show.heading("nfs-cluster-provisioner demo")
        show.line("exports under \(root)\(keep || directory != nil ? "" : " (removed at the end; --keep leaves them)")")

        var clusterConfiguration = LocalClusterConfiguration.default
        clusterConfiguration.controllerResyncPeriod = .seconds(1)
        clusterConfiguration.logger = Logger(label: "LocalCluster", factory: { _ in SwiftLogNoOpLogHandler() })
        let cluster = try await LocalCluster.start(clusterConfiguration)
        show.line("LocalCluster serving the Kubernetes API on \(cluster.baseURL)")
        var outcome = DemoScenario.Outcome()
        do {
            let scenario = try DemoScenario(cluster: cluster, root: root, memberCount: members, claimCount: claims,
                                            hash: ringHash, show: show, verbose: verbose)
            outcome = try await scenario.run()
        } catch {
            await cluster.shutdown()
            if !keep && directory == nil { try? FileManager.default.removeItem(atPath: root) }
            throw error
        }
        await cluster.shutdown()
        if !keep && directory == nil { try? FileManager.default.removeItem(atPath: root) }
        if !outcome.mismatches.isEmpty {
            show.heading("MISMATCHES")
            for m in outcome.mismatches { show.line("✗ \(m)") }
            throw ExitCode(1)
        }
        show.line("\nDemo finished: every check matched what the cluster holds.")
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/ncp-demo-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Progress printing, flushed at once so the demo is visible while it runs.
final class DemoOutput: Sendable {
    func heading(_ text: String) {
        print("\n== \(text)")
        fflush(nil)
    }

    func line(_ text: String) {
        print(text)
        fflush(nil)
    }
}
