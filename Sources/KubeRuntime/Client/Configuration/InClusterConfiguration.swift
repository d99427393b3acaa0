// In-cluster configuration (client-go rest/config.go:546-578 `InClusterConfig`):
// the server from KUBERNETES_SERVICE_HOST/_PORT (IPv6 bracketed), the service-account
// token (re-read periodically, see `BearerTokenSource`), CA and namespace files.

/// Where the service-account files are. Injectable so tests use a temporary directory.
public struct InClusterPaths: Sendable, Hashable {
    package var tokenFile: String
    package var caFile: String
    package var namespaceFile: String

    package init(tokenFile: String, caFile: String, namespaceFile: String) {
        self.tokenFile = tokenFile
        self.caFile = caFile
        self.namespaceFile = namespaceFile
    }

    /// The files under `directory` named as Kubernetes mounts them.
    package init(directory: String) {
        self.init(tokenFile: directory + "/token", caFile: directory + "/ca.crt",
                  namespaceFile: directory + "/namespace")
    }

    /// `/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}`.
    public static let standard = InClusterPaths(directory: "/var/run/secrets/kubernetes.io/serviceaccount")
}

extension KubeClientConfiguration {
    /// The configuration of a pod's service account.
    ///
    /// - Parameters:
    ///   - environment: the process environment (needs `KUBERNETES_SERVICE_HOST` and
    ///     `KUBERNETES_SERVICE_PORT`).
    ///   - paths: the service-account files.
    /// - Throws: ``KubeConfigError/notInCluster(missingVariable:)`` when the environment
    ///   variables are missing; ``KubeConfigError/inClusterFile(path:problem:)`` when the
    ///   token or CA file cannot be read now. A missing namespace file gives `default`.
    package static func inCluster(
        environment: [String: String], paths: InClusterPaths = .standard
    ) throws(KubeConfigError) -> KubeClientConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw .notInCluster(missingVariable: "KUBERNETES_SERVICE_HOST")
        }
        guard let portText = environment["KUBERNETES_SERVICE_PORT"], !portText.isEmpty else {
            throw .notInCluster(missingVariable: "KUBERNETES_SERVICE_PORT")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw .inClusterEnvironment(variable: "KUBERNETES_SERVICE_PORT", value: portText, problem: "not a port number")
        }
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard !bareHost.contains("/"), !bareHost.contains(" ") else {
            throw .inClusterEnvironment(variable: "KUBERNETES_SERVICE_HOST", value: host, problem: "not a host name or address")
        }
        // Read the token once now so a missing mount fails at start-up, not on the first call.
        switch LocalFile.text(of: paths.tokenFile, limit: 64 << 10) {
        case .failure(let error): throw .inClusterFile(path: paths.tokenFile, problem: error.reason)
        case .success(let token) where token.trimmingWhitespace().isEmpty:
            throw .inClusterFile(path: paths.tokenFile, problem: "is empty")
        case .success: break
        }
        let ca: [UInt8]
        switch LocalFile.contents(of: paths.caFile) {
        case .failure(let error): throw .inClusterFile(path: paths.caFile, problem: error.reason)
        case .success(let bytes): ca = bytes
        }
        var namespace = "default"
        if case .success(let text) = LocalFile.text(of: paths.namespaceFile, limit: 4096) {
            let trimmed = text.trimmingWhitespace()
            if !trimmed.isEmpty { namespace = trimmed }
        }
        return KubeClientConfiguration(
            server: ServerURL(scheme: "https", host: bareHost, port: port),
            tls: TLSSettings(certificateAuthority: PEMData(bytes: ca, origin: "in-cluster CA \(paths.caFile)")),
            bearerToken: .file(path: paths.tokenFile),
            namespace: namespace)
    }

    /// Picks a configuration the way controller-runtime's `GetConfig` does: an explicit
    /// kubeconfig, else `$KUBECONFIG` (colon-separated list, merged), else in-cluster when
    /// `KUBERNETES_SERVICE_HOST` is set, else `$HOME/.kube/config`.
    ///
    /// - Parameters:
    ///   - kubeconfig: an explicit kubeconfig path (a `--kubeconfig` flag), or nil.
    ///   - context: the context to use instead of `current-context`, or nil.
    public static func resolve(
        kubeconfig: String? = nil, context: String? = nil,
        environment: [String: String], inClusterPaths: InClusterPaths = .standard
    ) throws(KubeConfigError) -> KubeClientConfiguration {
        if let kubeconfig {
            return try Kubeconfig.load(paths: [kubeconfig], context: context)
        }
        var tried: [String] = []
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            // client-go skips entries that do not exist (loader.go:182-196).
            let existing = paths.filter(LocalFile.exists)
            if !existing.isEmpty { return try Kubeconfig.load(paths: existing, context: context) }
            tried.append("$KUBECONFIG=\(list)")
        } else {
            tried.append("$KUBECONFIG (unset)")
        }
        if environment["KUBERNETES_SERVICE_HOST"].map({ !$0.isEmpty }) ?? false {
            return try inCluster(environment: environment, paths: inClusterPaths)
        }
        tried.append("in-cluster (KUBERNETES_SERVICE_HOST unset)")
        if let home = environment["HOME"], !home.isEmpty {
            let path = home + "/.kube/config"
            if LocalFile.exists(path) { return try Kubeconfig.load(paths: [path], context: context) }
            tried.append(path)
        }
        throw .noConfiguration(tried: tried)
    }
}
