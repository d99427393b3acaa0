import ArgumentParser
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import LocalCluster
import Logging
import NFSServerHarness
import RingCore

/// `nfs-cluster-provisioner demo`: the whole product on a machine with no cluster.
///
/// Starts LocalCluster (an in-process Kubernetes API server with the PV binder), makes
/// local directories the NFS exports, runs the real engine against it over HTTP, and walks
/// through provisioning, the ring's balance, deletion under each policy, and a re-created
/// StatefulSet claim finding its data. Ends with a summary cross-checked against what the
/// cluster holds; exits 0 when everything matched, 1 when something did not.
///
/// `--real-nfs` serves every member from a real nfs-ganesha on 127.0.0.1 (NFSv3), reached
/// in `mode: direct` on the servers' own ports (``DemoNFSServers``): the same engine, over
/// the NFS protocol instead of local directories. The servers are stopped at the end,
/// whatever happened. If they cannot be started (not root, packages missing and not
/// installable, ganesha failing), the demo says why on one line and exits 2 before
/// anything else runs: like bad input, the request cannot be carried out as given.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the provisioner at work against an in-process Kubernetes API server and local directories (or real NFS servers).")

    @Option(help: "How many NFS servers (local directories) to spread over: 1-1000 (1-64 with --real-nfs).")
    var members: Int = 3
    @Option(help: "How many claims to create: 3-10000.")
    var claims: Int = 24
    @Option(help: "Ring hash: xxh3 or crc32.")
    var hash: String = "xxh3"
    @Option(help: "Where to put the exports (default: a new temporary directory).")
    var directory: String?
    @Flag(help: "Leave the exports on disk for inspection.")
    var keep = false
    @Flag(help: "Log the engine's work too.")
    var verbose = false
    @Option(help: "The engine's Kubernetes API requests per second, 0 for no limit (the daemon's default is 5; the demo's in-process API server takes more). The demo's own requests, as a user's, are not limited.")
    var kubeApiQps: Double = 50
    @Option(help: "Kubernetes API requests allowed at once above --kube-api-qps.")
    var kubeApiBurst: Int = 100
    @Flag(name: .customLong("real-nfs"),
          help: "Serve each member from a real nfs-ganesha on 127.0.0.1 (NFSv3, mode: direct). Needs root; installs nfs-ganesha when missing; exits 2 if the servers cannot be started.")
    var realNFS = false

    func run() async throws {
        // Real NFS starts one nfs-ganesha per member; local directories cost next to nothing.
        let maxMembers = realNFS ? 64 : 1000
        guard (1...maxMembers).contains(members) else {
            throw UsageError("--members must be between 1 and \(maxMembers)\(realNFS ? " with --real-nfs" : "")")
        }
        let rateLimit = try RunCommand.rateLimit(qps: kubeApiQps, burst: kubeApiBurst)
        guard (3...10_000).contains(claims) else { throw UsageError("--claims must be between 3 and 10000") }
        guard let ringHash = RingHash(rawValue: hash.lowercased()) else { throw UsageError("--hash \"\(hash)\" is not a hash; use xxh3 or crc32") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .info : .error
            return handler
        }
        let root = try directory ?? Self.temporaryDirectory()
        let show = DemoOutput()
        show.heading("nfs-cluster-provisioner demo\(realNFS ? " (real NFS: nfs-ganesha)" : "")")
        show.line("exports under \(root)\(keep || directory != nil ? "" : " (removed at the end; --keep leaves them)")")
        let removesRoot = !keep && directory == nil
        let removeRoot: @Sendable () -> Void = { if removesRoot { try? FileManager.default.removeItem(atPath: root) } }

        let servers: DemoNFSServers?
        let setup: (members: [MemberConfiguration], directories: [String: String])
        if realNFS {
            do throws(HelperError) {
                let started = try await DemoNFSServers.start(count: members, root: root, show: show)
                servers = started
                setup = (started.members, started.localDirectories)
            } catch {
                removeRoot()
                throw UsageError("demo --real-nfs: cannot start nfs-ganesha: \(error.summary)")
            }
        } else {
            servers = nil
            do {
                setup = try DemoScenario.localMembers(root: root, count: members)
            } catch {
                removeRoot()
                throw error
            }
        }
        /// Every exit from here on: servers killed first (they serve the directory), then
        /// the directory removed unless kept.
        let cleanUp: @Sendable () -> Void = {
            if let servers {
                servers.stop()
                show.line("stopped \(servers.servers.count) nfs-ganesha servers")
            }
            removeRoot()
        }
        // The servers run in process groups of their own, so a Ctrl-C at the terminal does
        // not reach them: on SIGINT or SIGTERM, stop them before leaving.
        let signalSources = servers == nil ? [] : Self.onTermination {
            cleanUp()
        }
        defer { for source in signalSources { source.cancel() } }

        var outcome = DemoScenario.Outcome()
        do {
            var clusterConfiguration = LocalClusterConfiguration.default
            clusterConfiguration.logger = Logger(label: "LocalCluster", factory: { _ in SwiftLogNoOpLogHandler() })
            let cluster = try await LocalCluster.start(clusterConfiguration)
            show.line("LocalCluster serving the Kubernetes API on \(cluster.baseURL)")
            do {
                let scenario = DemoScenario(cluster: cluster, root: root, members: setup.members, localDirectories: setup.directories, rateLimit: rateLimit,
                                            claimCount: claims, hash: ringHash, show: show, verbose: verbose)
                outcome = try await scenario.run()
            } catch {
                await cluster.shutdown()
                throw error
            }
            await cluster.shutdown()
        } catch {
            cleanUp()
            throw error
        }
        cleanUp()
        if !outcome.mismatches.isEmpty {
            show.heading("MISMATCHES")
            for m in outcome.mismatches { show.line("✗ \(m)") }
            throw ExitCode(1)
        }
        show.line("\nDemo finished: every check matched what the cluster holds.")
    }

    /// Runs `action`, then exits with 128 + the signal's number, on SIGINT or SIGTERM (the
    /// signals' default action is replaced until the returned sources are cancelled).
    static func onTermination(_ action: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("nfs-cluster-provisioner: demo interrupted by signal \(number)\n".utf8))
                action()
                Foundation.exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    static func temporaryDirectory(prefix: String = "ncp-demo-") throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/" + prefix + String(UInt32.random(in: 0...UInt32.max), radix: 36)
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
