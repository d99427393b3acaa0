/// The ring key of a claim: `"<namespace>-<pvcName>"`, the original provisioner's key
/// (shoogoome/nfs-cluster-provisioner: `consistent.Get(namespace + "-" + pvcName)`), kept
/// so a cluster that ran it keeps its placement. (The key is ambiguous — `team-a`/`db` and
/// `team`/`a-db` share it — which is harmless for placement: both land on one server; the
/// directories are kept apart by their ownership markers.)
import KubeRuntime
import VolumeStorage
public enum PlacementKey {
    public static func forClaim(namespace: String, name: String) -> String {
        "\(namespace)-\(name)"
    }

    /// Parses `namespace/name` as operators write a claim; nil if it is not of that form.
    public static func parseClaimReference(_ text: String) -> (namespace: String, name: String)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
