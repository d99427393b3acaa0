// metav1.ObjectMeta, ListMeta, OwnerReference (apimachinery pkg/apis/meta/v1/types.go).
//
// Strings, maps and lists follow Go's `omitempty` convention: an empty value means "unset"
// and is not written. So `metadata.name` is a plain `String` (empty for a `generateName`
// create), `namespace` is empty for cluster-scoped objects, and an emptied `finalizers`
// list disappears from the JSON (a merge patch then sends `"finalizers": null`, which the
// server reads as "no finalizers").

/// Standard object metadata. Unknown fields (managedFields, selfLink, ...) are ignored.
public struct ObjectMeta: Sendable, Hashable, Codable {
    public var name: String
    package var generateName: String
    public var namespace: String
    public var uid: String
    /// Opaque: compare only for equality, never order or parse (the API's contract).
    package var resourceVersion: String
    package var generation: Int64?
    package var creationTimestamp: KubeTime?
    package var deletionTimestamp: KubeTime?
    package var deletionGracePeriodSeconds: Int64?
    package var labels: [String: String]
    public var annotations: [String: String]
    package var finalizers: [String]
    package var ownerReferences: [OwnerReference]

    public init(
        name: String = "", generateName: String = "", namespace: String = "", uid: String = "",
        resourceVersion: String = "", generation: Int64? = nil, creationTimestamp: KubeTime? = nil,
        deletionTimestamp: KubeTime? = nil, deletionGracePeriodSeconds: Int64? = nil,
        labels: [String: String] = [:], annotations: [String: String] = [:],
        finalizers: [String] = [], ownerReferences: [OwnerReference] = []
    ) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.creationTimestamp = creationTimestamp
        self.deletionTimestamp = deletionTimestamp
        self.deletionGracePeriodSeconds = deletionGracePeriodSeconds
        self.labels = labels
        self.annotations = annotations
        self.finalizers = finalizers
        self.ownerReferences = ownerReferences
    }

    /// True once a DELETE has been accepted and finalizers hold the object.
    package var isTerminating: Bool { deletionTimestamp != nil }

    enum CodingKeys: String, CodingKey {
        case name, generateName, namespace, uid, resourceVersion, generation, creationTimestamp
        case deletionTimestamp, deletionGracePeriodSeconds, labels, annotations, finalizers
        case ownerReferences
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        generateName = try c.decodeIfPresent(String.self, forKey: .generateName) ?? ""
        namespace = try c.decodeIfPresent(String.self, forKey: .namespace) ?? ""
        uid = try c.decodeIfPresent(String.self, forKey: .uid) ?? ""
        resourceVersion = try c.decodeIfPresent(String.self, forKey: .resourceVersion) ?? ""
        generation = try c.decodeIfPresent(Int64.self, forKey: .generation)
        creationTimestamp = try c.decodeIfPresent(KubeTime.self, forKey: .creationTimestamp)
        deletionTimestamp = try c.decodeIfPresent(KubeTime.self, forKey: .deletionTimestamp)
        deletionGracePeriodSeconds = try c.decodeIfPresent(Int64.self, forKey: .deletionGracePeriodSeconds)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        finalizers = try c.decodeIfPresent([String].self, forKey: .finalizers) ?? []
        ownerReferences = try c.decodeIfPresent([OwnerReference].self, forKey: .ownerReferences) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeNonEmpty(name, forKey: .name)
        try c.encodeNonEmpty(generateName, forKey: .generateName)
        try c.encodeNonEmpty(namespace, forKey: .namespace)
        try c.encodeNonEmpty(uid, forKey: .uid)
        try c.encodeNonEmpty(resourceVersion, forKey: .resourceVersion)
        try c.encodeIfPresent(generation, forKey: .generation)
        try c.encodeIfPresent(creationTimestamp, forKey: .creationTimestamp)
        try c.encodeIfPresent(deletionTimestamp, forKey: .deletionTimestamp)
        try c.encodeIfPresent(deletionGracePeriodSeconds, forKey: .deletionGracePeriodSeconds)
        if !labels.isEmpty { try c.encode(labels, forKey: .labels) }
        if !annotations.isEmpty { try c.encode(annotations, forKey: .annotations) }
        if !finalizers.isEmpty { try c.encode(finalizers, forKey: .finalizers) }
        if !ownerReferences.isEmpty { try c.encode(ownerReferences, forKey: .ownerReferences) }
    }
}

/// A reference from a dependent to its owner (garbage collection).
public struct OwnerReference: Sendable, Hashable, Codable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    package var controller: Bool?
    package var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String,
                controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// List metadata: the list's resourceVersion and the pagination token.
public struct ListMeta: Sendable, Hashable, Codable {
    /// The revision the list was read at (opaque, like every resourceVersion).
    package var resourceVersion: String?
    /// Present when more pages follow (only its presence means "more", AM types.go:410-426).
    public var `continue`: String?
    /// Optional and approximate.
    package var remainingItemCount: Int64?

    public init(resourceVersion: String? = nil, continue: String? = nil, remainingItemCount: Int64? = nil) {
        self.resourceVersion = resourceVersion
        self.continue = `continue`
        self.remainingItemCount = remainingItemCount
    }
}

extension KeyedEncodingContainer {
    mutating func encodeNonEmpty(_ value: String, forKey key: Key) throws {
        if !value.isEmpty { try encode(value, forKey: key) }
    }
}
