// core/v1 PersistentVolume (k8s.io/api core/v1/types.go).

/// A piece of storage. Cluster-scoped; `/api/v1/persistentvolumes`.
public struct PersistentVolume: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(
        group: "", version: "v1", plural: "persistentvolumes",
        kind: "PersistentVolume", namespaced: false)

    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The volume's description. Only NFS sources are modelled; others are ignored on
    /// decode (and would be dropped by a PUT: change existing PVs with `KubeClient.modify`).
    public struct Spec: Sendable, Hashable, Codable {
        package var capacity: [String: Quantity]?
        public var accessModes: [String]?
        /// `Retain` (server default), `Delete` or `Recycle`.
        package var persistentVolumeReclaimPolicy: String?
        public var storageClassName: String?
        public var mountOptions: [String]?
        /// `Filesystem` (server default) or `Block`.
        package var volumeMode: String?
        /// The claim this volume is (to be) bound to; carries the claim's uid.
        public var claimRef: ObjectReference?
        public var nfs: NFSVolumeSource?
        package var nodeAffinity: VolumeNodeAffinity?

        public init(
            capacity: [String: Quantity]? = nil, accessModes: [String]? = nil,
            persistentVolumeReclaimPolicy: String? = nil, storageClassName: String? = nil,
            mountOptions: [String]? = nil, volumeMode: String? = nil, claimRef: ObjectReference? = nil,
            nfs: NFSVolumeSource? = nil, nodeAffinity: VolumeNodeAffinity? = nil
        ) {
            self.capacity = capacity
            self.accessModes = accessModes
            self.persistentVolumeReclaimPolicy = persistentVolumeReclaimPolicy
            self.storageClassName = storageClassName
            self.mountOptions = mountOptions
            self.volumeMode = volumeMode
            self.claimRef = claimRef
            self.nfs = nfs
            self.nodeAffinity = nodeAffinity
        }
    }

    /// Written by the PV controller through `/status` only.
    public struct Status: Sendable, Hashable, Codable {
        /// `Pending`, `Available`, `Bound`, `Released` or `Failed`.
        public var phase: String?
        public var message: String?
        public var reason: String?
        package var lastPhaseTransitionTime: KubeTime?

        public init(phase: String? = nil, message: String? = nil, reason: String? = nil,
                    lastPhaseTransitionTime: KubeTime? = nil) {
            self.phase = phase
            self.message = message
            self.reason = reason
            self.lastPhaseTransitionTime = lastPhaseTransitionTime
        }
    }
}

/// core/v1 NFSVolumeSource.
public struct NFSVolumeSource: Sendable, Hashable, Codable {
    public var server: String
    public var path: String
    package var readOnly: Bool?

    public init(server: String, path: String, readOnly: Bool? = nil) {
        self.server = server
        self.path = path
        self.readOnly = readOnly
    }
}
