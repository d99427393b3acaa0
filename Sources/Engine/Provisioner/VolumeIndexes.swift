// Secondary indexes of the PV cache, so that no reconcile scans every PV.
package import KubeRuntime

/// The PV cache's secondary indexes (``Store/objects(index:key:)``).
package enum VolumeIndexes {
    /// `namespace/name` of the claim a PV is bound to (any provisioner's PVs).
    package static let claimName = "claim-name"
    /// The member annotation of PVs of ours: which PVs a member holds.
    package static let member = "member"
    /// Key `nfs` for every NFS PV without our member annotation (candidates for records
    /// of directories made by the original Go provisioner).
    package static let unrecorded = "unrecorded-nfs"

    package static let indexers: [String: Store<PersistentVolume>.IndexFunction] = [
        claimName: { pv in
            guard let ref = pv.spec?.claimRef, let namespace = ref.namespace, let name = ref.name else { return [] }
            return [namespace + "/" + name]
        },
        member: { pv in pv.metadata.annotations[Annotations.member].map { [$0] } ?? [] },
        unrecorded: { pv in
            pv.metadata.annotations[Annotations.member] == nil && pv.spec?.nfs != nil ? ["nfs"] : []
        },
    ]
}
