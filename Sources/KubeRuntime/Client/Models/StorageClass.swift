// storage.k8s.io/v1 StorageClass (k8s.io/api storage/v1/types.go). The fields sit at the
// top level of the object (there is no spec).

/// A class of storage naming its provisioner. Cluster-scoped.
public struct StorageClass: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(
        group: "storage.k8s.io", version: "v1", plural: "storageclasses",
        kind: "StorageClass", namespaced: false)

    public var metadata: ObjectMeta
    public var provisioner: String
    public var parameters: [String: String]?
    /// `Delete` (server default) or `Retain`.
    public var reclaimPolicy: String?
    public var mountOptions: [String]?
    /// `Immediate` (server default) or `WaitForFirstConsumer`.
    public var volumeBindingMode: String?
    public var allowVolumeExpansion: Bool?

    public init(
        metadata: ObjectMeta, provisioner: String, parameters: [String: String]? = nil,
        reclaimPolicy: String? = nil, mountOptions: [String]? = nil,
        volumeBindingMode: String? = nil, allowVolumeExpansion: Bool? = nil
    ) {
        self.metadata = metadata
        self.provisioner = provisioner
        self.parameters = parameters
        self.reclaimPolicy = reclaimPolicy
        self.mountOptions = mountOptions
        self.volumeBindingMode = volumeBindingMode
        self.allowVolumeExpansion = allowVolumeExpansion
    }
}
