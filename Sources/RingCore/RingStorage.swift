/// The memory behind one ring snapshot: sorted points, their owners and a bucket index.
///
/// Immutable after `init` and freed in `deinit`, so any number of threads may read it at
/// once (hence `@unchecked Sendable`: the raw pointers are never written after init).
///
/// Layout (all points in one 64-bit space so both hashes share the search):
/// - `entries[0..<pointCount]`: (point, owner) pairs, points distinct and ascending, the
///   owner (an index into `members`) next to its point so a lookup touches one cache line
///   for both. An XXH3 point is its 64-bit hash; a CRC-32 point is its 32-bit hash shifted
///   into the top half (`crc << 32`), which keeps order and "strictly greater" exactly as
///   in 32 bits.
/// - `buckets[b]` for b in 0...bucketCount: index of the first point whose top `bits`
///   bits are ≥ b. A key with top bits b can only land in `points[buckets[b]...buckets[b+1]]`,
///   so a lookup is two loads and a search over about one point instead of log2(P) steps
///   through cold memory.
/// - `slots[b]`: the answer for bucket b in one 16-byte read, for the buckets that hold at
///   most one point (three in four at about one point per bucket, more in smaller rings):
///   the bucket's point and the owners of the positions below it and at or above it. A
///   crowded bucket's slot holds its start and count instead. `locateIndex` reads only
///   the slot for most keys, so a lookup in a large ring (9 MiB for 1000 members) makes
///   one read that misses the caches instead of two dependent ones.
final class RingStorage: @unchecked Sendable {
    let configuration: RingConfiguration
    let members: [Member]
    let memberIndex: [String: Int]
    let pointCount: Int
    let entries: UnsafeMutablePointer<Entry>
    let bucketShift: UInt64
    let bucketCount: Int
    let buckets: UnsafeMutablePointer<UInt32>
    let slots: UnsafeMutablePointer<OwnerSlot>
    let crcTables: UnsafePointer<UInt32>

    init(configuration: RingConfiguration, members: [Member], sortedPoints: [UInt64], owners ownerList: [UInt32]) {
        self.configuration = configuration
        self.members = members
        var index: [String: Int] = [:]
        index.reserveCapacity(members.count)
        for (i, m) in members.enumerated() { index[m.name] = i }
        self.memberIndex = index
        let count = sortedPoints.count
        self.pointCount = count
        entries = LargeAllocation.allocate(Entry.self, count: count + Self.window)
        for i in 0..<count {
            entries[i] = Entry(point: sortedPoints[i], owner: ownerList[i])
        }
        // Sentinels after the last point, so the fixed window of `successor` may read past
        // the end: they compare greater than every position but UInt64.max, which wraps anyway.
        for i in count..<(count + Self.window) {
            entries[i] = Entry(point: .max, owner: 0)
        }

        // About one point per bucket: bits = ceil(log2(points)), at least 1.
        let bits = UInt64(PointSort.bucketBits(forPointCount: count))
        bucketShift = 64 - bits
        bucketCount = 1 << Int(bits)
        buckets = LargeAllocation.allocate(UInt32.self, count: bucketCount + 1)
        var j = 0
        for b in 0..<bucketCount {
            while j < count && Int(sortedPoints[j] >> (64 - bits)) < b { j += 1 }
            buckets[b] = UInt32(j)
        }
        buckets[bucketCount] = UInt32(count)

        slots = LargeAllocation.allocate(OwnerSlot.self, count: bucketCount)
        for b in 0..<bucketCount {
            let start = Int(buckets[b])
            let k = Int(buckets[b + 1]) - start
            // The first point after the bucket's last one (wrapping), owner of the rest.
            let next = start + k < count ? start + k : 0
            switch k {
            case 0:
                let owner = count > 0 ? ownerList[next] : 0
                slots[b] = OwnerSlot(point: 0, below: owner, above: owner)
            case 1:
                slots[b] = OwnerSlot(point: sortedPoints[start], below: ownerList[start], above: ownerList[next])
            default:
                slots[b] = OwnerSlot(point: UInt64(start), below: OwnerSlot.crowded, above: UInt32(k))
            }
        }
        crcTables = CRC32.tables
    }

    deinit {
        LargeAllocation.free(entries)
        LargeAllocation.free(buckets)
        LargeAllocation.free(slots)
    }

    /// Bytes this snapshot holds: points, owners, bucket index, owner slots and member names.
    var byteCount: Int {
        var total = MemoryLayout<RingStorage>.size + (pointCount + Self.window) * MemoryLayout<Entry>.stride + (bucketCount + 1) * 4
            + bucketCount * MemoryLayout<OwnerSlot>.stride
        for m in members { total += MemoryLayout<Member>.stride + m.name.utf8.count }
        total += memberIndex.count * (MemoryLayout<String>.stride + MemoryLayout<Int>.stride)
        return total
    }

    /// The 64-bit ring position of a key's UTF-8 bytes.
    @inline(__always)
    func position(of bytes: UnsafeRawBufferPointer) -> UInt64 {
        switch configuration.hash {
        case .crc32:
            return UInt64(CRC32.update(0, bytes, tables: crcTables)) << 32
        case .xxh3:
            return XXH3.hash(bytes)
        }
    }

    /// Points examined at once by `successor`'s fast path.
    static let window = 4

    /// Index of the first point strictly greater than `position`, wrapping past the end
    /// to 0. Requires `pointCount > 0`.
    ///
    /// The fast path (a bucket of at most `window` points, nearly all of them since buckets
    /// hold about one point) counts the points ≤ position among the `window` entries from
    /// the bucket's start with no data-dependent branch: entries past the bucket belong to
    /// later buckets (or are sentinels) and so are all greater than `position`. A larger
    /// bucket (CRC-32's clustered points make some) takes a branch-free binary search.
    @inline(__always)
    func successor(of position: UInt64) -> Int {
        let b = Int(truncatingIfNeeded: position >> bucketShift)
        let base = Int(buckets[b])
        return successor(of: position, base: base, count: Int(buckets[b + 1]) - base)
    }

    /// The owner (an index into `members`) of the first point strictly greater than
    /// `position`, wrapping: `owner(successor(of: position))`, from the slot alone when the
    /// position's bucket holds at most one point. Requires `pointCount > 0`.
    @inline(__always)
    func ownerOfSuccessor(of position: UInt64) -> Int {
        let slot = slots[Int(truncatingIfNeeded: position >> bucketShift)]
        if slot.below != OwnerSlot.crowded {
            return Int(position < slot.point ? slot.below : slot.above)
        }
        return owner(successor(of: position, base: Int(truncatingIfNeeded: slot.point), count: Int(slot.above)))
    }

    /// `successor(of:)` within a bucket that starts at `base` and holds `count` points.
    @inline(__always)
    func successor(of position: UInt64, base start: Int, count: Int) -> Int {
        var base = start
        var n = count
        if n <= Self.window {
            let e = entries + base
            base += (e[0].point <= position ? 1 : 0) + (e[1].point <= position ? 1 : 0)
                + (e[2].point <= position ? 1 : 0) + (e[3].point <= position ? 1 : 0)
        } else {
            // The answer stays in [base, base + n]; the comparison becomes a conditional move.
            while n > 1 {
                let half = n >> 1
                base = entries[base + half - 1].point <= position ? base + half : base
                n -= half
            }
            if entries[base].point <= position { base += 1 }
        }
        return base >= pointCount ? 0 : base
    }

    @inline(__always)
    func point(_ i: Int) -> UInt64 { entries[i].point }

    @inline(__always)
    func owner(_ i: Int) -> Int { Int(entries[i].owner) }
}

/// One virtual node: its point and the index of its member.
struct Entry {
    var point: UInt64
    var owner: UInt32
}

/// One bucket's lookup answer (see ``RingStorage``): positions below `point` belong to
/// `below`, the others to `above`. An empty bucket has both owners equal. A crowded one
/// (two or more points) has `below == crowded`, its first point's index in `point` and
/// its point count in `above`.
struct OwnerSlot {
    var point: UInt64
    var below: UInt32
    var above: UInt32

    /// Never a member index: a ring holds fewer than `UInt32.max` members.
    static let crowded = UInt32.max
}
