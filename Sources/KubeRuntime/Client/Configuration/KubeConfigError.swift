// Errors of client configuration (in-cluster or kubeconfig). Each names the file and the
// entry/field concerned, e.g.
//   kubeconfig /x/config: context "foo" not found
//   kubeconfig /x/config: user "u": tokenFile /y: no such file or directory

/// Why a client configuration could not be built.
public enum KubeConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `KUBERNETES_SERVICE_HOST`/`_PORT` is not set (client-go `ErrNotInCluster`).
    case notInCluster(missingVariable: String)
    /// An in-cluster environment value is unusable.
    case inClusterEnvironment(variable: String, value: String, problem: String)
    /// A service-account file (token, CA) is unreadable or empty.
    case inClusterFile(path: String, problem: String)
    /// The kubeconfig file cannot be read.
    case kubeconfigUnreadable(path: String, problem: String)
    /// The kubeconfig is not valid YAML of the expected shape.
    case kubeconfigMalformed(path: String, detail: String)
    /// No `current-context` and no context was asked for.
    case noCurrentContext(paths: [String])
    /// A context, cluster or user named somewhere does not exist.
    case entryNotFound(path: String, entry: String)
    /// A field of an entry is missing or wrong (`entry` like `user "u"`).
    case invalidField(path: String, entry: String, field: String, problem: String)
    /// A feature the client does not implement (exec plugins, auth providers, proxies).
    case unsupported(path: String, entry: String, field: String, hint: String)
    /// Neither a kubeconfig nor an in-cluster environment was found.
    case noConfiguration(tried: [String])

    public var description: String {
        switch self {
        case .notInCluster(let variable):
            return "not running in a cluster: \(variable) is not set"
        case .inClusterEnvironment(let variable, let value, let problem):
            return "in-cluster: \(variable)=\"\(value)\": \(problem)"
        case .inClusterFile(let path, let problem):
            return "in-cluster: \(path): \(problem)"
        case .kubeconfigUnreadable(let path, let problem):
            return "kubeconfig \(path): \(problem)"
        case .kubeconfigMalformed(let path, let detail):
            return "kubeconfig \(path): malformed: \(detail)"
        case .noCurrentContext(let paths):
            return "kubeconfig \(paths.joined(separator: ":")): no current-context set and no context given"
        case .entryNotFound(let path, let entry):
            return "kubeconfig \(path): \(entry) not found"
        case .invalidField(let path, let entry, let field, let problem):
            return "kubeconfig \(path): \(entry): \(field): \(problem)"
        case .unsupported(let path, let entry, let field, let hint):
            return "kubeconfig \(path): \(entry): \(field) is not supported (\(hint))"
        case .noConfiguration(let tried):
            return "no Kubernetes configuration found (tried: \(tried.joined(separator: ", ")))"
        }
    }
}
