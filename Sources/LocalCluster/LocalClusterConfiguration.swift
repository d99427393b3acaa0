// Configuration of a LocalCluster, with the defaults and why.

public import Logging

/// How a `LocalCluster` listens, authenticates and behaves. Defaults follow the real
/// apiserver and kube-controller-manager where that makes sense for a test server.
public struct LocalClusterConfiguration: Sendable {
    /// HTTPS from PEM files (tests can make them with the `openssl` CLI).
    public struct TLS: Sendable {
        /// PEM certificate chain the server presents (its SAN must cover the host, e.g. IP 127.0.0.1).
        public var certificateChainPath: String
        /// PEM private key of that certificate.
        public var privateKeyPath: String
        /// PEM CA that signed it; written into `kubeconfigYAML` as `certificate-authority`.
        public var certificateAuthorityPath: String?

        public init(certificateChainPath: String, privateKeyPath: String, certificateAuthorityPath: String? = nil) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
            self.certificateAuthorityPath = certificateAuthorityPath
        }
    }

    /// When watches with `allowWatchBookmarks=true` get BOOKMARK events.
    public enum Bookmarks: Sendable {
        /// Never (clients must not assume any bookmark: AM types.go:378-386).
        case never
        /// At irregular times: each gap drawn uniformly from the range.
        case every(ClosedRange<Duration>)
    }

    /// The version `/version` reports.
    public struct Version: Sendable {
        public var major: String
        public var minor: String
        public var gitVersion: String

        public init(major: String, minor: String, gitVersion: String) {
            self.major = major
            self.minor = minor
            self.gitVersion = gitVersion
        }
    }

    /// Address to listen on. Default `127.0.0.1` (loopback only).
    public var host = "127.0.0.1"
    /// Port; 0 (default) picks a free port, read it back from `LocalCluster.port`.
    public var port = 0
    /// Bearer tokens accepted; nil (default) = no authentication. Others get 401 with a Status.
    public var acceptedTokens: Set<String>?
    /// Serve HTTPS; nil (default) = plain HTTP.
    public var tls: TLS?
    /// Events kept for watches and exact lists; older revisions get 410 Expired. Default
    /// 10 000 (etcd keeps ~5 min of history; the watch cache at least 75 s).
    public var historyLimit = 10_000
    /// Timeout of a watch without `timeoutSeconds`: random in this range. Default 1800-3600 s,
    /// the apiserver's `--min-request-timeout` × [1, 2) (AS endpoints/handlers/get.go).
    public var defaultWatchTimeout: ClosedRange<Duration> = .seconds(1800)...(.seconds(3600))
    /// Bookmark cadence. Default every 30-60 s (the real server: about a minute).
    public var bookmarks = Bookmarks.every(.seconds(30)...(.seconds(60)))
    /// Events buffered per watcher; a watcher that falls this far behind has its stream
    /// closed, as the apiserver closes unresponsive watchers. Default 1000.
    public var watchBufferSize = 1000
    /// How long a read for a resourceVersion the store has not reached waits before 504
    /// ResourceVersionTooLarge. Default 3 s (AS storage/cacher/watch_cache.go blockTimeout).
    public var tooLargeResourceVersionWait: Duration = .seconds(3)
    /// Run the PV binder and the pvc/pv-protection controllers. Default true.
    public var runsControllers = true
    /// Controllers' periodic resync. Default 15 s (kube-controller-manager PVClaimBinderSyncPeriod).
    public var controllerResyncPeriod: Duration = .seconds(15)
    /// Add `kubernetes.io/pvc-protection` / `pv-protection` on create (the
    /// StorageObjectInUseProtection admission plugin). Default true.
    public var addsProtectionFinalizers = true
    /// Seed of the generator behind fault probabilities, generated names and bookmark jitter.
    public var seed: UInt64 = 0x4C6F_6361_6C43_6C75
    /// Requests kept in the request log. Default 10 000.
    public var requestLogLimit = 10_000
    /// Largest request body accepted (413 above). Default 3 MiB, etcd's object limit.
    public var maxRequestBodyBytes = 3 * 1024 * 1024
    /// What `/version` reports.
    public var version = Version(major: "1", minor: "33", gitVersion: "v1.33.0-localcluster")
    public var logger = Logger(label: "LocalCluster")
    /// The wall clock for timestamps (creationTimestamp, deletionTimestamp, events).
    public var clock: WallClock = { Timestamp.now() }

    public init() {}

    /// All defaults.
    public static var `default`: LocalClusterConfiguration { LocalClusterConfiguration() }
}
