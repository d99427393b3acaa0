/// SplitMix64: a small deterministic generator, so every randomised test and benchmark
/// input comes from a fixed seed and a failure can be replayed from the seed it prints.
/// (LocalCluster has its own for fault injection: a library does not depend on test code.)
package struct SeededGenerator: RandomNumberGenerator, Sendable {
    package private(set) var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` distinct server names as operators write them: IPv4 addresses, host names and
/// IPv6 addresses, from `seed`.
package func randomServerNames(count: Int, seed: UInt64) -> [String] {
    var rng = SeededGenerator(seed: seed)
    var seen = Set<String>()
    var names: [String] = []
    while names.count < count {
        let name: String
        switch rng.next() % 3 {
        case 0: name = "10.\(rng.next() % 256).\(rng.next() % 256).\(rng.next() % 256)"
        case 1: name = "nfs-\(rng.next() % 1_000_000).storage.example.com"
        default: name = "fd00:\(String(rng.next() % 65536, radix: 16))::\(String(rng.next() % 65536, radix: 16))"
        }
        if seen.insert(name).inserted { names.append(name) }
    }
    return names
}
