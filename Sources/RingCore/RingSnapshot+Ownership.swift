/// One member's share of the hash space.
public struct MemberShare: Sendable, Hashable {
    /// The member.
    public var member: Member
    /// Fraction of the hash space it owns, 0...1: the sum of its arcs over 2^bits.
    public var share: Double
    /// Its distinct points on the ring.
    public var points: Int
}

extension RingSnapshot {
    /// Each member's exact share of the hash space, in ``members`` order: the sum of the
    /// arcs that end at its points (a key in `[p(j-1), p(j))` goes to the owner of `p(j)`),
    /// computed from the ring itself, no sampling. Shares sum to 1 (for a non-empty ring).
    ///
    /// ```swift
    /// for s in snapshot.ownership() { print(s.member.name, s.share) }
    /// ```
    /// - Complexity: O(P).
    public func ownership() -> [MemberShare] {
        let s = storage
        var arcs = [UInt128](repeating: 0, count: s.members.count)
        var counts = [Int](repeating: 0, count: s.members.count)
        let n = s.pointCount
        if n == 1 {
            arcs[s.owner(0)] = 1 << 64
            counts[s.owner(0)] = 1
        } else if n > 1 {
            var previous = s.point(n - 1)
            for j in 0..<n {
                let p = s.point(j)
                let owner = s.owner(j)
                arcs[owner] += UInt128(p &- previous)  // wraps for j == 0: 2^64 - last + first
                counts[owner] += 1
                previous = p
            }
        }
        let whole = Double(sign: .plus, exponent: 64, significand: 1)
        return s.members.indices.map { i in
            MemberShare(member: s.members[i], share: Double(arcs[i]) / whole, points: counts[i])
        }
    }

    /// The exact fraction of the hash space whose owner (by member name) differs between
    /// this ring and `other`: what a uniformly random key set moves, in expectation.
    /// Both rings must use the same hash (a key's position depends on it); across hashes
    /// the result is nil. An empty ring on either side gives nil.
    ///
    /// - Complexity: O(P + P') — one merge of the two sorted point lists.
    public func remapShare(to other: RingSnapshot) -> Double? {
        let a = storage, b = other.storage
        guard a.configuration.hash == b.configuration.hash, a.pointCount > 0, b.pointCount > 0 else { return nil }
        // Map b's member positions to a's (by name); -1 = not in a.
        let bToA: [Int] = b.members.map { a.memberIndex[$0.name] ?? -1 }
        // Sweep the union of boundaries. For a position h, the owner on each ring is the
        // owner of the successor point; it changes only at points of either ring.
        var i = 0, j = 0
        var moved: UInt128 = 0
        var previous: UInt64 = 0
        // Owners for positions in [0, min(first points)): successor of 0 in each ring.
        while i < a.pointCount || j < b.pointCount {
            let pa = i < a.pointCount ? a.point(i) : UInt64.max
            let pb = j < b.pointCount ? b.point(j) : UInt64.max
            let boundary = min(pa, pb)
            let ownerA = a.owner(i < a.pointCount ? i : 0)
            let ownerB = bToA[b.owner(j < b.pointCount ? j : 0)]
            if ownerA != ownerB { moved += UInt128(boundary - previous) }
            previous = boundary
            if pa == boundary { i += 1 }
            if pb == boundary { j += 1 }
        }
        // The tail [previous, 2^64): both wrap to their first points.
        let ownerA = a.owner(0)
        let ownerB = bToA[b.owner(0)]
        if ownerA != ownerB { moved += (UInt128(1) << 64) - UInt128(previous) }
        return Double(moved) / Double(sign: .plus, exponent: 64, significand: 1)
    }
}
