// LocalCluster: an in-process Kubernetes API server with the PV binder, for tests and `demo`.
//
// See LocalCluster.docc/LocalCluster.md for what is emulated and what is not.

import Logging
import Synchronization

/// Why a cluster could not start.
public enum LocalClusterError: Error, Sendable, CustomStringConvertible {
    /// The listening socket could not be bound.
    case bindFailed(host: String, port: Int, reason: String)
    /// The TLS certificate or key could not be loaded.
    case tlsSetupFailed(reason: String)

    public var description: String {
        switch self {
        case .bindFailed(let host, let port, let reason): "LocalCluster: cannot listen on \(host):\(port): \(reason)"
        case .tlsSetupFailed(let reason): "LocalCluster: TLS setup failed: \(reason)"
        }
    }
}

/// An in-process Kubernetes API server on 127.0.0.1 serving PVCs, PVs, StorageClasses, Leases
/// and Events over real HTTP/JSON, with kube-controller-manager's PV binder and the pv/pvc
/// protection controllers running against it.
///
/// ```swift
/// let cluster = try await LocalCluster.start()
/// let kubeconfig = cluster.kubeconfigYAML()
/// _ = try cluster.create(["apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
///                         "metadata": ["name": "nfs"], "provisioner": "example.com/nfs"])
/// // ... run the client under test against `kubeconfig` ...
/// await cluster.shutdown()
/// ```
///
/// Objects written through the direct API below go through the same decoding, validation,
/// revision counter and watch fan-out as HTTP requests.
public final class LocalCluster: Sendable {
    public let configuration: LocalClusterConfiguration
    /// The port it listens on.
    public let port: Int

    let store: ObjectStore
    let registry: Registry
    let handler: APIHandler
    let server: HTTPServer
    let controller: PVController
    let tasks = Mutex<[Task<Void, Never>]>([])

    /// `http://127.0.0.1:PORT` (or `https://` with TLS).
    public var baseURL: String {
        let scheme = configuration.tls == nil ? "http" : "https"
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "\(scheme)://\(host):\(port)"
    }

    private init(configuration: LocalClusterConfiguration, store: ObjectStore, registry: Registry,
                 handler: APIHandler, server: HTTPServer, controller: PVController)
    {
        self.configuration = configuration
        self.port = server.port
        self.store = store
        self.registry = registry
        self.handler = handler
        self.server = server
        self.controller = controller
    }

    /// Binds the port and starts serving (and the controllers, unless disabled).
    public static func start(_ configuration: LocalClusterConfiguration = .default) async throws(LocalClusterError) -> LocalCluster {
        let store = ObjectStore(historyLimit: configuration.historyLimit)
        let registry = Registry(store: store, clock: configuration.clock,
                                addsProtectionFinalizers: configuration.addsProtectionFinalizers,
                                tooLargeResourceVersionWait: configuration.tooLargeResourceVersionWait,
                                seed: configuration.seed)
        let faults = FaultInjector(seed: configuration.seed, logLimit: configuration.requestLogLimit)
        let handler = APIHandler(registry: registry, faults: faults, configuration: configuration)
        let server: HTTPServer
        do {
            server = try await HTTPServer.bind(configuration: configuration, handler: handler)
        } catch let error as LocalClusterError {
            throw error
        } catch {
            if configuration.tls != nil, "\(error)".contains("SSL") || "\(error)".contains("file") {
                throw .tlsSetupFailed(reason: "\(error)")
            }
            throw .bindFailed(host: configuration.host, port: configuration.port, reason: "\(error)")
        }
        handler.serverAddress.withLock { $0 = "\(configuration.host):\(server.port)" }
        let controller = PVController(registry: registry, resyncPeriod: configuration.controllerResyncPeriod,
                                      logger: configuration.logger)
        let cluster = LocalCluster(configuration: configuration, store: store, registry: registry, handler: handler,
                                   server: server, controller: controller)
        // Owned tasks, awaited by shutdown(): the server first, then the controllers.
        var tasks = [Task { await server.run() }]
        if configuration.runsControllers {
            tasks.append(Task { await controller.run() })
        }
        cluster.tasks.withLock { $0 = tasks }
        return cluster
    }

    /// Stops serving: open watches end, connections close, the controllers stop.
    public func shutdown() async {
        let tasks = self.tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        store.finishAll()
        // The accept loop ends by itself once the listener and the connections are closed
        // (see HTTPServer.run); only the controllers are cancelled.
        await server.close()
        for task in tasks.dropFirst() { task.cancel() }
        for task in tasks { await task.value }
    }

    /// Replaces the accepted bearer tokens (nil = no authentication). Requests with a token
    /// no longer in the set get 401 from now on (token rotation).
    public func setAcceptedTokens(_ tokens: Set<String>?) {
        handler.acceptedTokens.withLock { $0 = tokens }
    }

    /// A kubeconfig pointing at this cluster (context `localcluster`, namespace `namespace`),
    /// with a bearer token if given and the TLS CA file if configured. `server` replaces
    /// ``baseURL`` (for a cluster listening on all interfaces, which clients reach at a
    /// concrete address).
    public func kubeconfigYAML(token: String? = nil, namespace: String = "default", server: String? = nil) -> String {
        func quoted(_ text: String) -> String { JSONValue.string(text).encodedString() }
        var cluster = "    server: \(quoted(server ?? baseURL))\n"
        if let ca = configuration.tls?.certificateAuthorityPath {
            cluster += "    certificate-authority: \(quoted(ca))\n"
        }
        let user = token.map { "    token: \(quoted($0))\n" } ?? "    {}\n"
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: localcluster
              cluster:
            \(cluster)contexts:
            - name: localcluster
              context:
                cluster: localcluster
                user: localcluster
                namespace: \(quoted(namespace))
            current-context: localcluster
            users:
            - name: localcluster
              user:
            \(user)preferences: {}

            """
    }
}
