// Names the provisioner keeps for itself at the export root and inside volumes.

/// The provisioner's own names on an export.
///
/// All start with `.`, and ``PathPattern`` refuses rendered segments that start with `.`,
/// so no templated volume path can ever produce (or delete) one of them.
///
/// ```
/// <export>/
///   .nfs-cluster-provisioner/           0755, only the provisioner writes here
///     member.json                       the member's identity (name, address, export)
///     volumes/<path>.json               one ownership record per directory (OwnershipRecord)
///     archive/<pv name>-<timestamp>     archived volumes (renamed, never copied)
///     trash/<claim uid>                 volumes being deleted (renamed here first)
///     probe/                            health probes create and remove files here
///   team-a-db/                          a volume (default pathPattern): the tenant's alone
/// ```
///
/// Nothing inside a volume directory is ever read to decide anything.
public enum ReservedNames {
    /// The reserved directory at the export root.
    package static let directoryName = ".nfs-cluster-provisioner"

    /// `.nfs-cluster-provisioner`
    public static let directory = RelativePath(unchecked: [directoryName])
    /// `.nfs-cluster-provisioner/archive`: archived volumes.
    package static let archiveDirectory = RelativePath(unchecked: [directoryName, "archive"])
    /// `.nfs-cluster-provisioner/trash`: a volume is renamed here, then removed, so its path
    /// is free at once and a large tree can be removed over several calls.
    package static let trashDirectory = RelativePath(unchecked: [directoryName, "trash"])
    /// `.nfs-cluster-provisioner/volumes`: the ownership records.
    package static let volumesDirectory = RelativePath(unchecked: [directoryName, "volumes"])
    /// `.nfs-cluster-provisioner/member.json`: which member this export is.
    package static let identityFile = RelativePath(unchecked: [directoryName, "member.json"])
    /// `.nfs-cluster-provisioner/probe`: where probes write their test file.
    package static let probeDirectory = RelativePath(unchecked: [directoryName, "probe"])

    /// Mode of the reserved directories: only the provisioner (root) may write there.
    public static let directoryMode = FileMode(0o755)

    /// True when `path` is the reserved directory or inside it.
    package static func contains(_ path: RelativePath) -> Bool {
        path.isWithin(directory)
    }
}
