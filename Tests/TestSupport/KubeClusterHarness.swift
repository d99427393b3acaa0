// A LocalCluster plus a real KubeClient (async-http-client transport, loaded from the
// cluster's generated kubeconfig) for the client's integration tests. Each test gets its
// own cluster on a random port; `withKubeCluster` shuts both down whatever happens.
import Engine
package import KubeRuntime
import VolumeStorage
package import LocalCluster
import Foundation
import Logging

/// A running LocalCluster and a client connected to it.
package struct KubeClusterHarness: Sendable {
    package let cluster: LocalCluster
    package let client: KubeClient
    /// The client's virtual clock: backoff and rate-limit waits return at once and are
    /// recorded; token refresh intervals pass only when a test advances it.
    package let clock: KubeManualClock
    /// Where the kubeconfig (and token file, if any) live.
    package let directory: TempDirectory
    package let kubeconfigPath: String
}

/// How the harness sets the client up.
package struct KubeHarnessOptions: Sendable {
    /// Write the token to a file and use `tokenFile` (re-read) instead of `token`.
    package var tokenInFile: String?
    /// Client retry policy.
    package var retry: RetryPolicy = .default
    /// Client rate limit; unlimited by default so tests are not paced.
    package var rateLimit: RateLimit = .unlimited
    /// Called before each request leaves the client (to change the cluster between requests).
    package var beforeRequest: (@Sendable (TransportRequest, LocalCluster) async -> Void)?

    package init(tokenInFile: String? = nil, retry: RetryPolicy = .default, rateLimit: RateLimit = .unlimited,
                beforeRequest: (@Sendable (TransportRequest, LocalCluster) async -> Void)? = nil) {
        self.tokenInFile = tokenInFile
        self.retry = retry
        self.rateLimit = rateLimit
        self.beforeRequest = beforeRequest
    }
}

/// Starts a LocalCluster configured by `configure`, connects a client through a kubeconfig
/// written to a temporary directory, runs `body`, and shuts everything down.
package func withKubeCluster<T: Sendable>(
    options: KubeHarnessOptions = KubeHarnessOptions(),
    configure: (inout LocalClusterConfiguration) -> Void = { _ in },
    _ body: (KubeClusterHarness) async throws -> T
) async throws -> T {
    var configuration = LocalClusterConfiguration.default
    configuration.logger = Logger(label: "LocalCluster", factory: { _ in SwiftLogNoOpLogHandler() })
    configure(&configuration)
    let cluster = try await LocalCluster.start(configuration)
    let directory = try TempDirectory(prefix: "kube-test")
    var yaml = cluster.kubeconfigYAML(namespace: "default")
    if let token = options.tokenInFile {
        try directory.write("token", token + "\n")
        yaml = yaml.replacingOccurrences(of: "  user:\n    {}\n", with: "  user:\n    tokenFile: token\n")
    }
    let kubeconfigPath = try directory.write("kubeconfig", yaml)
    var clientConfiguration: KubeClientConfiguration
    do {
        clientConfiguration = try Kubeconfig.load(paths: [kubeconfigPath])
    } catch {
        await cluster.shutdown()
        throw error
    }
    clientConfiguration.retry = options.retry
    clientConfiguration.rateLimit = options.rateLimit
    let transport: any HTTPTransport
    do {
        let network = try AsyncHTTPClientTransport(configuration: clientConfiguration)
        if let hook = options.beforeRequest {
            transport = KubeHookTransport(base: network) { request in await hook(request, cluster) }
        } else {
            transport = network
        }
    } catch {
        await cluster.shutdown()
        throw error
    }
    let clock = KubeManualClock()
    let client = KubeClient(configuration: clientConfiguration, transport: transport, clock: clock,
                            jitter: .constant(0.5), logger: Logger(label: "test.kube"))
    let harness = KubeClusterHarness(cluster: cluster, client: client, clock: clock, directory: directory,
                                     kubeconfigPath: kubeconfigPath)
    do {
        let result = try await body(harness)
        try? await client.shutdown()
        await cluster.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        await cluster.shutdown()
        throw error
    }
}

extension LocalCluster {
    /// The requests served so far as `verb rv=<resourceVersion>` lines (list/watch only),
    /// for asserting how a watcher listed and watched.
    package var listWatchLog: [String] {
        requestLog.compactMap { record -> String? in
            guard let verb = record.verb, verb == .list || verb == .watch else { return nil }
            var query: [String: String] = [:]
            for pair in record.query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                query[parts[0]] = parts.count > 1 ? (parts[1].removingPercentEncoding ?? parts[1]) : ""
            }
            return "\(verb.rawValue) rv=\(query["resourceVersion"] ?? "-")"
        }
    }
}

/// Runs a hook before passing each request to another transport.
package final class KubeHookTransport: HTTPTransport {
    private let base: any HTTPTransport
    private let hook: @Sendable (TransportRequest) async -> Void

    package init(base: any HTTPTransport, hook: @escaping @Sendable (TransportRequest) async -> Void) {
        self.base = base
        self.hook = hook
    }

    package func send(_ request: TransportRequest) async throws -> TransportResponse {
        await hook(request)
        return try await base.send(request)
    }

    package func shutdown() async throws {
        try await base.shutdown()
    }
}
