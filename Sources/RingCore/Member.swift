/// One server of the ring.
///
/// A member's ``name`` is its identity on the ring: the bytes that its virtual-node labels
/// are made of. Any non-empty UTF-8 string works (an IPv4 or IPv6 address, a host name, a
/// unicode label); it must be unique in a ring. In `crc32` mode it must be exactly the
/// string the original provisioner had in `NFS_SERVER`, or placement changes.
///
/// ``weight`` scales the member's virtual nodes: a member of weight 2 gets twice the
/// virtual nodes of one of weight 1 and so, on average, twice the share of claims.
public struct Member: Sendable, Hashable, CustomStringConvertible {
    /// The ring identity. Non-empty, unique within a ring.
    public var name: String
    /// Virtual nodes = weight × ``RingConfiguration/virtualNodesPerMember``. At least 1.
    public var weight: Int

    /// Creates a member. Validation happens when a ring is built, so that a bad
    /// configuration is reported with every problem named, never trapped on.
    public init(_ name: String, weight: Int = 1) {
        self.name = name
        self.weight = weight
    }

    public var description: String {
        weight == 1 ? name : "\(name)(weight \(weight))"
    }
}
