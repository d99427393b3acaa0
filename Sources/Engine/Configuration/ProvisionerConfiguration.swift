public import RingCore
import KubeRuntime
import VolumeStorage

/// What the provisioner serves: its name, the ring settings and the NFS servers.
///
/// Two sources, one type:
/// - the original Go provisioner's environment (`PROVISIONER_NAME`, `NFS_SERVER`,
///   `NFS_PATH`, `LOG`), which gives the seed-compatible ring (CRC-32, 255 virtual nodes,
///   member name = the `NFS_SERVER` entry, export mounted at `/persistent-volumes/<server>`),
///   so placement and directories are exactly the original's;
/// - a YAML file (typically a mounted ConfigMap), which defaults to the balanced XXH3 ring
///   and can say everything the environment cannot (IPv6 addresses, weights, draining,
///   member names independent of addresses, direct NFS members).
///
/// Invariants (checked by ``validate()``, which the loaders call): a valid provisioner
/// name, at least one member, unique non-empty member names, weights ≥ 1, virtual nodes
/// ≥ 1, absolute export paths, a mount path for every mounted member, NFS and MOUNT ports
/// (1-65535) only on direct members.
public struct ProvisionerConfiguration: Sendable, Hashable {
    /// The `provisioner` a StorageClass names to be served by this provisioner. Also names
    /// the leader-election Lease (with `/` replaced by `-`), as the original's library did.
    public var provisionerName: String
    /// Hash and virtual nodes of the ring.
    public var ring: RingConfiguration
    /// The NFS servers, in order (the order matters only in `crc32` mode, where the later
    /// of two servers sharing a point owns it, as in the original).
    public var members: [MemberConfiguration]
    /// Where the source came from, for messages ("environment" or the file path).
    public var source: String
    /// Verbose logging requested by the original's `LOG` variable or the file's `log`.
    public var verbose: Bool

    public init(provisionerName: String, ring: RingConfiguration, members: [MemberConfiguration], source: String, verbose: Bool = false) {
        self.provisionerName = provisionerName
        self.ring = ring
        self.members = members
        self.source = source
        self.verbose = verbose
    }

    /// The ring members (name and weight) in configuration order. Draining members stay on
    /// the ring, so their claims keep their place; placement skips them for new claims.
    public var ringMembers: [Member] { members.map { Member($0.name, weight: $0.weight) } }

    /// The member with this ring name.
    public func member(named name: String) -> MemberConfiguration? { members.first { $0.name == name } }

    /// The most points a ring may have (the sum of the members' weights × virtual nodes):
    /// 2^20 = 1,048,576. A ring takes about 50 bytes per point, and a reload holds the old
    /// and the new ring at once: the limit keeps that well inside the Deployment's 256 MiB
    /// memory limit (1,000 servers of weight 4 at 255 virtual nodes fit). RingCore's own
    /// limit, 16 Mi points, is what a process could build, not what the pod can hold.
    package static let maximumRingPoints = 1 << 20

    /// How many points `weights` at `virtualNodes` per weight make; nil past `Int.max`.
    package static func ringPoints(weights: [Int], virtualNodes: Int) -> Int? {
        var total = 0
        for weight in weights {
            let (points, o1) = max(0, weight).multipliedReportingOverflow(by: max(0, virtualNodes))
            let (sum, o2) = total.addingReportingOverflow(points)
            if o1 || o2 { return nil }
            total = sum
        }
        return total
    }

    /// The problem with a ring of `weights` at `virtualNodes`, if it has too many points.
    public static func ringPointsProblem(weights: [Int], virtualNodes: Int) -> String? {
        let points = ringPoints(weights: weights, virtualNodes: virtualNodes)
        if let points, points <= maximumRingPoints { return nil }
        return "would need \(points.map(String.init) ?? "more than \(Int.max)") points (the sum of the weights × \(virtualNodes) virtual nodes), "
            + "more than the limit of \(maximumRingPoints) (about 50 bytes each, and the pod's memory is limited): lower the virtual nodes or the weights"
    }

    /// Checks every invariant; throws the first problem found, naming it and the fix.
    public func validate() throws(ConfigurationError) {
        try ProvisionerName.validate(provisionerName, source: source)
        guard ring.virtualNodesPerMember >= 1 else {
            throw .invalid(source: source, field: "ring.virtualNodes", problem: "must be at least 1, got \(ring.virtualNodesPerMember)")
        }
        guard !members.isEmpty else {
            throw .invalid(source: source, field: "members", problem: "no NFS servers are configured; list at least one")
        }
        var seen: [String: Int] = [:]
        for (i, m) in members.enumerated() {
            let field = "members[\(i)]"
            if m.name.isEmpty { throw .invalid(source: source, field: "\(field).name", problem: "is empty") }
            if let problem = Self.memberNameProblem(m.name) {
                throw .invalid(source: source, field: source == "environment" ? "NFS_SERVER entry \(i + 1)" : "\(field).name", problem: problem)
            }
            if let first = seen[m.name] {
                throw .invalid(source: source, field: "\(field).name", problem: "\(Echo.quoted(m.name)) is already used by members[\(first)]; member names must be unique")
            }
            seen[m.name] = i
            if m.address.isEmpty { throw .invalid(source: source, field: "\(field).address", problem: "is empty; give the NFS server's host name or IP address") }
            if m.weight < 1 { throw .invalid(source: source, field: "\(field).weight", problem: "must be an integer of at least 1, got \(m.weight)") }
            if !m.export.hasPrefix("/") {
                throw .invalid(source: source, field: "\(field).export", problem: "\(Echo.quoted(m.export)) must be an absolute path on the NFS server")
            }
            if m.mode == .mounted {
                guard let mount = m.mountPath, mount.hasPrefix("/") else {
                    throw .invalid(source: source, field: "\(field).mountPath", problem: "a mounted member needs the absolute path where its export is mounted in the pod")
                }
                // On bytes, as the kernel reads the path.
                if mount.utf8.split(separator: UInt8(ascii: "/")).contains(where: { Array($0) == [0x2E] || Array($0) == [0x2E, 0x2E] }) {
                    throw .invalid(source: source, field: "\(field).mountPath", problem: "\(Echo.quoted(mount)) has a '.' or '..' component; write the path without them")
                }
            }
            for (key, port) in [("nfsPort", m.nfsPort), ("mountPort", m.mountPort)] {
                guard let port else { continue }
                guard m.mode == .direct else {
                    throw .invalid(source: source, field: "\(field).\(key)", problem: "is only valid with `mode: direct` (a mounted member's ports are the mount's business); remove it or set mode: direct")
                }
                guard port >= 1 else {
                    throw .invalid(source: source, field: "\(field).\(key)", problem: "must be a port number between 1 and 65535, got 0")
                }
            }
        }
        // Before the ring is built: building it is what would take the memory.
        if let problem = Self.ringPointsProblem(weights: members.map(\.weight), virtualNodes: ring.virtualNodesPerMember) {
            throw .invalid(source: source, field: "ring", problem: problem)
        }
        do {
            _ = try RingSnapshot(members: ringMembers, configuration: ring)
        } catch {
            throw .invalid(source: source, field: "ring", problem: error.description)
        }
    }
}

extension ProvisionerConfiguration {
    /// Why `name` cannot name a member, or nil. A member name is one path component: it
    /// makes the default mount path `<mountBase>/<name>` (the original's
    /// `/persistent-volumes/<server>`), so `..` would put it outside the base.
    package static func memberNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes == [0x2E] || bytes == [0x2E, 0x2E] {
            return "is \(Echo.quoted(name)), which as a path component is the directory itself or its parent (the mount path would be <mountBase>/\(name)); give the member another name"
        }
        if bytes.contains(UInt8(ascii: "/")) {
            return "\(Echo.quoted(name)) contains '/'; a member name is one path component (it names <mountBase>/<name>)"
        }
        if Echo.hasControlCharacters(name) {
            return "\(Echo.quoted(name)) contains a control character"
        }
        if bytes.count > 255 {
            return "is \(bytes.count) bytes long; a member name is one path component, at most 255 bytes"
        }
        return nil
    }
}

/// One NFS server.
public struct MemberConfiguration: Sendable, Hashable {
    /// Whether new claims may be placed on a member.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Takes new claims.
        case active
        /// Keeps its volumes and their deletes, takes no new claims (they spill to the
        /// next member on the ring). The way to empty a server before removing it.
        case draining
    }

    /// How the provisioner reaches the export.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// The export is mounted into the pod at ``MemberConfiguration/mountPath``.
        case mounted
        /// Spoken to over NFS from user space; no mount in the pod.
        case direct
    }

    /// Ring identity (placement depends on it). Defaults to the address.
    public var name: String
    /// The NFS server as PVs name it (`spec.nfs.server`): host name, IPv4 or IPv6 address.
    public var address: String
    /// The export path on the server; a volume's `spec.nfs.path` is this plus its directory.
    public var export: String
    /// Where the export is mounted in the provisioner's pod (mounted mode).
    public var mountPath: String?
    /// Scales the member's share of new claims. Default 1.
    package var weight: Int
    /// Default active.
    public var state: State
    /// Default mounted.
    public var mode: Mode
    /// The server's NFS port (direct members only). Default nil: ask the server's rpcbind
    /// (port 111), as `mount -t nfs` does. Set when the server does not register with
    /// rpcbind or shares a host with other servers (only one can hold the host's NFSv3
    /// registration). PVs cannot carry a port: nodes still mount through rpcbind or the
    /// StorageClass's `mountOptions` (`port=`, `mountport=`).
    public var nfsPort: UInt16?
    /// The server's MOUNT protocol port (direct members only). Default nil: ask rpcbind.
    public var mountPort: UInt16?

    public init(name: String? = nil, address: String, export: String, mountPath: String?, weight: Int = 1,
                state: State = .active, mode: Mode = .mounted, nfsPort: UInt16? = nil, mountPort: UInt16? = nil) {
        self.name = name ?? address
        self.address = address
        self.export = export
        self.mountPath = mountPath
        self.weight = weight
        self.state = state
        self.mode = mode
        self.nfsPort = nfsPort
        self.mountPort = mountPort
    }
}
