import ArgumentParser
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import LocalCluster
import Logging
import RingCore
import Synchronization

/// `nfs-cluster-provisioner playground`: a cluster-less Kubernetes API to try the
/// provisioner with kubectl.
///
/// Starts LocalCluster (an in-process API server with the PV binder) on `--address`:`--port`,
/// makes `--members` local directories the NFS exports, creates the StorageClasses of
/// deploy/examples (nfs-delete, nfs-archive, nfs-retain), writes a kubeconfig, and runs the
/// real engine against it over HTTP (unless `--no-provisioner`, for running the daemon
/// separately). Then it serves until SIGINT or SIGTERM and removes what it made, unless
/// `--keep`.
///
/// Standard output, one line each (for people and scripts):
/// `member <name>: <directory>`, `storageclass <name>: ...`, `export KUBECONFIG=<path>`, and
/// last `playground ready: <url>`. Logs go to standard error.
struct PlaygroundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playground",
        abstract: "Serve an in-process Kubernetes API with the provisioner on local directories, for kubectl.",
        discussion: """
            Prints the member directories, `export KUBECONFIG=<path>` and `playground ready: <url>`, then serves \
            until SIGINT or SIGTERM and removes what it made (unless --keep). Claims of the WaitForFirstConsumer \
            class nfs-retain wait for a node as in a cluster; there is no scheduler, so set it yourself: \
            kubectl annotate pvc NAME volume.kubernetes.io/selected-node=playground-node.
            """)

    static let provisionerName = "example.com/nfs"

    @Option(help: "How many NFS servers (local directories) to spread over.")
    var members: Int = 3
    @Option(help: "Address the API server listens on.")
    var address: String = "127.0.0.1"
    @Option(help: "Port the API server listens on (0: a free one).")
    var port: Int = 0
    @Option(help: "Where to put the exports, the kubeconfig and provisioner.yaml (default: a new temporary directory).")
    var directory: String?
    @Option(help: "Where to write the kubeconfig (default: <directory>/kubeconfig); an existing file is never replaced.")
    var kubeconfig: String?
    @Flag(help: "Leave the exports, the kubeconfig and provisioner.yaml on disk at the end.")
    var keep = false
    @Flag(name: .customLong("no-provisioner"),
          help: "Do not run the engine: run `nfs-cluster-provisioner run --config <directory>/provisioner.yaml ...` yourself.")
    var noProvisioner = false
    @Flag(help: "Log the engine's and the API server's work to standard error.")
    var verbose = false
    @Option(help: "The engine's Kubernetes API requests per second.")
    var kubeApiQps: Double = 50
    @Option(help: "The engine's Kubernetes API requests allowed at once above --kube-api-qps.")
    var kubeApiBurst: Int = 100

    /// The classes of deploy/examples (storageclass-delete.yaml, -archive.yaml,
    /// -retain.yaml): the same immutable fields, so `kubectl apply -f` of those files
    /// updates them rather than failing.
    static let storageClasses: [(name: String, bindingMode: String, parameters: [String: String])] = [
        ("nfs-delete", "Immediate", ["onDelete": "delete", "pathPattern": "${.PVC.namespace}-${.PVC.name}", "mountPermissions": "0777"]),
        ("nfs-archive", "Immediate", ["onDelete": "archive"]),
        ("nfs-retain", "WaitForFirstConsumer", ["onDelete": "retain"]),
    ]

    func run() async throws {
        guard (1...64).contains(members) else { throw UsageError("--members must be between 1 and 64, got \(members)") }
        guard (0...65535).contains(port) else { throw UsageError("--port must be between 0 and 65535, got \(port)") }
        guard !address.isEmpty else { throw UsageError("--address must not be empty (e.g. 127.0.0.1)") }
        let rateLimit = try RunCommand.rateLimit(qps: kubeApiQps, burst: kubeApiBurst)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .info : .error
            return handler
        }
        let files = try PlaygroundFiles.prepare(directory: directory, kubeconfig: kubeconfig, members: members)
        let show = DemoOutput()

        var clusterConfiguration = LocalClusterConfiguration.default
        clusterConfiguration.host = address
        clusterConfiguration.port = port
        clusterConfiguration.controllerResyncPeriod = .seconds(1)
        clusterConfiguration.logger = verbose ? Logger(label: "LocalCluster") : Logger(label: "LocalCluster", factory: { _ in SwiftLogNoOpLogHandler() })
        let cluster: LocalCluster
        do {
            cluster = try await LocalCluster.start(clusterConfiguration)
        } catch {
            files.remove()
            throw UsageError("\(error); choose another --address or --port (0 picks a free port)")
        }
        let server = Self.clientURL(host: address, port: cluster.port)

        let engine: PlaygroundEngine?
        do {
            for (name, mode, parameters) in Self.storageClasses {
                try cluster.create([
                    "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": ["name": .string(name)],
                    "provisioner": .string(Self.provisionerName), "reclaimPolicy": "Delete", "volumeBindingMode": .string(mode),
                    "allowVolumeExpansion": false, "mountOptions": ["nfsvers=4.1"],
                    "parameters": .object(parameters.mapValues(JSONValue.string)),
                ])
            }
            try cluster.kubeconfigYAML(namespace: "default", server: server)
                .write(toFile: files.kubeconfig, atomically: true, encoding: .utf8)
            try PlaygroundFiles.configurationYAML(provisionerName: Self.provisionerName, members: files.members)
                .write(toFile: files.configuration, atomically: true, encoding: .utf8)
            engine = noProvisioner ? nil : try await PlaygroundEngine.start(kubeconfig: files.kubeconfig, members: files.members, rateLimit: rateLimit)
        } catch {
            await cluster.shutdown()
            files.remove()
            throw error
        }

        for member in files.members { show.line("member \(member.name): \(member.mountPath ?? "")") }
        for (name, mode, parameters) in Self.storageClasses {
            show.line("storageclass \(name): onDelete=\(parameters["onDelete"] ?? "") \(mode)")
        }
        show.line("export KUBECONFIG=\(files.kubeconfig)")
        if engine == nil {
            show.line("no provisioner: run nfs-cluster-provisioner run --config \(files.configuration) --kubeconfig \(files.kubeconfig) --allow-unmounted-exports --min-free 0")
        }

        let signals = PlaygroundSignals()
        var failure: (any Error)?
        if let engine {
            failure = await engine.waitUntilReady(orSignal: signals)
        }
        if failure == nil, signals.received == nil {
            show.line("playground ready: \(server)")
            if let engine {
                failure = await engine.waitForEnd(orSignal: signals)
            } else {
                await signals.wait()
            }
        }
        // From here on, a second signal ends the process at once.
        signals.exitOnNext()
        if let engine { await engine.stop() }
        await cluster.shutdown()
        if keep {
            show.line("kept \(files.root)")
        } else {
            files.remove()
        }
        if let failure {
            throw PlaygroundError.engineStopped("\(failure)")
        }
        show.line("playground stopped")
    }

    /// The URL clients use: a wildcard listen address is reached on loopback.
    static func clientURL(host: String, port: Int) -> String {
        let reachable: String
        switch host {
        case "0.0.0.0", "": reachable = "127.0.0.1"
        case "::", "[::]": reachable = "[::1]"
        default: reachable = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
        return "http://\(reachable):\(port)"
    }
}

enum PlaygroundError: Error, CustomStringConvertible {
    case engineStopped(String)
    var description: String { "the provisioner stopped: \(self.detail)" }
    var detail: String {
        switch self {
        case .engineStopped(let reason): reason
        }
    }
}

/// What the playground puts on disk, and how it is removed again.
struct PlaygroundFiles: Sendable {
    let root: String
    /// Whether the playground made `root` (then it removes all of it).
    let createdRoot: Bool
    let kubeconfig: String
    let configuration: String
    let members: [MemberConfiguration]

    /// Checks the paths and makes the member directories; bad input is a `UsageError`.
    static func prepare(directory: String?, kubeconfig: String?, members count: Int) throws -> PlaygroundFiles {
        let manager = FileManager.default
        let root: String
        let createdRoot: Bool
        if let directory {
            root = URL(fileURLWithPath: directory).standardizedFileURL.path
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: root, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw UsageError("--directory \(root) is not a directory") }
                createdRoot = false
            } else {
                do {
                    try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
                } catch {
                    throw UsageError("--directory \(root) cannot be created: \(error.localizedDescription)")
                }
                createdRoot = true
            }
        } else {
            root = try DemoCommand.temporaryDirectory(prefix: "ncp-playground-")
            createdRoot = true
        }
        let kubeconfigPath = kubeconfig.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? root + "/kubeconfig"
        let configuration = root + "/provisioner.yaml"
        for path in [kubeconfigPath, configuration] where manager.fileExists(atPath: path) {
            throw UsageError("\(path) exists; the playground writes a new file and never replaces one (choose another --kubeconfig or --directory)")
        }
        let names = (1...count).map { "nfs-\($0)" }
        for name in names {
            let path = root + "/" + name
            if let content = try? manager.contentsOfDirectory(atPath: path), !content.isEmpty {
                throw UsageError("\(path) is not empty (a kept playground?); give another --directory or remove it")
            }
        }
        var made: [MemberConfiguration] = []
        for name in names {
            let path = root + "/" + name
            do {
                try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw UsageError("cannot make the export directory \(path): \(error.localizedDescription)")
            }
            made.append(MemberConfiguration(name: name, address: "\(name).playground.local", export: "/exports", mountPath: path))
        }
        return PlaygroundFiles(root: root, createdRoot: createdRoot, kubeconfig: kubeconfigPath, configuration: configuration, members: made)
    }

    /// A configuration file for `nfs-cluster-provisioner run` against the same directories.
    static func configurationYAML(provisionerName: String, members: [MemberConfiguration]) -> String {
        var text = """
            # Written by `nfs-cluster-provisioner playground`: the members it serves, for
            # `nfs-cluster-provisioner run --config <this file> --allow-unmounted-exports`.
            provisionerName: \(provisionerName)
            ring:
              hash: xxh3
              virtualNodes: 255
            members:

            """
        for member in members {
            text += "  - name: \(member.name)\n    address: \(member.address)\n    export: \(member.export)\n"
            text += "    mountPath: \(JSONValue.string(member.mountPath ?? "").encodedString())\n"
        }
        return text
    }

    /// Removes what the playground made: all of `root` if it made it, else the member
    /// directories and the two files.
    func remove() {
        let manager = FileManager.default
        if createdRoot {
            try? manager.removeItem(atPath: root)
        } else {
            for member in members { if let path = member.mountPath { try? manager.removeItem(atPath: path) } }
            try? manager.removeItem(atPath: configuration)
        }
        try? manager.removeItem(atPath: kubeconfig)
    }
}

/// The engine against the playground's API server, as `run` would drive it.
final class PlaygroundEngine: Sendable {
    let engine: ProvisionerEngine
    let task: Task<Void, Never>
    /// Fired when `run()` returns: nil when it returned normally, else its error.
    let ended = OneShot<(any Error)?>()

    init(engine: ProvisionerEngine) {
        self.engine = engine
        let ended = self.ended
        task = Task {
            do {
                try await engine.run()
                ended.fire(nil)
            } catch {
                ended.fire(error)
            }
        }
    }

    static func start(kubeconfig: String, members: [MemberConfiguration], rateLimit: RateLimit) async throws -> PlaygroundEngine {
        var clientConfiguration = try Kubeconfig.load(paths: [kubeconfig])
        clientConfiguration.rateLimit = rateLimit
        clientConfiguration.userAgent = "nfs-cluster-provisioner/\(EngineInfo.version) (playground)"
        let logger = Logger(label: "nfs-cluster-provisioner")
        let transport = try AsyncHTTPClientTransport(configuration: clientConfiguration)
        let configuration = ProvisionerConfiguration(provisionerName: PlaygroundCommand.provisionerName,
                                                     ring: RingConfiguration(virtualNodesPerMember: 255, hash: .xxh3),
                                                     members: members, source: "playground")
        var options = ProvisionerEngine.Options(engine: EngineConfiguration(provisionerName: PlaygroundCommand.provisionerName))
        options.storeFactory = MemberRegistry.standardFactory(requireMountPoints: false)
        options.engine.minFreeBytes = 0
        options.leaderElection = LeaderElectionConfiguration(
            identity: "playground-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))",
            leaseName: ProvisionerName.leaseName(for: PlaygroundCommand.provisionerName), namespace: "default",
            leaseDuration: .seconds(15), renewDeadline: .seconds(10), retryPeriod: .seconds(2))
        let engine = try await ProvisionerEngine.make(configuration: configuration, api: clientConfiguration, transport: transport,
                                                      options: options, logger: logger)
        return PlaygroundEngine(engine: engine)
    }

    /// Waits until the engine leads with its caches synced (nil), a signal comes (nil), or
    /// the engine stops (its error).
    func waitUntilReady(orSignal signals: PlaygroundSignals) async -> (any Error)? {
        await firstOf(signals) {
            while !Task.isCancelled {
                if await self.engine.leadership == .leader, await self.engine.readiness().ready { return }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Waits for a signal (nil), or for the engine to stop (its error).
    func waitForEnd(orSignal signals: PlaygroundSignals) async -> (any Error)? {
        await firstOf(signals) { await signals.wait() }
    }

    /// Runs `work`, a wait for `signals` and a wait for the engine's end side by side; the
    /// first to finish decides.
    func firstOf(_ signals: PlaygroundSignals, _ work: @escaping @Sendable () async -> Void) async -> (any Error)? {
        await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask { await work(); return nil }
            group.addTask { await signals.wait(); return nil }
            group.addTask {
                guard let outcome = await self.ended.wait() else { return nil }  // cancelled
                return outcome ?? PlaygroundError.engineStopped("it ended by itself")
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Stops taking work, finishes what is in flight, releases the lease.
    func stop() async {
        engine.beginShutdown()
        await task.value
        try? await engine.client.shutdown()
    }
}

/// SIGINT and SIGTERM, caught: the first is waited for, a later one (during cleanup) ends
/// the process at once with 128 + its number.
///
/// `@unchecked Sendable`: `sources` is set once in `init` and never changed (dispatch
/// sources are thread-safe); the rest is `Sendable`.
final class PlaygroundSignals: @unchecked Sendable {
    let first: OneShot<Int32>
    let exitOnNextGate: OneShot<Void>
    let sources: [any DispatchSourceSignal]

    init() {
        let first = OneShot<Int32>()
        let exitsOnNext = OneShot<Void>()
        self.first = first
        self.exitOnNextGate = exitsOnNext
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if exitsOnNext.hasFired {
                    FileHandle.standardError.write(Data("nfs-cluster-provisioner: playground interrupted again by signal \(number); exiting without cleaning up\n".utf8))
                    Foundation.exit(128 + number)
                }
                first.fire(number)
            }
            source.resume()
            return source
        }
    }

    var received: Int32? { first.value }

    /// Returns once a signal has come (at once if one already has), or when cancelled.
    func wait() async { _ = await first.wait() }

    /// From now on a signal ends the process without cleaning up.
    func exitOnNext() { exitOnNextGate.fire(()) }
}

/// A value set once, waited for by any number of tasks; a cancelled wait returns nil.
final class OneShot<Value: Sendable>: Sendable {
    struct State {
        var value: Value?
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
    }

    let state = Mutex(State())

    var value: Value? { state.withLock { $0.value } }
    var hasFired: Bool { value != nil }

    /// Sets the value (the first call wins) and wakes every waiter.
    func fire(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value?, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    func wait() async -> Value? {
        let id = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Value?? in
                    if let value = state.value { return .some(value) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}
