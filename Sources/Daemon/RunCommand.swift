import ArgumentParser
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `nfs-cluster-provisioner run`: the provisioner daemon (the default command).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the provisioner (the default command).",
        discussion: """
            Configuration from --config FILE, or from the original provisioner's environment: PROVISIONER_NAME, \
            NFS_SERVER and NFS_PATH (colon-separated, same order), LOG. In-cluster credentials unless --kubeconfig. \
            SIGTERM/SIGINT: stop taking work, finish what is in flight, release the leader lease, exit 0.
            """)

    @OptionGroup var source: ConfigurationOptions
    @OptionGroup var log: LogOptions

    @Option(help: "kubeconfig file (default: $KUBECONFIG, in-cluster, then ~/.kube/config).")
    var kubeconfig: String?
    @Option(help: "kubeconfig context (default: its current-context).")
    var context: String?

    @Flag(inversion: .prefixedNo, help: "Leader election on a Lease, so only one replica works at a time.")
    var leaderElect = true
    @Option(help: "Namespace of the leader-election Lease (default: $POD_NAMESPACE, the service account's namespace, then default).")
    var leaderElectionNamespace: String?
    @Option(help: "Seconds a lease lasts without renewal.")
    var leaseDuration: Double = 15
    @Option(help: "Seconds the leader keeps trying to renew before stepping down.")
    var renewDeadline: Double = 10
    @Option(help: "Seconds between election attempts.")
    var retryPeriod: Double = 2

    @Option(help: "Address of /metrics, /healthz and /readyz ([host]:port; :port for all interfaces).")
    var httpAddress: String = ":8080"
    @Option(help: "Seconds an HTTP connection may wait for a whole request (after it opens or after a response), or take to read a response.")
    var httpIdleTimeout: Double = 10
    @Option(help: "HTTP connections open at once; one more closes the longest idle.")
    var httpMaxConnections: Int = 64

    @Option(help: "Claim workers (concurrent provisioning).")
    var claimWorkers: Int = 4
    @Option(help: "Volume workers (concurrent reclaiming).")
    var volumeWorkers: Int = 4
    @Option(help: "Seconds between full resyncs of every claim and volume.")
    var resyncPeriod: Double = 600
    @Option(help: "Members with less free space take no new claims (a quantity: 1Gi, 500Mi, 0).")
    var minFree: String = "1Gi"
    @Option(help: "Seconds before a filesystem call on a member times out (the member then turns unhealthy).")
    var storageTimeout: Double = 10
    @Option(help: "Seconds between checks of the configuration file for changes.")
    var configReloadInterval: Double = 10
    @Option(help: "Seconds in-flight work may take after SIGTERM before it is cancelled.")
    var shutdownTimeout: Double = 30
    @Option(help: "Kubernetes API requests per second, sustained (client-go's and external-provisioner's default; 0: no client-side limit). A new volume costs about 3 (its PV and two events).")
    var kubeApiQps: Double = 5
    @Option(help: "Kubernetes API requests allowed at once above --kube-api-qps.")
    var kubeApiBurst: Int = 10

    func run() async throws {
        // Everything that can be wrong with the input is checked before anything starts.
        let environment = ProcessInfo.processInfo.environment
        let configuration = try source.load(environment: environment)
        for (name, value) in [("--lease-duration", leaseDuration), ("--renew-deadline", renewDeadline), ("--retry-period", retryPeriod),
                              ("--resync-period", resyncPeriod), ("--storage-timeout", storageTimeout),
                              ("--config-reload-interval", configReloadInterval), ("--shutdown-timeout", shutdownTimeout),
                              ("--http-idle-timeout", httpIdleTimeout)] {
            try Self.checkSeconds(value, flag: name)
        }
        guard (1...Self.maximumHTTPConnections).contains(httpMaxConnections) else {
            throw UsageError("--http-max-connections must be between 1 and \(Self.maximumHTTPConnections), got \(httpMaxConnections)")
        }
        guard claimWorkers >= 1 else { throw UsageError("--claim-workers must be at least 1") }
        guard volumeWorkers >= 0 else { throw UsageError("--volume-workers must not be negative") }
        let minFreeBytes: UInt64
        do {
            let value = try Quantity(minFree).value()
            guard value >= 0 else { throw UsageError("--min-free must not be negative") }
            minFreeBytes = UInt64(clamping: Int64(truncating: NSDecimalNumber(decimal: value)))
        } catch let error as UsageError { throw error } catch {
            throw UsageError("--min-free \"\(minFree)\" is not a quantity (e.g. 1Gi, 500Mi, 0): \(error)")
        }
        guard let (host, port) = HTTPEndpointService.parseAddress(httpAddress) else {
            throw UsageError("--http-address \"\(httpAddress)\" is not [host]:port (e.g. :8080, 127.0.0.1:9090, [::1]:8080)")
        }
        if leaderElect {
            // Timing rules checked before anything else (the identity is filled in later).
            do {
                try LeaderElectionConfiguration(identity: "check", leaseName: "check", namespace: "check",
                                                leaseDuration: .seconds(leaseDuration), renewDeadline: .seconds(renewDeadline),
                                                retryPeriod: .seconds(retryPeriod)).validate()
            } catch { throw UsageError("\(error) (--lease-duration, --renew-deadline, --retry-period)") }
        }
        let rateLimit = try Self.rateLimit(qps: kubeApiQps, burst: kubeApiBurst)
        var clientConfiguration: KubeClientConfiguration
        do {
            clientConfiguration = try KubeClientConfiguration.resolve(kubeconfig: kubeconfig, context: context, environment: environment)
        } catch {
            throw UsageError("\(error)")
        }
        clientConfiguration.rateLimit = rateLimit
        clientConfiguration.userAgent = "nfs-cluster-provisioner/\(EngineInfo.version)"

        try log.bootstrap(verbose: configuration.verbose)
        let logger = Logger(label: "nfs-cluster-provisioner")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let identity = Self.identity(environment: environment)
        let namespace = leaderElectionNamespace ?? Self.namespace(environment: environment, configuration: clientConfiguration)
        var options = ProvisionerEngine.Options(engine: EngineConfiguration(provisionerName: configuration.provisionerName))
        options.engine.claimWorkers = claimWorkers
        options.engine.volumeWorkers = volumeWorkers
        options.engine.resyncPeriod = .seconds(resyncPeriod)
        options.engine.minFreeBytes = minFreeBytes
        options.storage = MemberStorage.Configuration(operationTimeout: .seconds(storageTimeout), probeTimeout: .seconds(max(1, storageTimeout / 2)))
        options.storeFactory = MemberRegistry.standardFactory(requireMountPoints: !source.allowUnmountedExports,
                                                              nfsTimeout: .seconds(storageTimeout))
        if leaderElect {
            options.leaderElection = LeaderElectionConfiguration(
                identity: identity, leaseName: ProvisionerName.leaseName(for: configuration.provisionerName), namespace: namespace,
                leaseDuration: .seconds(leaseDuration), renewDeadline: .seconds(renewDeadline), retryPeriod: .seconds(retryPeriod))
        }

        let transport = try AsyncHTTPClientTransport(configuration: clientConfiguration)
        let engine: ProvisionerEngine
        do {
            engine = try await ProvisionerEngine.make(configuration: configuration, api: clientConfiguration, transport: transport,
                                                      options: options, logger: logger)
        } catch {
            throw UsageError("\(configuration.source): \(error)")
        }
        let client = engine.client
        logger.info("starting", metadata: [
            "provisioner": "\(configuration.provisionerName)", "configuration": "\(configuration.source)",
            "ring": "\(configuration.ring)", "members": "\(configuration.members.map(\.name))",
            "server": "\(clientConfiguration.server)", "identity": "\(identity)",
            "apiRateLimit": "\(rateLimit.qps > 0 ? "\(rateLimit.qps) requests/s, burst \(rateLimit.burst)" : "none")",
            "leaderElection": "\(leaderElect ? "\(namespace)/\(ProvisionerName.leaseName(for: configuration.provisionerName))" : "off")",
        ])

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: EngineService(engine: engine), successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: HTTPEndpointService(
                host: host, port: port,
                limits: HTTPConnectionLimits(idleTimeout: .seconds(httpIdleTimeout), maximumConnections: httpMaxConnections),
                metrics: { registry.emitToBuffer() },
                readiness: { let r = await engine.readiness(); return Readiness(ready: r.ready, details: r.details) },
                logger: logger, onBound: { _ in })),
        ]
        if let path = source.config {
            services.append(.init(service: ConfigurationFileWatcher(path: path, interval: .seconds(configReloadInterval), clock: engine.clock.base, logger: logger) { try await engine.reload($0) }))
        }
        var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(shutdownTimeout)
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch {
            try? await client.shutdown()
            logger.critical("stopped with an error", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        try? await client.shutdown()
        logger.info("stopped")
    }

    /// The longest duration a flag may give: one day. Nothing here needs more (the resync
    /// period is minutes), and `Duration` traps on values it cannot hold (`1e300`, `inf`).
    static let maximumSeconds: Double = 86_400
    /// The most HTTP connections `--http-max-connections` may allow.
    static let maximumHTTPConnections = 10_000

    /// A duration flag: finite, positive, at most ``maximumSeconds``.
    static func checkSeconds(_ value: Double, flag: String) throws {
        guard value.isFinite, value > 0, value <= maximumSeconds else {
            throw UsageError("\(flag) must be a positive number of seconds, at most \(Int(maximumSeconds)) (one day), got \(value)")
        }
    }

    /// The client's token bucket from `--kube-api-qps` and `--kube-api-burst`.
    static func rateLimit(qps: Double, burst: Int) throws -> RateLimit {
        guard qps.isFinite, qps >= 0 else {
            throw UsageError("--kube-api-qps must be a number of requests per second, 0 or more (0: no limit), got \(qps)")
        }
        guard burst >= 1 else { throw UsageError("--kube-api-burst must be at least 1, got \(burst)") }
        return qps == 0 ? .unlimited : RateLimit(qps: qps, burst: burst)
    }

    /// A unique identity per process instance: the pod name (or host name) plus a random
    /// suffix, so a restarted replica is never taken for the previous holder.
    static func identity(environment: [String: String]) -> String {
        let base = environment["POD_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "\(base)_\(suffix)"
    }

    /// `$POD_NAMESPACE`, then the client's (service account's) namespace, then `default`.
    static func namespace(environment: [String: String], configuration: KubeClientConfiguration) -> String {
        if let ns = environment["POD_NAMESPACE"], !ns.isEmpty { return ns }
        if !configuration.namespace.isEmpty { return configuration.namespace }
        return "default"
    }
}

/// The engine as a service: graceful shutdown makes it stop taking work, finish, release.
struct EngineService: Service {
    let engine: ProvisionerEngine

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await engine.run()
        } onGracefulShutdown: {
            engine.beginShutdown()
        }
    }
}

extension ProvisionerEngine {
    /// An engine whose client travels over `transport`; if the engine is refused (an
    /// invalid configuration), the transport is shut down before the error is thrown.
    static func make(configuration: ProvisionerConfiguration, api: KubeClientConfiguration, transport: any HTTPTransport,
                     options: Options, logger: Logger) async throws -> ProvisionerEngine {
        do {
            return try ProvisionerEngine(configuration: configuration, api: api, transport: transport, options: options, logger: logger)
        } catch {
            try? await transport.shutdown()
            throw error
        }
    }
}
