// kubeconfig files (client-go tools/clientcmd/api/v1/types.go, loader.go).
//
// Supported: `current-context` or an explicit context; cluster `server`,
// `certificate-authority` (file) or `-data` (base64 PEM), `insecure-skip-tls-verify` (never
// together with a CA, as client-go), `tls-server-name`; user `token` or `tokenFile`, `client-certificate`/`client-key` (file)
// or `-data`. Several files (from `$KUBECONFIG`) merge with the first file to define a
// name winning (loader.go:182-196); relative paths resolve against the directory of the
// file that holds them (loader.go:505-590).
// Not supported, with an error naming the entry: `exec` credential plugins,
// `auth-provider`, basic auth (`username`/`password`) and `proxy-url`. A file is at most
// 4 MiB and 200,000 values once YAML aliases are expanded (BoundedYAML).
import Foundation
import Yams

/// Loads client configurations from kubeconfig files.
public enum Kubeconfig {
    /// Builds a configuration from one or more kubeconfig files (merged, first wins).
    ///
    /// - Parameters:
    ///   - paths: kubeconfig files in priority order.
    ///   - context: the context to use; nil uses the first `current-context` found.
    public static func load(paths: [String], context: String? = nil) throws(KubeConfigError) -> KubeClientConfiguration {
        var files: [(path: String, file: KubeconfigFile)] = []
        for path in paths {
            files.append((path, try parse(path: path)))
        }
        guard let contextName = context ?? files.lazy.compactMap({ $0.file.currentContext }).first(where: { !$0.isEmpty }) else {
            throw .noCurrentContext(paths: paths)
        }
        let primary = paths.first ?? ""
        guard let (contextPath, contextEntry) = lookup(files, \.contexts, contextName) else {
            throw .entryNotFound(path: primary, entry: "context \"\(contextName)\"")
        }
        guard let clusterName = contextEntry.cluster, !clusterName.isEmpty else {
            throw .invalidField(path: contextPath, entry: "context \"\(contextName)\"", field: "cluster", problem: "missing")
        }
        guard let (clusterPath, cluster) = lookup(files, \.clusters, clusterName) else {
            throw .entryNotFound(path: contextPath, entry: "cluster \"\(clusterName)\"")
        }
        var configuration = try clusterSettings(cluster, name: clusterName, path: clusterPath)
        if let userName = contextEntry.user, !userName.isEmpty {
            guard let (userPath, user) = lookup(files, \.users, userName) else {
                throw .entryNotFound(path: contextPath, entry: "user \"\(userName)\"")
            }
            try applyUser(user, name: userName, path: userPath, to: &configuration)
        }
        if let namespace = contextEntry.namespace, !namespace.isEmpty {
            configuration.namespace = namespace
        }
        return configuration
    }

    static func parse(path: String) throws(KubeConfigError) -> KubeconfigFile {
        let text: String
        switch LocalFile.text(of: path) {
        case .failure(let error): throw .kubeconfigUnreadable(path: path, problem: error.reason)
        case .success(let value): text = value
        }
        if text.trimmingWhitespace().isEmpty { return KubeconfigFile() }
        let root: Node
        do throws(BoundedYAML.Failure) {
            // Size, nesting and aliases are checked before anything is composed (BoundedYAML).
            guard let node = try BoundedYAML.compose(text, limits: .kubeconfig) else { return KubeconfigFile() }
            root = node
        } catch {
            throw .kubeconfigMalformed(path: path, detail: error.description)
        }
        do {
            return try YAMLDecoder().decode(KubeconfigFile.self, from: root)
        } catch {
            throw .kubeconfigMalformed(path: path, detail: Echo.value(describeDecodingError(error), limit: 300))
        }
    }

    private static func lookup<Entry>(
        _ files: [(path: String, file: KubeconfigFile)],
        _ list: KeyPath<KubeconfigFile, [Named<Entry>]?>, _ name: String
    ) -> (String, Entry)? {
        for (path, file) in files {
            if let entry = file[keyPath: list]?.first(where: { $0.name == name }), let value = entry.value {
                return (path, value)
            }
        }
        return nil
    }

    private static func clusterSettings(_ cluster: KubeconfigFile.Cluster, name: String, path: String) throws(KubeConfigError) -> KubeClientConfiguration {
        let entry = "cluster \"\(name)\""
        guard let serverText = cluster.server, !serverText.isEmpty else {
            throw .invalidField(path: path, entry: entry, field: "server", problem: "missing")
        }
        let server: ServerURL
        switch ServerURL.parse(serverText) {
        case .failure(let error): throw .invalidField(path: path, entry: entry, field: "server", problem: error.reason)
        case .success(let value): server = value
        }
        if let proxy = cluster.proxyURL, !proxy.isEmpty {
            throw .unsupported(path: path, entry: entry, field: "proxy-url", hint: "connect directly")
        }
        var tls = TLSSettings(insecureSkipVerify: cluster.insecureSkipTLSVerify ?? false,
                              serverName: cluster.tlsServerName.flatMap { $0.isEmpty ? nil : $0 })
        // client-go refuses this pair (a CA that would not be used is a mistake to report,
        // not a setting to ignore): clientcmd's cluster validation and the transport both.
        let hasCA = !(cluster.certificateAuthority ?? "").isEmpty || !(cluster.certificateAuthorityData ?? "").isEmpty
        if tls.insecureSkipVerify && hasCA {
            throw .invalidField(path: path, entry: entry, field: "insecure-skip-tls-verify",
                                problem: "cannot be used together with certificate-authority or certificate-authority-data "
                                    + "(as in client-go): remove the CA to skip verification, or the flag to verify against it")
        }
        tls.certificateAuthority = try pem(file: cluster.certificateAuthority, data: cluster.certificateAuthorityData,
                                           field: "certificate-authority", entry: entry, path: path)
        return KubeClientConfiguration(server: server, tls: tls)
    }

    private static func applyUser(_ user: KubeconfigFile.User, name: String, path: String,
                                  to configuration: inout KubeClientConfiguration) throws(KubeConfigError) {
        let entry = "user \"\(name)\""
        if user.exec != nil {
            throw .unsupported(path: path, entry: entry, field: "exec",
                               hint: "credential plugins are not implemented; use token, tokenFile or client-certificate")
        }
        if user.authProvider != nil {
            throw .unsupported(path: path, entry: entry, field: "auth-provider",
                               hint: "use token, tokenFile or client-certificate")
        }
        if user.username != nil || user.password != nil {
            throw .unsupported(path: path, entry: entry, field: "username/password",
                               hint: "basic auth is not implemented; use token, tokenFile or client-certificate")
        }
        if let token = user.token, !token.isEmpty {
            configuration.bearerToken = .fixed(token)
        } else if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
            let resolved = resolve(tokenFile, relativeTo: path)
            switch LocalFile.text(of: resolved, limit: 64 << 10) {
            case .failure(let error):
                throw .invalidField(path: path, entry: entry, field: "tokenFile", problem: "\(resolved): \(error.reason)")
            case .success(let text) where text.trimmingWhitespace().isEmpty:
                throw .invalidField(path: path, entry: entry, field: "tokenFile", problem: "\(resolved): is empty")
            case .success:
                configuration.bearerToken = .file(path: resolved)
            }
        }
        let certificate = try pem(file: user.clientCertificate, data: user.clientCertificateData,
                                  field: "client-certificate", entry: entry, path: path)
        let key = try pem(file: user.clientKey, data: user.clientKeyData, field: "client-key", entry: entry, path: path)
        if (certificate == nil) != (key == nil) {
            throw .invalidField(path: path, entry: entry, field: certificate == nil ? "client-certificate" : "client-key",
                                problem: "missing (client-certificate and client-key go together)")
        }
        configuration.tls.clientCertificate = certificate
        configuration.tls.clientKey = key
    }

    /// Reads `<field>` (a file path) or decodes `<field>-data` (base64); `-data` wins as in
    /// client-go.
    private static func pem(file: String?, data: String?, field: String, entry: String,
                            path: String) throws(KubeConfigError) -> PEMData? {
        if let data, !data.isEmpty {
            guard let bytes = Data(base64Encoded: data.trimmingWhitespace(), options: .ignoreUnknownCharacters),
                  !bytes.isEmpty
            else {
                throw .invalidField(path: path, entry: entry, field: "\(field)-data", problem: "not valid base64")
            }
            return PEMData(bytes: Array(bytes), origin: "kubeconfig \(path): \(entry): \(field)-data")
        }
        guard let file, !file.isEmpty else { return nil }
        let resolved = resolve(file, relativeTo: path)
        switch LocalFile.contents(of: resolved) {
        case .failure(let error):
            throw .invalidField(path: path, entry: entry, field: field, problem: "\(resolved): \(error.reason)")
        case .success(let bytes):
            return PEMData(bytes: bytes, origin: "kubeconfig \(path): \(entry): \(field) \(resolved)")
        }
    }

    /// A relative path resolved against the kubeconfig's directory.
    static func resolve(_ file: String, relativeTo kubeconfig: String) -> String {
        guard !file.hasPrefix("/") else { return file }
        guard let slash = kubeconfig.lastIndex(of: "/") else { return file }
        return String(kubeconfig[...slash]) + file
    }
}

/// The subset of a kubeconfig the client reads (unknown keys are ignored).
struct KubeconfigFile: Decodable {
    var currentContext: String?
    var clusters: [Named<Cluster>]?
    var contexts: [Named<Context>]?
    var users: [Named<User>]?

    init() {}

    enum CodingKeys: String, CodingKey {
        case currentContext = "current-context"
        case clusters, contexts, users
    }

    struct Cluster: Decodable {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        var tlsServerName: String?
        var proxyURL: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
            case proxyURL = "proxy-url"
        }
    }

    struct Context: Decodable {
        var cluster: String?
        var user: String?
        var namespace: String?
    }

    struct User: Decodable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var username: String?
        var password: String?
        /// Only whether they are there matters (both are refused): their content is never
        /// decoded.
        var exec: Presence?
        var authProvider: Presence?

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
        }
    }
}

/// A field whose presence is all that is read: decoding it looks at nothing inside.
struct Presence: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// A `{name, <payload>}` list entry: `cluster`, `context` or `user` holds the payload.
struct Named<Value: Decodable>: Decodable {
    var name: String
    var value: Value?

    enum CodingKeys: String, CodingKey {
        case name, cluster, context, user
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        value = try c.decodeIfPresent(Value.self, forKey: .cluster)
            ?? c.decodeIfPresent(Value.self, forKey: .context)
            ?? c.decodeIfPresent(Value.self, forKey: .user)
    }
}
