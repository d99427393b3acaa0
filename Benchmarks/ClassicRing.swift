import Foundation

/// The baseline: a ring built like the classic Go design (stathat/consistent, which the
/// original provisioner used), so every figure can be reported as a ratio measured in the
/// same run on the same machine:
/// - one mutex guards the ring, taken on every lookup;
/// - the key is copied into a fresh byte array (Go's `[]byte(key)`);
/// - CRC-32 with the byte-at-a-time table (Go's generic `crc32.ChecksumIEEE` path);
/// - `sort.Search`-style binary search through a closure;
/// - a dictionary from point to owner name, returning the name (a retained String);
/// - membership added one server at a time, re-sorting all points after each add.
final class ClassicRing: @unchecked Sendable {
    private let lock = NSLock()
    private var circle: [UInt32: String] = [:]
    private var sortedHashes: [UInt32] = []
    private let replicas: Int
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        return c
    }

    init(replicas: Int = 255) { self.replicas = replicas }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    /// stathat's Add: labels `"<i><name>"`, map insert, then re-sort every point.
    func add(_ name: String) {
        lock.lock()
        defer { lock.unlock() }
        for i in 0..<replicas {
            circle[Self.crc32(Array((String(i) + name).utf8))] = name
        }
        sortedHashes = circle.keys.sorted()
    }

    func get(_ key: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        let h = Self.crc32(Array(key.utf8))
        let search: (Int) -> Bool = { self.sortedHashes[$0] > h }
        var lo = 0, hi = sortedHashes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if search(mid) { hi = mid } else { lo = mid + 1 }
        }
        if lo >= sortedHashes.count { lo = 0 }
        return circle[sortedHashes[lo]]!
    }
}
