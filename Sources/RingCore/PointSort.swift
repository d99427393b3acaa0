/// A stable LSD radix sort of (point, owner) pairs by point, used to build rings.
///
/// Why not `sort(by:)`: a ring of 1000 members has 255,000 points and must build in well
/// under 50 ms; comparison sorts of 64-bit keys with a payload spend most of that on
/// comparisons and moves. Four 16-bit passes are linear, and passes whose digit is the same
/// for every point (the low 32 bits of CRC-32 points, which are zero) are skipped.
/// Stability is what the tie rules rely on: among equal points the input order survives.
enum PointSort {
    /// Sorts `points` ascending, permuting `owners` alongside; stable.
    static func sort(points: inout [UInt64], owners: inout [UInt32]) {
        let n = points.count
        precondition(owners.count == n, "points and owners must have the same length")
        if n < 2 { return }
        var srcP = points, srcO = owners
        var dstP = [UInt64](repeating: 0, count: n)
        var dstO = [UInt32](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 1 << 16)
        var shift: UInt64 = 0
        while shift < 64 {
            for i in 0..<counts.count { counts[i] = 0 }
            srcP.withUnsafeBufferPointer { sp in
                counts.withUnsafeMutableBufferPointer { c in
                    for p in sp { c[Int((p >> shift) & 0xFFFF)] += 1 }
                }
            }
            // A pass where every point has the same digit would not move anything.
            let first = Int((srcP[0] >> shift) & 0xFFFF)
            if counts[first] == n {
                shift += 16
                continue
            }
            var total = 0
            for i in 0..<counts.count {
                let c = counts[i]
                counts[i] = total
                total += c
            }
            srcP.withUnsafeBufferPointer { sp in
                srcO.withUnsafeBufferPointer { so in
                    dstP.withUnsafeMutableBufferPointer { dp in
                        dstO.withUnsafeMutableBufferPointer { dO in
                            counts.withUnsafeMutableBufferPointer { c in
                                for i in 0..<n {
                                    let p = sp[i]
                                    let d = Int((p >> shift) & 0xFFFF)
                                    let at = c[d]
                                    c[d] = at + 1
                                    dp[at] = p
                                    dO[at] = so[i]
                                }
                            }
                        }
                    }
                }
            }
            swap(&srcP, &dstP)
            swap(&srcO, &dstO)
            shift += 16
        }
        points = srcP
        owners = srcO
    }
}
