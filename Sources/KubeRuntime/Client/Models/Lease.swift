// coordination.k8s.io/v1 Lease (k8s.io/api coordination/v1/types.go:59-87). client-go's
// leader election writes all five core fields, `holderIdentity` even when empty
// (resourcelock/leaselock.go:149-166): an optional set to "" is written as "".

/// A lease used for leader election. Namespaced.
public struct Lease: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(
        group: "coordination.k8s.io", version: "v1", plural: "leases",
        kind: "Lease", namespaced: true)

    public var metadata: ObjectMeta
    public var spec: Spec?

    public init(metadata: ObjectMeta, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }

    public struct Spec: Sendable, Hashable, Codable {
        public var holderIdentity: String?
        package var leaseDurationSeconds: Int32?
        package var acquireTime: MicroTime?
        package var renewTime: MicroTime?
        package var leaseTransitions: Int32?
        package var strategy: String?
        package var preferredHolder: String?

        public init(
            holderIdentity: String? = nil, leaseDurationSeconds: Int32? = nil,
            acquireTime: MicroTime? = nil, renewTime: MicroTime? = nil,
            leaseTransitions: Int32? = nil, strategy: String? = nil, preferredHolder: String? = nil
        ) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
            self.strategy = strategy
            self.preferredHolder = preferredHolder
        }
    }
}
