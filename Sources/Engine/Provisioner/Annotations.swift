/// Annotation and finalizer names: Kubernetes' (component-helpers storage/volume
/// pv_helpers.go) and this project's own.
import KubeRuntime
public import VolumeStorage
public enum Annotations {
    /// On a claim: which provisioner should provision it (set by the PV controller).
    package static let storageProvisioner = "volume.kubernetes.io/storage-provisioner"
    /// The deprecated beta key, still set by the PV controller beside the GA one.
    package static let betaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
    /// On a claim of a WaitForFirstConsumer class: the node the scheduler picked.
    package static let selectedNode = "volume.kubernetes.io/selected-node"
    /// The legacy class annotation; it wins over `spec.storageClassName`.
    package static let betaStorageClass = "volume.beta.kubernetes.io/storage-class"
    /// On a PV: which provisioner made it.
    package static let provisionedBy = "pv.kubernetes.io/provisioned-by"
    /// The external provisioner's PV finalizer: storage is reclaimed before the PV goes.
    package static let provisionerFinalizer = "external-provisioner.volume.kubernetes.io/finalizer"

    /// This project's prefix for what a PV records about its volume.
    package static let prefix = "nfs-cluster-provisioner.io/"
    /// The ring member (NFS server) the volume lives on.
    public static let member = prefix + "member"
    /// The volume's directory, relative to the member's export.
    public static let directory = prefix + "directory"
    /// What happens to the data when the PV is released with reclaim policy Delete:
    /// `delete`, `archive` or `retain`, resolved from the class at provisioning time.
    package static let onDelete = prefix + "on-delete"
    /// The uid of the claim the volume was made for (the marker's owner).
    public static let claimUID = prefix + "claim-uid"
    /// Why that member (`ring`, `reuse`, `spill-over`), for operators.
    public static let placement = prefix + "placement"
}

/// What a provisioned PV records about its volume: everything deletion needs, so deletion
/// never recomputes the ring and never re-reads a StorageClass that may have changed or
/// gone (the original re-read the class at delete time: bug 14 in
/// docs/original-provisioner.md).
public struct VolumeRecord: Sendable, Hashable {
    public var member: String
    public var directory: RelativePath
    package var onDelete: DeletePolicy
    public var claimUID: String

    package init(member: String, directory: RelativePath, onDelete: DeletePolicy, claimUID: String) {
        self.member = member
        self.directory = directory
        self.onDelete = onDelete
        self.claimUID = claimUID
    }

    /// The annotations that carry the record.
    public var annotations: [String: String] {
        [Annotations.member: member, Annotations.directory: directory.description,
         Annotations.onDelete: onDelete.rawValue, Annotations.claimUID: claimUID]
    }

    /// Reads the record from a PV's annotations.
    /// - Throws: a message naming the missing or invalid annotation.
    public init(annotations: [String: String]) throws(VolumeRecordError) {
        guard let member = annotations[Annotations.member], !member.isEmpty else { throw .missing(Annotations.member) }
        guard let directory = annotations[Annotations.directory] else { throw .missing(Annotations.directory) }
        let path: RelativePath
        do { path = try RelativePath(directory) } catch {
            throw .invalid(Annotations.directory, value: directory, problem: error.description)
        }
        guard path != .root else { throw .invalid(Annotations.directory, value: directory, problem: "names the export root") }
        guard let policyText = annotations[Annotations.onDelete] else { throw .missing(Annotations.onDelete) }
        guard let policy = DeletePolicy(rawValue: policyText) else {
            throw .invalid(Annotations.onDelete, value: policyText, problem: "not one of delete, archive, retain")
        }
        self.init(member: member, directory: path, onDelete: policy, claimUID: annotations[Annotations.claimUID] ?? "")
    }
}

public enum VolumeRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    case missing(String)
    case invalid(String, value: String, problem: String)

    public var description: String {
        switch self {
        case .missing(let key): return "annotation \(key) is missing"
        case .invalid(let key, let value, let problem): return "annotation \(key)=\"\(value)\" is invalid: \(problem)"
        }
    }
}
