/// The hash that places virtual nodes and keys on the ring.
public enum RingHash: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// CRC-32/IEEE, 32-bit points labelled `"<i><name>"`: bit-for-bit the placement of the
    /// Go library stathat/consistent that the original provisioner used. Poorly balanced
    /// (CRC-32 is linear, so one member's labels cluster), kept for drop-in compatibility.
    case crc32
    /// XXH3-64 from libxxhash, 64-bit points: balanced as random points are, collisions
    /// negligible. The default for new rings.
    case xxh3

    public var description: String { rawValue }
}

/// How a ring is built. Immutable; checked when a ring is built.
public struct RingConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// Virtual nodes per member of weight 1. Default 255, the original provisioner's
    /// `NumberOfReplicas`; more points balance better (the spread of shares falls as
    /// 1/sqrt(points)) at the cost of memory and a slightly longer search.
    public var virtualNodesPerMember: Int
    /// The hash. Default ``RingHash/xxh3``; ``RingHash/crc32`` for a cluster migrated from
    /// the original provisioner.
    public var hash: RingHash

    /// The most points one ring may hold (members × weight × virtual nodes). 16 Mi points
    /// take 256 MiB; anything beyond is a configuration mistake, reported, never allocated.
    public static let maximumPoints = 1 << 24

    public init(virtualNodesPerMember: Int = 255, hash: RingHash = .xxh3) {
        self.virtualNodesPerMember = virtualNodesPerMember
        self.hash = hash
    }

    /// 255 virtual nodes, XXH3.
    public static let `default` = RingConfiguration()

    /// The original provisioner's ring: 255 virtual nodes, CRC-32, weight 1 members.
    public static let stathatCompatible = RingConfiguration(virtualNodesPerMember: 255, hash: .crc32)

    public var description: String { "\(hash), \(virtualNodesPerMember) virtual nodes per member" }
}
