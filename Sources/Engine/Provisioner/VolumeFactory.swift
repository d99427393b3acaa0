/// Builds the PersistentVolume for a provisioned directory (sig-storage-lib
/// `provisionClaimOperation` + the provisioner's own fields; "What the PV looks like" in
/// docs/kubernetes-api-behaviour.md).
package import KubeRuntime
package import VolumeStorage
package enum VolumeFactory {
    /// - Parameters:
    ///   - member: the chosen member; its **address** goes into `spec.nfs.server` (the
    ///     original wrote the export path there: bug 1 in docs/original-provisioner.md).
    ///   - directory: the volume's directory relative to the member's export.
    package static func volume(
        for claim: PersistentVolumeClaim, className: String, storageClass: StorageClass, provisionerName: String,
        member: MemberConfiguration, directory: RelativePath, onDelete: DeletePolicy, placement: Placement.Reason
    ) -> PersistentVolume {
        let reclaim = storageClass.reclaimPolicy ?? "Delete"
        var annotations = VolumeRecord(member: member.name, directory: directory, onDelete: onDelete,
                                       claimUID: claim.metadata.uid).annotations
        annotations[Annotations.provisionedBy] = provisionerName
        annotations[Annotations.placement] = placementLabel(placement)
        // The finalizer makes the PV wait for its storage to be reclaimed even when the PV
        // is deleted before its claim (HonorPVReclaimPolicy). Retain PVs never get it:
        // their storage is never touched.
        let finalizers = reclaim == "Delete" ? [Annotations.provisionerFinalizer] : []
        let metadata = ObjectMeta(name: ClaimRules.volumeName(for: claim), annotations: annotations, finalizers: finalizers)
        let claimRef = ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: claim.metadata.namespace,
                                       name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion)
        var capacity: [String: Quantity] = [:]
        if let request = claim.spec?.storageRequest { capacity["storage"] = request }
        let spec = PersistentVolume.Spec(
            capacity: capacity, accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: reclaim, storageClassName: className,
            mountOptions: (storageClass.mountOptions?.isEmpty ?? true) ? nil : storageClass.mountOptions,
            volumeMode: "Filesystem", claimRef: claimRef,
            nfs: NFSVolumeSource(server: member.address, path: exportPath(member.export, directory)))
        return PersistentVolume(metadata: metadata, spec: spec)
    }

    /// True when `pv`'s NFS source is `directory` on `member` as configured now: its
    /// address and `<export>/<directory>`, as ``volume(for:className:storageClass:provisionerName:member:directory:onDelete:placement:)``
    /// writes them.
    package static func pointsAt(_ pv: PersistentVolume, member: MemberConfiguration, directory: RelativePath) -> Bool {
        pv.spec?.nfs?.server == member.address && pv.spec?.nfs?.path == exportPath(member.export, directory)
    }

    /// `export` + `/` + `directory`, with exactly one slash between them.
    package static func exportPath(_ export: String, _ directory: RelativePath) -> String {
        var base = export
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        if directory == .root { return base }
        return base == "/" ? "/\(directory)" : "\(base)/\(directory)"
    }

    static func placementLabel(_ reason: Placement.Reason) -> String {
        switch reason {
        case .reuse: return "reuse"
        case .ring: return "ring"
        case .spillOver: return "spill-over"
        }
    }
}
