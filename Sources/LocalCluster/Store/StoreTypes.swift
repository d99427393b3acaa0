// Value types shared by the store, the watch fan-out and the HTTP layer.

/// Where an object lives: its namespace ("" for cluster-scoped objects) and name.
/// Ordered as etcd orders keys (`/registry/<resource>/<namespace>/<name>`), which is the
/// order lists and pagination use.
struct ObjectKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    var namespace: String
    var name: String

    static func < (a: ObjectKey, b: ObjectKey) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }

    var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }
}

/// A change recorded in the store's history.
enum ChangeType: Sendable {
    case added, modified, deleted
}

/// One write in the revision history (what etcd's MVCC log holds).
struct HistoryEntry: Sendable {
    let revision: Int64
    let resource: ResourceType
    let key: ObjectKey
    let type: ChangeType
    /// The new state; for a deletion, the last state with the deletion revision as its RV.
    let object: JSONValue
    /// The state before the change (nil for an addition).
    let previous: JSONValue?
}

/// A watch event as it goes on the wire: `{"type": ..., "object": ...}`.
struct WatchEvent: Sendable {
    enum EventType: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
    }

    var type: EventType
    var object: JSONValue

    var json: JSONValue { .object(["type": .string(type.rawValue), "object": object]) }
}

/// What a watch session's stream carries: events from the store and control signals.
enum WatchSignal: Sendable {
    case event(WatchEvent)
    /// End the stream cleanly (the watch timed out, or the peer went away).
    case end
}

/// Which objects a watch or list selects.
struct ObjectFilter: Sendable {
    var resource: ResourceType
    /// nil = all namespaces (or a cluster-scoped resource).
    var namespace: String?
    var labels: LabelSelector = .everything
    var fields: FieldSelector = FieldSelector()

    func matches(_ object: JSONValue) -> Bool {
        if let namespace, object.string(at: "metadata", "namespace") ?? "" != namespace { return false }
        if !labels.requirements.isEmpty {
            var labelMap: [String: String] = [:]
            for (key, value) in object[path: ["metadata", "labels"]]?.objectValue ?? [:] {
                labelMap[key] = value.stringValue ?? ""
            }
            if !labels.matches(labelMap) { return false }
        }
        return fields.requirements.isEmpty || fields.matches(object, resource: resource)
    }

    var selectsEverything: Bool { labels.requirements.isEmpty && fields.requirements.isEmpty }
}

extension JSONValue {
    /// `metadata.resourceVersion` parsed as the store's integer revision.
    var resourceVersionNumber: Int64? { string(at: "metadata", "resourceVersion").flatMap { Int64($0) } }

    /// A copy with `metadata.resourceVersion` set.
    func withResourceVersion(_ revision: Int64) -> JSONValue {
        var copy = self
        copy[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        return copy
    }

    /// `metadata.finalizers` as strings.
    var finalizers: [String] {
        (self[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    var isTerminating: Bool {
        if let deletion = self[path: ["metadata", "deletionTimestamp"]], !deletion.isNull { return true }
        return false
    }

    var annotations: [String: String] {
        var out: [String: String] = [:]
        for (key, value) in self[path: ["metadata", "annotations"]]?.objectValue ?? [:] { out[key] = value.stringValue ?? "" }
        return out
    }
}
