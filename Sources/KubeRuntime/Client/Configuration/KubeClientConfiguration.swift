// Everything a `KubeClient` needs to reach and authenticate to an API server. Built
// in-cluster (`InClusterConfiguration.swift`), from a kubeconfig (`Kubeconfig.swift`) or by
// hand (tests, LocalCluster).
import Foundation

/// PEM bytes and where they came from (named in error messages).
package struct PEMData: Sendable, Hashable {
    package var bytes: [UInt8]
    /// e.g. `kubeconfig /home/me/.kube/config: cluster "prod": certificate-authority-data`.
    package var origin: String

    package init(bytes: [UInt8], origin: String) {
        self.bytes = bytes
        self.origin = origin
    }
}

/// TLS settings for an `https` server.
package struct TLSSettings: Sendable, Hashable {
    /// CA bundle to trust instead of the system roots; `nil` uses the system roots.
    package var certificateAuthority: PEMData?
    /// Client certificate chain for mutual TLS (with ``clientKey``).
    package var clientCertificate: PEMData?
    package var clientKey: PEMData?
    /// Skip server certificate verification (kubeconfig `insecure-skip-tls-verify`).
    package var insecureSkipVerify: Bool
    /// Name to verify the server certificate against (and send as SNI) instead of the
    /// host in the server URL (kubeconfig `tls-server-name`).
    package var serverName: String?

    package init(certificateAuthority: PEMData? = nil, clientCertificate: PEMData? = nil,
                clientKey: PEMData? = nil, insecureSkipVerify: Bool = false, serverName: String? = nil) {
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.insecureSkipVerify = insecureSkipVerify
        self.serverName = serverName
    }
}

/// Connection, authentication and behaviour settings of a `KubeClient`.
public struct KubeClientConfiguration: Sendable {
    /// Server URL: scheme, host, port and an optional path prefix (`https://10.0.0.1:443`).
    public var server: ServerURL
    package var tls: TLSSettings
    /// Bearer token, if any (none with client-certificate auth).
    package var bearerToken: BearerToken?
    /// The namespace from the kubeconfig context or the service-account namespace file;
    /// `default` otherwise. Informational: every namespaced call names its namespace.
    public var namespace: String
    /// Client-side token bucket. Default QPS 5 / burst 10 (client-go's defaults).
    public var rateLimit: RateLimit
    /// Automatic retries of failed requests. Default: 5 attempts, 200 ms..10 s backoff.
    package var retry: RetryPolicy
    /// How long to wait for a response head. Default 30 s (client-go has no default; the
    /// server's own request timeout is 60 s, so 30 s catches a dead connection sooner).
    /// A watch's body is not limited by it.
    package var requestTimeout: Duration
    /// How long a token read from a file is used before the file is read again. Default
    /// 60 s (client-go: 1 min minus 10 s leeway).
    package var tokenRefreshInterval: Duration
    /// Largest non-watch response body accepted. Default 256 MiB (a 500-item page of
    /// PersistentVolumes is about 1 MiB; the server caps single objects at 1.5 MiB).
    package var maxResponseBytes: Int
    /// Sent as `User-Agent`. Default `nfs-cluster-provisioner`; the daemon adds its version.
    public var userAgent: String

    /// - Precondition: `requestTimeout`, `tokenRefreshInterval` > 0; `maxResponseBytes` >= 1 KiB.
    package init(
        server: ServerURL, tls: TLSSettings = TLSSettings(), bearerToken: BearerToken? = nil,
        namespace: String = "default", rateLimit: RateLimit = .default, retry: RetryPolicy = .default,
        requestTimeout: Duration = .seconds(30), tokenRefreshInterval: Duration = .seconds(60),
        maxResponseBytes: Int = 256 << 20, userAgent: String = "nfs-cluster-provisioner"
    ) {
        precondition(requestTimeout > .zero, "requestTimeout must be positive")
        precondition(tokenRefreshInterval > .zero, "tokenRefreshInterval must be positive")
        precondition(maxResponseBytes >= 1024, "maxResponseBytes must be at least 1 KiB")
        self.server = server
        self.tls = tls
        self.bearerToken = bearerToken
        self.namespace = namespace
        self.rateLimit = rateLimit
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.tokenRefreshInterval = tokenRefreshInterval
        self.maxResponseBytes = maxResponseBytes
        self.userAgent = userAgent
    }
}

/// A parsed API server URL: `http(s)://host[:port][/prefix]`.
public struct ServerURL: Sendable, Hashable, CustomStringConvertible {
    package var scheme: String
    /// Host name or IP address; IPv6 without brackets.
    package var host: String
    package var port: Int
    /// Path prefix without a trailing `/` (empty for most servers; Rancher-style proxies
    /// use one).
    package var pathPrefix: String

    package init(scheme: String, host: String, port: Int, pathPrefix: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.pathPrefix = pathPrefix
    }

    /// Parses `https://host:port/prefix`; a missing port is 443 for https and 80 for http.
    /// Returns the reason when `text` is not such a URL.
    package static func parse(_ text: String) -> Result<ServerURL, ServerURLError> {
        func fail(_ reason: String) -> Result<ServerURL, ServerURLError> { .failure(ServerURLError(text: text, reason: reason)) }
        guard let schemeEnd = text.range(of: "://") else { return fail("missing scheme (expected https://...)") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else { return fail("scheme must be http or https") }
        var rest = text[schemeEnd.upperBound...]
        var prefix = ""
        if let slash = rest.firstIndex(of: "/") {
            prefix = String(rest[slash...])
            rest = rest[..<slash]
        }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        guard !prefix.contains("?"), !prefix.contains("#") else { return fail("must not have a query or fragment") }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return fail("unterminated IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return fail("junk after IPv6 address") }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { return fail("missing host") }
        guard !host.contains("@") else { return fail("user info in the URL is not supported") }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { return fail("invalid port \"\(portText)\"") }
            port = value
        }
        return .success(ServerURL(scheme: scheme, host: String(host), port: port, pathPrefix: prefix))
    }

    /// `host` with brackets around an IPv6 address, and `:port`.
    package var authority: String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }

    public var description: String { "\(scheme)://\(authority)\(pathPrefix)" }
}

/// A server URL that could not be parsed.
package struct ServerURLError: Error, Sendable, Hashable, CustomStringConvertible {
    package var text: String
    package var reason: String

    package var description: String { "server URL \"\(text)\": \(reason)" }
}
