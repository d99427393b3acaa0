/// CRC-32/IEEE (the zlib and Go `hash/crc32.ChecksumIEEE` checksum: reflected polynomial
/// 0xEDB88320, initial value and final xor 0xFFFFFFFF), computed in-project with
/// slicing-by-8: eight 256-entry tables let the loop fold eight input bytes per step
/// instead of one (about 4x the speed of the byte-at-a-time table; measured on these
/// machines: 12.5 ns for 32 bytes against zlib's 56.5 ns, docs/original-provisioner.md).
///
/// The check value of the standard test vector holds: `CRC32.checksum("123456789") ==
/// 0xCBF43926`.
public enum CRC32 {
    /// The reflected IEEE polynomial.
    public static let polynomial: UInt32 = 0xEDB8_8320

    /// The eight slicing tables, 8 × 256 entries, table k at offset k × 256. Built once,
    /// never freed (8 KiB), read-only afterwards, so sharing it between threads is safe.
    @usableFromInline nonisolated(unsafe) static let tables: UnsafePointer<UInt32> = {
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 {
                c = (c & 1) != 0 ? (c >> 1) ^ polynomial : c >> 1
            }
            t[n] = c
        }
        for n in 0..<256 {
            var c = t[n]
            for k in 1..<8 {
                c = t[Int(c & 0xFF)] ^ (c >> 8)
                t[k * 256 + n] = c
            }
        }
        return UnsafePointer(t)
    }()

    /// CRC-32/IEEE of `bytes`.
    ///
    /// - Complexity: O(n) in the number of bytes.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    /// CRC-32/IEEE of a string's UTF-8 bytes (no Unicode normalisation, as Go).
    public static func checksum(_ string: String) -> UInt32 {
        var s = string
        return s.withUTF8 { checksum(UnsafeRawBufferPointer($0)) }
    }

    /// Continues a checksum: `update(checksum(a), b) == checksum(a + b)`.
    @inlinable
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(crc, bytes, tables: tables)
    }

    /// The slicing-by-8 loop, with the tables passed in so a caller that keeps the
    /// pointer (the ring snapshot does) avoids the lazy-global check per call.
    @inlinable
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer, tables t: UnsafePointer<UInt32>) -> UInt32 {
        var c = ~crc
        guard var p = bytes.baseAddress else { return crc }
        var n = bytes.count
        while n >= 8 {
            let one = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) ^ c
            let two = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            c = t[7 * 256 + Int(one & 0xFF)]
                ^ t[6 * 256 + Int((one >> 8) & 0xFF)]
                ^ t[5 * 256 + Int((one >> 16) & 0xFF)]
                ^ t[4 * 256 + Int(one >> 24)]
                ^ t[3 * 256 + Int(two & 0xFF)]
                ^ t[2 * 256 + Int((two >> 8) & 0xFF)]
                ^ t[1 * 256 + Int((two >> 16) & 0xFF)]
                ^ t[Int(two >> 24)]
            p += 8
            n -= 8
        }
        while n > 0 {
            c = t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (c >> 8)
            p += 1
            n -= 1
        }
        return ~c
    }
}
