import RingCore
import Yams
import KubeRuntime
import VolumeStorage

extension ProvisionerConfiguration {
    /// Reads a YAML configuration file.
    ///
    /// ```yaml
    /// provisionerName: example.com/nfs
    /// log: false                  # verbose logs (default false)
    /// ring:
    ///   hash: xxh3                # xxh3 (default) or crc32 (a cluster migrated from the original)
    ///   virtualNodes: 255         # per member of weight 1 (default 255)
    /// mountBase: /persistent-volumes   # default mount path prefix for mounted members
    /// members:
    ///   - address: 10.0.0.1       # spec.nfs.server of the PVs
    ///     export: /exports/k8s    # export path on the server
    ///     name: nfs-a             # ring identity (default: the address)
    ///     mountPath: /persistent-volumes/nfs-a   # default <mountBase>/<name>
    ///     weight: 1               # default 1
    ///     state: active           # active (default) or draining
    ///     mode: mounted           # mounted (default) or direct
    ///   - address: "fd00::10"     # IPv6 works here
    ///     export: /srv/nfs
    ///     mode: direct
    ///     nfsPort: 2049           # direct only: skip rpcbind (default: ask rpcbind)
    ///     mountPort: 20048        # direct only: the MOUNT protocol's port
    /// ```
    ///
    /// Unknown keys are errors (a misspelt `wieght` must not silently mean weight 1).
    /// - Throws: ``ConfigurationError`` naming the file, the field and the problem.
    public static func fromYAMLFile(_ path: String) throws(ConfigurationError) -> ProvisionerConfiguration {
        let text: String
        switch LocalFile.text(of: path, limit: BoundedYAML.Limits.configuration.maximumBytes) {
        case .failure(let error): throw .unreadable(path: path, reason: error.reason)
        case .success(let value): text = value
        }
        return try fromYAML(text, source: path)
    }

    /// Parses configuration text; `source` names it in errors. The text is checked against
    /// ``BoundedYAML/Limits/configuration`` (1 MiB, 200,000 values once aliases are
    /// expanded) before it is composed.
    package static func fromYAML(_ text: String, source: String) throws(ConfigurationError) -> ProvisionerConfiguration {
        let composed: Node?
        do throws(BoundedYAML.Failure) {
            composed = try BoundedYAML.compose(text, limits: .configuration)
        } catch {
            if case .syntax = error { throw .malformed(path: source, reason: "not YAML: \(error)") }
            throw .malformed(path: source, reason: error.description)
        }
        guard let root = composed else { throw .malformed(path: source, reason: "the file is empty") }
        let top = try YAMLFields(root, path: "", source: source, known: ["provisionerName", "log", "ring", "mountBase", "members"])
        let name = try top.string("provisionerName") ?? ""
        var ring = RingConfiguration(virtualNodesPerMember: 255, hash: .xxh3)
        if let ringNode = top["ring"] {
            let r = try YAMLFields(ringNode, path: "ring", source: source, known: ["hash", "virtualNodes"])
            if let hash = try r.string("hash") {
                guard let h = RingHash(rawValue: hash.lowercased()) else {
                    throw .invalid(source: source, field: "ring.hash", problem: "\(Echo.quoted(hash)) is not a hash; use xxh3 or crc32")
                }
                ring.hash = h
            }
            if let v = try r.int("virtualNodes") { ring.virtualNodesPerMember = v }
        }
        let mountBase = try top.string("mountBase") ?? defaultMountBase
        guard mountBase.hasPrefix("/") else {
            throw .invalid(source: source, field: "mountBase", problem: "\(Echo.quoted(mountBase)) must be an absolute path")
        }
        let base = mountBase.hasSuffix("/") ? String(mountBase.dropLast()) : mountBase
        guard let membersNode = top["members"] else {
            throw .missing(source: source, field: "members", hint: "list the NFS servers, each with at least address and export")
        }
        guard case .sequence(let sequence) = membersNode else {
            throw .invalid(source: source, field: "members", problem: "must be a list of servers")
        }
        var members: [MemberConfiguration] = []
        for (i, node) in sequence.enumerated() {
            let path = "members[\(i)]"
            let m = try YAMLFields(node, path: path, source: source,
                                   known: ["name", "address", "export", "mountPath", "weight", "state", "mode", "nfsPort", "mountPort"])
            guard let address = try m.string("address"), !address.isEmpty else {
                throw .missing(source: source, field: "\(path).address", hint: "give the NFS server's host name or IP address")
            }
            guard let export = try m.string("export") else {
                throw .missing(source: source, field: "\(path).export", hint: "give the export path on the server, e.g. /exports")
            }
            let memberName = try m.string("name") ?? address
            var state = MemberConfiguration.State.active
            if let s = try m.string("state") {
                guard let parsed = MemberConfiguration.State(rawValue: s.lowercased()) else {
                    throw .invalid(source: source, field: "\(path).state", problem: "\(Echo.quoted(s)) is not a state; use active or draining")
                }
                state = parsed
            }
            var mode = MemberConfiguration.Mode.mounted
            if let s = try m.string("mode") {
                guard let parsed = MemberConfiguration.Mode(rawValue: s.lowercased()) else {
                    throw .invalid(source: source, field: "\(path).mode", problem: "\(Echo.quoted(s)) is not a mode; use mounted or direct")
                }
                mode = parsed
            }
            let mountPath = try m.string("mountPath") ?? (mode == .mounted ? "\(base)/\(memberName)" : nil)
            members.append(MemberConfiguration(name: memberName, address: address, export: export, mountPath: mountPath,
                                               weight: try m.int("weight") ?? 1, state: state, mode: mode,
                                               nfsPort: try m.port("nfsPort"), mountPort: try m.port("mountPort")))
        }
        let configuration = ProvisionerConfiguration(provisionerName: name, ring: ring, members: members, source: source,
                                                     verbose: try top.bool("log") ?? false)
        try configuration.validate()
        return configuration
    }
}

/// A YAML mapping read field by field, rejecting unknown keys and wrong types with the
/// field's path in the message.
struct YAMLFields {
    let mapping: Node.Mapping
    let path: String
    let source: String

    init(_ node: Node, path: String, source: String, known: Set<String>) throws(ConfigurationError) {
        guard case .mapping(let mapping) = node else {
            throw .invalid(source: source, field: path.isEmpty ? "the document" : path, problem: "must be a mapping of keys to values")
        }
        self.mapping = mapping
        self.path = path
        self.source = source
        for key in mapping.keys {
            // Never the key itself when it is not a scalar: an alias may stand for millions
            // of values.
            guard let k = key.string else {
                throw .invalid(source: source, field: path.isEmpty ? "the document" : path,
                               problem: "has a key that is a \(Self.kind(key)), not a name (known here: \(known.sorted().joined(separator: ", ")))")
            }
            if !known.contains(k) {
                throw .invalid(source: source, field: field(Echo.value(k, limit: 60)),
                               problem: "is not a known setting (known here: \(known.sorted().joined(separator: ", ")))")
            }
        }
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "value"
        case .sequence: "list"
        case .mapping: "mapping"
        case .alias: "alias"
        }
    }

    subscript(key: String) -> Node? {
        mapping.first { $0.key.string == key }?.value
    }

    func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let node = self[key] else { return nil }
        guard case .scalar(let scalar) = node else {
            throw .invalid(source: source, field: field(key), problem: "must be a single value, not a list or mapping")
        }
        return scalar.string
    }

    func int(_ key: String) throws(ConfigurationError) -> Int? {
        guard let node = self[key] else { return nil }
        guard let value = node.int else {
            throw .invalid(source: source, field: field(key), problem: "must be an integer, got \(node.string.map { Echo.quoted($0, limit: 40) } ?? "a \(Self.kind(node))")")
        }
        return value
    }

    /// A TCP port: an integer from 1 to 65535.
    func port(_ key: String) throws(ConfigurationError) -> UInt16? {
        guard let value = try int(key) else { return nil }
        guard (1...65535).contains(value), let port = UInt16(exactly: value) else {
            throw .invalid(source: source, field: field(key), problem: "must be a port number between 1 and 65535, got \(value)")
        }
        return port
    }

    func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let node = self[key] else { return nil }
        guard let value = node.bool else {
            throw .invalid(source: source, field: field(key), problem: "must be true or false, got \(node.string.map { Echo.quoted($0, limit: 40) } ?? "a \(Self.kind(node))")")
        }
        return value
    }
}
