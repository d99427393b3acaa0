// What the generic client needs to know about a resource type: where it lives on the API
// (group, version, plural), what its objects are called (kind) and whether it is
// namespaced. One generic client then serves every model.

/// The REST coordinates of a resource type.
public struct ResourceDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core group (`/api/v1`).
    public var group: String
    public var version: String
    /// Lower-case plural used in paths, e.g. `persistentvolumeclaims`.
    package var plural: String
    /// The `kind` written in objects, e.g. `PersistentVolumeClaim`.
    public var kind: String
    /// Namespaced resources live under `/namespaces/{ns}/`.
    package var namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `v1` for the core group, `group/version` otherwise.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `/api/v1` or `/apis/{group}/{version}`.
    package var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// `plural` or `plural.group`, as the server names the resource in messages.
    package var qualifiedPlural: String { group.isEmpty ? plural : "\(plural).\(group)" }

    public var description: String { qualifiedPlural }

    /// The collection path; `namespace` nil lists a namespaced resource across namespaces.
    func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace, !namespace.isEmpty {
            return "\(groupVersionPath)/namespaces/\(namespace)/\(plural)"
        }
        return "\(groupVersionPath)/\(plural)"
    }
}

/// A Kubernetes object type the client can read and write.
///
/// Models are `Codable` and tolerant of unknown fields (they are ignored when decoding).
/// The client adds `apiVersion`/`kind` from ``resource`` when it sends an object, so models
/// need not store them. See `KubeClient.modify` for how existing objects are changed
/// without dropping fields the models do not know.
public protocol KubeResource: Codable, Sendable {
    /// Where this type lives on the API.
    static var resource: ResourceDescriptor { get }
    /// Standard metadata.
    var metadata: ObjectMeta { get set }
}

extension KubeResource {
    /// The cache key: namespace/name (namespace empty for cluster-scoped objects).
    public var key: ObjectKey { ObjectKey(namespace: metadata.namespace, name: metadata.name) }
}

/// Identifies an object within one resource type: `namespace/name`, or `name` alone for
/// cluster-scoped objects (client-go's `MetaNamespaceKeyFunc`).
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Empty for cluster-scoped objects.
    public var namespace: String
    public var name: String

    public init(namespace: String = "", name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}
