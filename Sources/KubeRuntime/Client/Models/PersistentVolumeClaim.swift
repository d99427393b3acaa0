// core/v1 PersistentVolumeClaim (k8s.io/api core/v1/types.go).

/// A claim for storage. Namespaced; `/api/v1/namespaces/{ns}/persistentvolumeclaims`.
public struct PersistentVolumeClaim: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(
        group: "", version: "v1", plural: "persistentvolumeclaims",
        kind: "PersistentVolumeClaim", namespaced: true)

    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// What the claim asks for. Immutable after creation except `volumeName` (set once)
    /// and a growing storage request on a bound claim.
    public struct Spec: Sendable, Hashable, Codable {
        /// `ReadWriteOnce`, `ReadOnlyMany`, `ReadWriteMany`, `ReadWriteOncePod`.
        public var accessModes: [String]?
        public var resources: VolumeResourceRequirements?
        public var storageClassName: String?
        package var volumeName: String?
        /// `Filesystem` (server default) or `Block`.
        package var volumeMode: String?
        package var selector: LabelSelector?
        package var dataSource: TypedLocalObjectReference?
        package var dataSourceRef: TypedObjectReference?
        package var volumeAttributesClassName: String?

        public init(
            accessModes: [String]? = nil, resources: VolumeResourceRequirements? = nil,
            storageClassName: String? = nil, volumeName: String? = nil, volumeMode: String? = nil,
            selector: LabelSelector? = nil, dataSource: TypedLocalObjectReference? = nil,
            dataSourceRef: TypedObjectReference? = nil, volumeAttributesClassName: String? = nil
        ) {
            self.accessModes = accessModes
            self.resources = resources
            self.storageClassName = storageClassName
            self.volumeName = volumeName
            self.volumeMode = volumeMode
            self.selector = selector
            self.dataSource = dataSource
            self.dataSourceRef = dataSourceRef
            self.volumeAttributesClassName = volumeAttributesClassName
        }

        /// `resources.requests["storage"]`.
        package var storageRequest: Quantity? { resources?.requests?["storage"] }
    }

    /// Written by the PV controller through `/status` only.
    public struct Status: Sendable, Hashable, Codable {
        /// `Pending`, `Bound` or `Lost`.
        public var phase: String?
        public var accessModes: [String]?
        package var capacity: [String: Quantity]?

        public init(phase: String? = nil, accessModes: [String]? = nil, capacity: [String: Quantity]? = nil) {
            self.phase = phase
            self.accessModes = accessModes
            self.capacity = capacity
        }
    }
}
