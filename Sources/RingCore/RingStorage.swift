/// The memory behind one ring snapshot: sorted points, their owners and a bucket index.
///
/// Immutable after `init` and freed in `deinit`, so any number of threads may read it at
/// once (hence `@unchecked Sendable`: the raw pointers are never written after init).
///
/// Layout (all points in one 64-bit space so both hashes share the search):
/// - `points[0..<pointCount]`: distinct, ascending. An XXH3 point is its 64-bit hash; a
///   CRC-32 point is its 32-bit hash shifted into the top half (`crc << 32`), which keeps
///   order and "strictly greater" exactly as in 32 bits.
/// - `owners[i]`: index into `members` of the member owning `points[i]`.
/// - `buckets[b]` for b in 0...bucketCount: index of the first point whose top `bits`
///   bits are ≥ b. A key with top bits b can only land in `points[buckets[b]...buckets[b+1]]`,
///   so a lookup is two loads and a search over about one point instead of log2(P) steps
///   through cold memory.
final class RingStorage: @unchecked Sendable {
    let configuration: RingConfiguration
    let members: [Member]
    let memberIndex: [String: Int]
    let pointCount: Int
    let points: UnsafeMutablePointer<UInt64>
    let owners: UnsafeMutablePointer<UInt32>
    let bucketShift: UInt64
    let bucketCount: Int
    let buckets: UnsafeMutablePointer<UInt32>
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
        points = .allocate(capacity: max(count, 1))
        owners = .allocate(capacity: max(count, 1))
        for i in 0..<count {
            points[i] = sortedPoints[i]
            owners[i] = ownerList[i]
        }

        // About one point per bucket: bits = ceil(log2(points)), at least 1.
        var bits: UInt64 = 1
        while (1 << bits) < count && bits < 24 { bits += 1 }
        bucketShift = 64 - bits
        bucketCount = 1 << Int(bits)
        buckets = .allocate(capacity: bucketCount + 1)
        var j = 0
        for b in 0..<bucketCount {
            while j < count && Int(sortedPoints[j] >> (64 - bits)) < b { j += 1 }
            buckets[b] = UInt32(j)
        }
        buckets[bucketCount] = UInt32(count)
        crcTables = CRC32.tables
    }

    deinit {
        points.deallocate()
        owners.deallocate()
        buckets.deallocate()
    }

    /// Bytes this snapshot holds: points, owners, bucket index and member names.
    var byteCount: Int {
        var total = MemoryLayout<RingStorage>.size + pointCount * (8 + 4) + (bucketCount + 1) * 4
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

    /// Index of the first point strictly greater than `position`, wrapping past the end
    /// to 0. Requires `pointCount > 0`.
    @inline(__always)
    func successor(of position: UInt64) -> Int {
        let b = Int(truncatingIfNeeded: position >> bucketShift)
        var lo = Int(buckets[b])
        var len = Int(buckets[b + 1]) - lo
        // Lower-bound style search for the first point > position within the bucket.
        while len > 0 {
            let half = len >> 1
            let mid = lo + half
            if points[mid] <= position {
                lo = mid + 1
                len -= half + 1
            } else {
                len = half
            }
        }
        return lo == pointCount ? 0 : lo
    }
}
