/// Sorting a ring's points for its build.
///
/// Why not a comparison sort of all points: a ring of 1000 members has 255,000 points and
/// must build in well under 50 ms. The ring's lookup index already splits the 64-bit space
/// into about one bucket per point by the top bits, so the sort is a counting sort into
/// those buckets (one histogram pass, one scatter pass) followed by sorting each bucket,
/// which holds one or two points for XXH3. CRC-32 points cluster (the labels of one member
/// are linear images of each other), so its buckets vary more; small buckets use insertion
/// sort, the rare large ones the standard library's sort.
///
/// Ties (equal points) are ordered by a caller-given tie key, so the result is the same
/// whatever the sort's stability.
enum PointSort {
    /// The number of top bits that index buckets for `count` points: about one point per
    /// bucket, at least 1 bit, at most 24.
    static func bucketBits(forPointCount count: Int) -> Int {
        var bits = 1
        while (1 << bits) < count && bits < 24 { bits += 1 }
        return bits
    }

    /// Sorts `points` ascending, permuting `owners` alongside; equal points are ordered by
    /// ascending `tieKey(owner)`.
    static func sort(points: inout [UInt64], owners: inout [UInt32], tieKey: (UInt32) -> UInt32) {
        let n = points.count
        precondition(owners.count == n, "points and owners must have the same length")
        if n < 2 { return }
        let bits = bucketBits(forPointCount: n)
        let shift = UInt64(64 - bits)
        var starts = [Int](repeating: 0, count: (1 << bits) + 1)
        var sortedPoints = [UInt64](repeating: 0, count: n)
        var sortedOwners = [UInt32](repeating: 0, count: n)
        points.withUnsafeBufferPointer { p in
            owners.withUnsafeBufferPointer { o in
                starts.withUnsafeMutableBufferPointer { s in
                    for x in p { s[Int(x >> shift) + 1] += 1 }
                    for b in 1..<s.count { s[b] += s[b - 1] }
                    var next = Array(s.dropLast())
                    sortedPoints.withUnsafeMutableBufferPointer { sp in
                        sortedOwners.withUnsafeMutableBufferPointer { so in
                            next.withUnsafeMutableBufferPointer { nx in
                                for i in 0..<n {
                                    let b = Int(p[i] >> shift)
                                    let at = nx[b]
                                    nx[b] = at + 1
                                    sp[at] = p[i]
                                    so[at] = o[i]
                                }
                            }
                            for b in 0..<(s.count - 1) where s[b + 1] - s[b] > 1 {
                                sortBucket(sp, so, from: s[b], to: s[b + 1], tieKey: tieKey)
                            }
                        }
                    }
                }
            }
        }
        points = sortedPoints
        owners = sortedOwners
    }

    private static func sortBucket(_ p: UnsafeMutableBufferPointer<UInt64>, _ o: UnsafeMutableBufferPointer<UInt32>,
                                   from: Int, to: Int, tieKey: (UInt32) -> UInt32) {
        @inline(__always) func less(_ a: (UInt64, UInt32), _ b: (UInt64, UInt32)) -> Bool {
            a.0 != b.0 ? a.0 < b.0 : tieKey(a.1) < tieKey(b.1)
        }
        if to - from <= 32 {
            for i in (from + 1)..<to {
                let item = (p[i], o[i])
                var j = i
                while j > from && less(item, (p[j - 1], o[j - 1])) {
                    p[j] = p[j - 1]
                    o[j] = o[j - 1]
                    j -= 1
                }
                p[j] = item.0
                o[j] = item.1
            }
        } else {
            var pairs = (from..<to).map { (p[$0], o[$0]) }
            pairs.sort(by: less)
            for (k, pair) in pairs.enumerated() {
                p[from + k] = pair.0
                o[from + k] = pair.1
            }
        }
    }
}
