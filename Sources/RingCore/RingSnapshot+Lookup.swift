extension RingSnapshot {
    /// The member a key is placed on.
    ///
    /// ```swift
    /// let member = try snapshot.locate("team-a-data-db-0")
    /// ```
    /// - Throws: ``RingError/emptyRing`` if the ring has no members.
    /// - Complexity: O(k) to hash a k-byte key, then O(1) on average: one owner-slot read
    ///   (most buckets), else a search over the few points in the bucket (O(log P) at worst).
    public func locate(_ key: String) throws(RingError) -> Member {
        storage.members[try locateIndex(key)]
    }

    /// The position in ``members`` of the member a key is placed on. The hot path: it
    /// copies nothing and touches no reference count (``locate(_:)`` copies the `Member`,
    /// which retains a long name's storage).
    ///
    /// - Throws: ``RingError/emptyRing`` if the ring has no members.
    /// - Complexity: as ``locate(_:)``.
    @inline(__always)
    public func locateIndex(_ key: String) throws(RingError) -> Int {
        let s = storage
        guard s.pointCount > 0 else { throw .emptyRing }
        let position = withUTF8Bytes(of: key) { s.position(of: $0) }
        return s.ownerOfSuccessor(of: position)
    }

    /// The member for a key given as raw bytes (any bytes, not only UTF-8): the path for
    /// callers that hold keys in their own buffers.
    /// - Complexity: as ``locate(_:)``.
    @inline(__always)
    public func locateIndex(bytes: UnsafeRawBufferPointer) throws(RingError) -> Int {
        let s = storage
        guard s.pointCount > 0 else { throw .emptyRing }
        return s.ownerOfSuccessor(of: s.position(of: bytes))
    }

    /// Up to `count` distinct members in ring order starting at the key's point: the
    /// first is ``locate(_:)``, the rest are where the key spills over when earlier ones
    /// are full, draining or down. Fewer than `count` when the ring has fewer members.
    ///
    /// ```swift
    /// let order = try snapshot.candidates("team-a-data-db-0", count: 3).map(\.name)
    /// ```
    /// - Throws: ``RingError/emptyRing`` if the ring has no members.
    /// - Complexity: O(P) at worst (walks points until `count` distinct owners are seen);
    ///   typically about count × (P / members) / members steps.
    public func candidates(_ key: String, count: Int) throws(RingError) -> [Member] {
        try candidateIndices(key, count: count).map { storage.members[$0] }
    }

    /// As ``candidates(_:count:)``, as positions in ``members``.
    public func candidateIndices(_ key: String, count: Int) throws(RingError) -> [Int] {
        let s = storage
        guard s.pointCount > 0 else { throw .emptyRing }
        let wanted = min(max(count, 0), s.members.count)
        guard wanted > 0 else { return [] }
        let start = s.successor(of: withUTF8Bytes(of: key) { s.position(of: $0) })
        var result: [Int] = []
        result.reserveCapacity(wanted)
        var seen = [Bool](repeating: false, count: s.members.count)
        var i = start
        for _ in 0..<s.pointCount {
            let owner = s.owner(i)
            if !seen[owner] {
                seen[owner] = true
                result.append(owner)
                if result.count == wanted { break }
            }
            i += 1
            if i == s.pointCount { i = 0 }
        }
        return result
    }
}
