import RingCore
import KubeRuntime
import VolumeStorage

extension ProvisionerConfiguration {
    /// The directory under which the original provisioner's Deployment mounts each export:
    /// `/persistent-volumes/<server>` (shoogoome/nfs-cluster-provisioner deploy/storage).
    public static let defaultMountBase = "/persistent-volumes"

    /// The seed-compatible configuration from the original's environment:
    /// `PROVISIONER_NAME`, `NFS_SERVER` and `NFS_PATH` (colon-separated, same order),
    /// `LOG` (any value but empty, `0`, `false` turns on verbose logs).
    ///
    /// The ring is the original's: CRC-32, 255 virtual nodes, member name = the server
    /// entry, in list order; each export mounted at `<mountBase>/<server>`.
    ///
    /// - Throws: a ``ConfigurationError`` naming the variable and the fix: a missing
    ///   variable, lists of different lengths (the original crashed on this), empty
    ///   entries, a server listed twice (the original silently kept one export), an IPv6
    ///   address (impossible in a colon-separated list: use a configuration file), an
    ///   invalid provisioner name.
    public static func fromEnvironment(_ environment: [String: String], mountBase: String = defaultMountBase) throws(ConfigurationError) -> ProvisionerConfiguration {
        let source = "environment"
        let name = environment["PROVISIONER_NAME"] ?? ""
        try ProvisionerName.validate(name, source: source)
        guard let serverList = environment["NFS_SERVER"], !serverList.isEmpty else {
            throw .missing(source: source, field: "NFS_SERVER", hint: "list the NFS servers, colon-separated (e.g. 10.0.0.1:10.0.0.2), or use --config with a configuration file")
        }
        guard let pathList = environment["NFS_PATH"], !pathList.isEmpty else {
            throw .missing(source: source, field: "NFS_PATH", hint: "list each server's export path, colon-separated in the same order as NFS_SERVER (e.g. /exports:/exports)")
        }
        if serverList.contains("[") || serverList.contains("]") {
            throw .invalid(source: source, field: "NFS_SERVER", problem: "looks like it holds an IPv6 address; NFS_SERVER is colon-separated, so IPv6 cannot be written there: use a configuration file (--config)")
        }
        let servers = serverList.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let paths = pathList.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if let i = servers.firstIndex(where: { $0.trimmingSpaces.isEmpty }) {
            throw .invalid(source: source, field: "NFS_SERVER", problem: "entry \(i + 1) is empty (\(Echo.quoted(serverList))); remove the extra ':' or fill in the server")
        }
        if let i = paths.firstIndex(where: { $0.trimmingSpaces.isEmpty }) {
            throw .invalid(source: source, field: "NFS_PATH", problem: "entry \(i + 1) is empty (\(Echo.quoted(pathList))); remove the extra ':' or fill in the export path")
        }
        guard servers.count == paths.count else {
            throw .invalid(source: source, field: "NFS_SERVER", problem: "lists \(servers.count) server\(servers.count == 1 ? "" : "s") but NFS_PATH lists \(paths.count) path\(paths.count == 1 ? "" : "s"); give one export path per server, in the same order")
        }
        var firstIndex: [String: Int] = [:]
        for (i, s) in servers.enumerated() {
            if let first = firstIndex[s] {
                throw .invalid(source: source, field: "NFS_SERVER", problem: "lists \(Echo.value(s)) twice (entries \(first + 1) and \(i + 1)); list each server once (one export per server)")
            }
            firstIndex[s] = i
        }
        let base = mountBase.hasSuffix("/") ? String(mountBase.dropLast()) : mountBase
        let members = zip(servers, paths).map { server, path in
            MemberConfiguration(name: server, address: server, export: path, mountPath: "\(base)/\(server)")
        }
        let log = (environment["LOG"] ?? "").lowercased()
        let configuration = ProvisionerConfiguration(
            provisionerName: name, ring: .stathatCompatible, members: members, source: source,
            verbose: !(log.isEmpty || log == "0" || log == "false" || log == "no" || log == "off"))
        try configuration.validate()
        return configuration
    }
}

extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
