// Small types shared by the storage models (k8s.io/api core/v1 and meta/v1).
// Every field is optional so any subset the server sends decodes; unknown fields are
// ignored.

/// core/v1 ObjectReference (PV `claimRef`, Event `involvedObject`).
public struct ObjectReference: Sendable, Hashable, Codable {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    package var resourceVersion: String?
    package var fieldPath: String?

    public init(apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil,
                name: String? = nil, uid: String? = nil, resourceVersion: String? = nil,
                fieldPath: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.fieldPath = fieldPath
    }
}

/// meta/v1 LabelSelector.
public struct LabelSelector: Sendable, Hashable, Codable {
    package var matchLabels: [String: String]?
    package var matchExpressions: [LabelSelectorRequirement]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [LabelSelectorRequirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }
}

/// One `matchExpressions` entry: `key operator values`.
public struct LabelSelectorRequirement: Sendable, Hashable, Codable {
    public var key: String
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator: String, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}

/// core/v1 TypedLocalObjectReference (PVC `dataSource`).
public struct TypedLocalObjectReference: Sendable, Hashable, Codable {
    package var apiGroup: String?
    public var kind: String
    public var name: String

    public init(apiGroup: String? = nil, kind: String, name: String) {
        self.apiGroup = apiGroup
        self.kind = kind
        self.name = name
    }
}

/// core/v1 TypedObjectReference (PVC `dataSourceRef`; may name another namespace).
public struct TypedObjectReference: Sendable, Hashable, Codable {
    package var apiGroup: String?
    public var kind: String
    public var name: String
    public var namespace: String?

    public init(apiGroup: String? = nil, kind: String, name: String, namespace: String? = nil) {
        self.apiGroup = apiGroup
        self.kind = kind
        self.name = name
        self.namespace = namespace
    }
}

/// core/v1 VolumeResourceRequirements (PVC `spec.resources`).
public struct VolumeResourceRequirements: Sendable, Hashable, Codable {
    public var requests: [String: Quantity]?
    public var limits: [String: Quantity]?

    public init(requests: [String: Quantity]? = nil, limits: [String: Quantity]? = nil) {
        self.requests = requests
        self.limits = limits
    }
}

/// core/v1 VolumeNodeAffinity (PV `spec.nodeAffinity`).
public struct VolumeNodeAffinity: Sendable, Hashable, Codable {
    package var required: NodeSelector?

    public init(required: NodeSelector? = nil) {
        self.required = required
    }
}

/// core/v1 NodeSelector: the terms are ORed.
public struct NodeSelector: Sendable, Hashable, Codable {
    package var nodeSelectorTerms: [NodeSelectorTerm]

    public init(nodeSelectorTerms: [NodeSelectorTerm]) {
        self.nodeSelectorTerms = nodeSelectorTerms
    }
}

/// core/v1 NodeSelectorTerm: the requirements are ANDed.
public struct NodeSelectorTerm: Sendable, Hashable, Codable {
    package var matchExpressions: [NodeSelectorRequirement]?
    package var matchFields: [NodeSelectorRequirement]?

    public init(matchExpressions: [NodeSelectorRequirement]? = nil, matchFields: [NodeSelectorRequirement]? = nil) {
        self.matchExpressions = matchExpressions
        self.matchFields = matchFields
    }
}

/// core/v1 NodeSelectorRequirement.
public struct NodeSelectorRequirement: Sendable, Hashable, Codable {
    public var key: String
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`.
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator: String, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}
