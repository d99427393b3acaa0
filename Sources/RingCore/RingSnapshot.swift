/// An immutable ring: its members, configuration and sorted points.
///
/// A snapshot is a value: copy it freely, read it from any number of threads. Lookups
/// take no lock and write no shared memory. A ``Ring`` publishes a new snapshot when its
/// membership changes; a snapshot never changes.
///
/// How points are made:
/// - ``RingHash/crc32``: member by member in list order, virtual node i of member `name`
///   sits at CRC-32/IEEE of the label `"<i><name>"` (decimal i, then the name's UTF-8
///   bytes), i = 0 ..< weight × virtual nodes. Two labels on the same point: the member
///   later in the list owns it. That is the Go library stathat/consistent, which stores
///   points in a map, last write wins (docs/original-provisioner.md, "The placement
///   rule").
/// - ``RingHash/xxh3``: virtual node i of member `name` sits at XXH3-64 of the name's
///   UTF-8 bytes with seed i. Distinct (name, i) pairs are distinct inputs (the labels of
///   the CRC-32 scheme are ambiguous: `"1"+"10.0.0.1" == "11"+"0.0.0.1"`). Two members on
///   the same point (odds about P²/2⁶⁵): the member whose name sorts first by UTF-8 bytes
///   owns it, whatever the list order.
///
/// A key goes to the owner of the first point strictly greater than the key's hash
/// (CRC-32 or XXH3-64 of its UTF-8 bytes), wrapping past the last point to the first.
///
/// ```swift
/// let ring = try RingSnapshot(members: [Member("10.0.0.1"), Member("10.0.0.2")],
///                             configuration: .stathatCompatible)
/// let server = try ring.locate("default-data-postgres-0").name
/// ```
public struct RingSnapshot: Sendable {
    let storage: RingStorage
    /// Which publication of a ``Ring`` this is (0 for a snapshot built on its own).
    public let generation: UInt64

    /// Builds a ring.
    ///
    /// - Throws: ``RingError`` naming the first problem: virtual nodes < 1, an empty or
    ///   duplicate member name, a weight < 1, or too many points. An empty member list is
    ///   allowed (lookups then throw ``RingError/emptyRing``).
    /// - Complexity: O(P) for P = Σ weight × virtual nodes: hashing, a radix sort, and one
    ///   pass each to build the bucket index and the owner slots.
    public init(members: [Member], configuration: RingConfiguration = .default) throws(RingError) {
        try self.init(members: members, configuration: configuration, generation: 0)
    }

    init(members: [Member], configuration: RingConfiguration, generation: UInt64) throws(RingError) {
        let total = try Self.validate(members: members, configuration: configuration)
        var points: [UInt64] = []
        var owners: [UInt32] = []
        points.reserveCapacity(total)
        owners.reserveCapacity(total)
        let vnodes = configuration.virtualNodesPerMember

        switch configuration.hash {
        case .crc32:
            var digits = [UInt8](repeating: 0, count: 24)
            for (m, member) in members.enumerated() {
                let labels = member.weight * vnodes
                withUTF8Bytes(of: member.name) { name in
                    for i in 0..<labels {
                        let n = Self.writeDecimal(i, into: &digits)
                        let crc = digits.withUnsafeBytes { d in
                            CRC32.update(CRC32.update(0, UnsafeRawBufferPointer(rebasing: d[(24 - n)...])), name)
                        }
                        points.append(UInt64(crc) << 32)
                        owners.append(UInt32(m))
                    }
                }
            }
            // Equal points: the member later in the list wins (ties ordered by list index).
            PointSort.sort(points: &points, owners: &owners, tieKey: { $0 })
            Self.dedupe(points: &points, owners: &owners, keepLast: true)

        case .xxh3:
            // Placement must not depend on the list order; only tie-breaking could, so
            // ties go to the smallest name.
            let rank = members.indices.sorted { members[$0].name.utf8.lexicographicallyPrecedes(members[$1].name.utf8) }
            for m in rank {
                let member = members[m]
                let labels = member.weight * vnodes
                withUTF8Bytes(of: member.name) { name in
                    for i in 0..<labels {
                        points.append(XXH3.hash(name, seed: UInt64(i)))
                        owners.append(UInt32(m))
                    }
                }
            }
            // Equal points: the smallest name wins (ties ordered by name rank).
            var rankOf = [UInt32](repeating: 0, count: members.count)
            for (r, m) in rank.enumerated() { rankOf[m] = UInt32(r) }
            PointSort.sort(points: &points, owners: &owners, tieKey: { rankOf[Int($0)] })
            Self.dedupe(points: &points, owners: &owners, keepLast: false)
        }
        storage = RingStorage(configuration: configuration, members: members, sortedPoints: points, owners: owners)
        self.generation = generation
    }

    /// Checks the configuration and the members; returns the number of points to make.
    static func validate(members: [Member], configuration: RingConfiguration) throws(RingError) -> Int {
        let vnodes = configuration.virtualNodesPerMember
        guard vnodes >= 1 else { throw .invalidVirtualNodeCount(vnodes) }
        var seen = Set<String>()
        seen.reserveCapacity(members.count)
        var total = 0
        var overflow = false
        for (position, member) in members.enumerated() {
            guard !member.name.isEmpty else { throw .emptyMemberName(position: position) }
            guard seen.insert(member.name).inserted else { throw .duplicateMemberName(member.name) }
            guard member.weight >= 1 else { throw .invalidWeight(member: member.name, weight: member.weight) }
            let (labels, o1) = member.weight.multipliedReportingOverflow(by: vnodes)
            let (sum, o2) = total.addingReportingOverflow(labels)
            if o1 || o2 { overflow = true } else { total = sum }
        }
        if members.count > Int(UInt32.max) { overflow = true }
        if overflow || total > RingConfiguration.maximumPoints {
            throw .tooManyPoints(requested: overflow ? Int.max : total, limit: RingConfiguration.maximumPoints)
        }
        return total
    }

    /// Writes the decimal digits of `value` right-aligned at the end of `buffer`; returns
    /// how many. (Go's `strconv.Itoa`, without allocating a String per label.)
    @inline(__always)
    static func writeDecimal(_ value: Int, into buffer: inout [UInt8]) -> Int {
        var v = value
        var at = buffer.count
        repeat {
            at -= 1
            buffer[at] = UInt8(truncatingIfNeeded: 48 + v % 10)
            v /= 10
        } while v > 0
        return buffer.count - at
    }

    /// Removes repeated points from a sorted list, keeping the first or the last of each run.
    static func dedupe(points: inout [UInt64], owners: inout [UInt32], keepLast: Bool) {
        guard points.count > 1 else { return }
        var w = 0
        var i = 0
        let n = points.count
        while i < n {
            var j = i
            while j + 1 < n && points[j + 1] == points[i] { j += 1 }
            points[w] = points[i]
            owners[w] = owners[keepLast ? j : i]
            w += 1
            i = j + 1
        }
        points.removeLast(n - w)
        owners.removeLast(n - w)
    }

    // MARK: - Basic properties

    /// The members, in the order given.
    public var members: [Member] { storage.members }
    /// How the ring was built.
    public var configuration: RingConfiguration { storage.configuration }
    /// Distinct points on the ring (≤ Σ weight × virtual nodes; CRC-32 labels can collide).
    public var pointCount: Int { storage.pointCount }
    /// Whether the ring has no members.
    public var isEmpty: Bool { storage.members.isEmpty }
    /// Memory held by this snapshot, in bytes.
    public var byteCount: Int { storage.byteCount }

    /// The position of the member with this name in ``members``.
    /// - Complexity: O(1) on average.
    public func index(of name: String) -> Int? { storage.memberIndex[name] }

    /// Whether `other` was built from the same members, weights and configuration.
    public func hasSameLayout(as other: RingSnapshot) -> Bool {
        storage === other.storage
            || (storage.configuration == other.storage.configuration && storage.members == other.storage.members)
    }
}
