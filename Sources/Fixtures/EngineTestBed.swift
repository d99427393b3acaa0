// A LocalCluster, a real client, temporary directories as NFS exports, and engines built
// the way the daemon builds them: the bed for the engine's end-to-end tests.
package import Engine
package import KubeRuntime
package import VolumeStorage
package import LocalCluster
package import RingCore
import Foundation
import Synchronization
package import Logging
import Metrics

/// One test's world. Several engines can run against it (leader election, crash and
/// restart); each ``EngineRun`` is stopped or crashed by the test.
package final class EngineTestBed: Sendable {
    package let cluster: LocalCluster
    /// The test's own client (a user's kubectl: real clock, no rate limit). Each engine has
    /// its own, built on the engine's clock from ``clientConfiguration``.
    package let client: KubeClient
    package let clientConfiguration: KubeClientConfiguration
    package let root: TempDirectory
    package let provisionerName = "example.com/nfs"
    package let logger: Logger
    private let runs = Mutex<[EngineRun]>([])
    private let transports = Mutex<[AsyncHTTPClientTransport]>([])

    private init(cluster: LocalCluster, client: KubeClient, clientConfiguration: KubeClientConfiguration, root: TempDirectory, logger: Logger) {
        self.cluster = cluster
        self.client = client
        self.clientConfiguration = clientConfiguration
        self.root = root
        self.logger = logger
    }

    /// Starts a cluster (binder resync 1 s so binding is quick) and the test's client.
    package static func start(configure: (inout LocalClusterConfiguration) -> Void = { _ in }) async throws -> EngineTestBed {
        var configuration = LocalClusterConfiguration.default
        configuration.logger = Logger(label: "LocalCluster", factory: { _ in SwiftLogNoOpLogHandler() })
        configuration.controllerResyncPeriod = .seconds(1)
        configure(&configuration)
        let cluster = try await LocalCluster.start(configuration)
        let root = try TempDirectory(prefix: "ncp-engine")
        let kubeconfig = try root.writeFile("kubeconfig", cluster.kubeconfigYAML(namespace: "default"))
        var clientConfiguration = try Kubeconfig.load(paths: [kubeconfig])
        clientConfiguration.rateLimit = .unlimited
        let transport = try AsyncHTTPClientTransport(configuration: clientConfiguration)
        let logger = testLogger("engine")
        let client = KubeClient(configuration: clientConfiguration, transport: transport, logger: logger)
        let bed = EngineTestBed(cluster: cluster, client: client, clientConfiguration: clientConfiguration, root: root, logger: logger)
        registry?.add(bed)
        return bed
    }

    /// The beds started in the current scope, shut down (awaited) when it ends: a test
    /// trait sets it, so that no bed's servers outlive its test.
    @TaskLocal package static var registry: EngineTestBedRegistry?

    /// Crashes the engines still running (a test that stopped its engines has nothing left
    /// here), shuts every client down, then the cluster.
    package func shutdown() async {
        for run in runs.withLock({ $0 }) { await run.crash() }
        for transport in transports.withLock({ $0 }) { try? await transport.shutdown() }
        try? await client.shutdown()
        await cluster.shutdown()
    }

    /// The export directory of a member (created on first use).
    package func export(_ member: String) -> String {
        let path = root.child("exports/\(member)")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A configuration whose members are temporary directories.
    package func configuration(members: [String], hash: RingHash = .xxh3, weights: [String: Int] = [:],
                              draining: Set<String> = []) -> ProvisionerConfiguration {
        ProvisionerConfiguration(
            provisionerName: provisionerName, ring: RingConfiguration(virtualNodesPerMember: 255, hash: hash),
            members: members.map { m in
                MemberConfiguration(name: m, address: "nfs-\(m).example.com", export: "/exports/\(m)", mountPath: export(m),
                                    weight: weights[m] ?? 1, state: draining.contains(m) ? .draining : .active)
            },
            source: "test")
    }

    /// A configuration of the given members, e.g. `mode: direct` members on nfs-ganesha
    /// servers (``GaneshaServer/memberConfiguration(name:export:weight:state:)``).
    package func configuration(_ members: [MemberConfiguration], hash: RingHash = .xxh3) -> ProvisionerConfiguration {
        ProvisionerConfiguration(
            provisionerName: provisionerName, ring: RingConfiguration(virtualNodesPerMember: 255, hash: hash),
            members: members, source: "test")
    }

    /// Builds and starts an engine (no leader election unless `configure` sets it).
    package func startEngine(_ configuration: ProvisionerConfiguration,
                            configure: (inout ProvisionerEngine.Options) -> Void = { _ in },
                            metrics: EngineMetrics = EngineMetrics(factory: NOOPMetricsHandler.instance)) throws -> EngineRun {
        var options = ProvisionerEngine.Options(engine: EngineConfiguration(provisionerName: provisionerName))
        options.storeFactory = MemberRegistry.standardFactory(requireMountPoints: false)
        options.engine.minFreeBytes = 0
        options.engine.backoff = ExponentialBackoff(base: .milliseconds(100), maximum: .seconds(2))
        options.engine.volumeCreateRetryDelay = .milliseconds(50)
        options.engine.waitForMemberInterval = .milliseconds(500)
        options.storage = MemberStorage.Configuration(operationTimeout: .seconds(2), probeTimeout: .seconds(1))
        configure(&options)
        let transport = try AsyncHTTPClientTransport(configuration: clientConfiguration)
        transports.withLock { $0.append(transport) }  // shut down with the bed, even if the engine is refused
        let engine = try ProvisionerEngine(configuration: configuration, api: clientConfiguration, transport: transport,
                                           options: options, metrics: metrics, logger: logger)
        let run = EngineRun(engine: engine)
        runs.withLock { $0.append(run) }
        return run
    }

    // MARK: - Objects

    package func createClass(_ name: String, parameters: [String: String] = [:], reclaimPolicy: String = "Delete",
                            bindingMode: String = "Immediate", provisioner: String? = nil) async throws {
        _ = try await client.create(StorageClass(
            metadata: ObjectMeta(name: name), provisioner: provisioner ?? provisionerName, parameters: parameters,
            reclaimPolicy: reclaimPolicy, volumeBindingMode: bindingMode))
    }

    /// Creates a claim; returns its uid.
    @discardableResult
    package func createClaim(_ namespace: String, _ name: String, className: String, size: String = "1Gi",
                            labels: [String: String] = [:], annotations: [String: String] = [:],
                            accessModes: [String] = ["ReadWriteMany"]) async throws -> String {
        let claim = try await client.create(PersistentVolumeClaim(
            metadata: ObjectMeta(name: name, namespace: namespace, labels: labels, annotations: annotations),
            spec: .init(accessModes: accessModes, resources: .init(requests: ["storage": Quantity(size)]), storageClassName: className)))
        return claim.metadata.uid
    }

    package func deleteClaim(_ namespace: String, _ name: String) async throws {
        _ = try await client.delete(PersistentVolumeClaim.self, name: name, namespace: namespace)
    }

    package func claim(_ namespace: String, _ name: String) async throws -> PersistentVolumeClaim? {
        do { return try await client.get(PersistentVolumeClaim.self, name: name, namespace: namespace) } catch let e as KubeError where e.isNotFound { return nil }
    }

    package func volume(_ name: String) async throws -> PersistentVolume? {
        do { return try await client.get(PersistentVolume.self, name: name) } catch let e as KubeError where e.isNotFound { return nil }
    }

    /// Events about an object (by name), newest last.
    package func events(about name: String, namespace: String = "default") async throws -> [Event] {
        try await client.list(Event.self, namespace: namespace).items.filter { $0.involvedObject.name == name }
    }

    /// Waits (polling the API, 20 ms apart) until `condition` holds; fails after `timeout`.
    package func waitUntil(_ what: String, timeout: Duration = .seconds(30),
                          _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestBedTimeout(what: what)
    }

    /// Waits until the claim is Bound and returns its PV.
    @discardableResult
    package func waitForBound(_ namespace: String, _ name: String, timeout: Duration = .seconds(30)) async throws -> PersistentVolume {
        try await waitUntil("claim \(namespace)/\(name) Bound", timeout: timeout) {
            try await self.claim(namespace, name)?.status?.phase == "Bound"
        }
        guard let volumeName = try await claim(namespace, name)?.spec?.volumeName, let pv = try await volume(volumeName) else {
            throw TestBedTimeout(what: "PV of bound claim \(namespace)/\(name)")
        }
        return pv
    }

    /// Directories (relative to the export) that an ownership record names, per member.
    package func volumeDirectories(_ member: String) -> [String] {
        Self.volumeDirectories(under: export(member))
    }

    /// The volume directories under `base` (an export's local directory, e.g. a ganesha
    /// server's) that an ownership record names, relative to `base`, sorted.
    package static func volumeDirectories(under base: String) -> [String] {
        records(under: base).filter { $0.kind == .volume }.map(\.path.description).sorted()
    }

    /// The ownership records in the reserved area under `base`.
    package static func records(under base: String) -> [OwnershipRecord] {
        let directory = base + "/" + ReservedNames.volumesDirectory.description
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(OwnershipRecord.fileSuffix) }.compactMap { name in
            (try? Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))).flatMap { try? OwnershipRecord.decode(Array($0)) }
        }
    }

    /// The ownership record of `directory` on `member`, read from its export.
    package func ownershipRecord(_ member: String, _ directory: String) -> OwnershipRecord? {
        Self.records(under: export(member)).first { $0.path.description == directory }
    }

    /// Waits until the record of `directory` on `member` is bound to the claim `claimUID`
    /// (or to any claim when nil). The engine marks it bound just after saving the PV, so a
    /// claim can be Bound a moment before.
    package func waitForRecordBound(_ member: String, _ directory: String, claimUID: String? = nil) async throws {
        try await waitUntil("record of \(member):\(directory) bound") {
            guard let record = ownershipRecord(member, directory), record.state == .bound else { return false }
            return claimUID == nil || record.claimUID == claimUID
        }
    }
}

/// An engine running in a task.
package final class EngineRun: Sendable {
    package let engine: ProvisionerEngine
    package let task: Task<Void, any Error>

    init(engine: ProvisionerEngine) {
        self.engine = engine
        task = Task { try await engine.run() }
    }

    /// Graceful stop: in-flight work finishes, the lease (if any) is released; then the
    /// engine's client is shut down.
    package func stop() async throws {
        engine.beginShutdown()
        let ending = await task.result
        try? await engine.client.shutdown()
        try ending.get()
    }

    /// A crash: the task is cancelled wherever it is; nothing is cleaned up on purpose (the
    /// lease stays held, records stay as they were). The engine's client is shut down after,
    /// as a dead process's connections would be closed.
    package func crash() async {
        task.cancel()
        _ = try? await task.value
        try? await engine.client.shutdown()
    }
}

package struct TestBedTimeout: Error, CustomStringConvertible {
    package var what: String
    package var description: String { "timed out waiting for \(what)" }
}

/// A logger for tests: silent unless NCP_TEST_LOG is set (to a level).
package func testLogger(_ label: String) -> Logger {
    if let level = ProcessInfo.processInfo.environment["NCP_TEST_LOG"], let parsed = Logger.Level(rawValue: level) {
        var logger = Logger(label: label)
        logger.logLevel = parsed
        return logger
    }
    return Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() })
}

/// Collects the beds started in one test, to shut them all down (awaited) at its end.
package final class EngineTestBedRegistry: Sendable {
    private let beds = Mutex<[EngineTestBed]>([])

    package init() {}

    func add(_ bed: EngineTestBed) { beds.withLock { $0.append(bed) } }

    /// Shuts down every bed started in the scope, in reverse order.
    package func shutdownAll() async {
        let all = beds.withLock { current in
            defer { current = [] }
            return current
        }
        for bed in all.reversed() { await bed.shutdown() }
    }
}
