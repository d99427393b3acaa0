import Foundation
@testable import RingCore

/// SplitMix64: a tiny deterministic generator so every property test has a fixed seed
/// and a failure can be replayed from the seed it prints.
struct SeededGenerator: RandomNumberGenerator {
    private(set) var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixtures {
    /// Lines of a tab-separated fixture, split on bytes so no Unicode processing can
    /// change a key (the ring hashes raw UTF-8 bytes).
    static func tsv(_ name: String) throws -> [[String]] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "tsv", subdirectory: "Fixtures") else {
            throw FixtureError.missing(name)
        }
        let data = try Data(contentsOf: url)
        return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map { line in
            line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
        }
    }

    enum FixtureError: Error { case missing(String) }
}

/// Realistic claim keys, `<namespace>-<pvc>`, 10-60 bytes.
func claimKeys(count: Int, seed: UInt64) -> [String] {
    var rng = SeededGenerator(seed: seed)
    let namespaces = ["default", "team-a", "payments", "ml-training", "observability", "kube-system", "data", "ci"]
    let apps = ["postgres", "redis", "kafka", "elastic", "minio", "grafana", "prometheus", "mysql", "etcd"]
    return (0..<count).map { i in
        let ns = namespaces[Int(rng.next() % UInt64(namespaces.count))]
        let app = apps[Int(rng.next() % UInt64(apps.count))]
        return "\(ns)-data-\(app)-\(rng.next() % 500)-\(i)"
    }
}

/// Random server names like an operator's: addresses and host names.
func serverNames(count: Int, seed: UInt64) -> [String] {
    var rng = SeededGenerator(seed: seed)
    var names = Set<String>()
    var result: [String] = []
    while result.count < count {
        let name: String
        switch rng.next() % 3 {
        case 0: name = "10.\(rng.next() % 256).\(rng.next() % 256).\(rng.next() % 256)"
        case 1: name = "nfs-\(rng.next() % 100_000).example.com"
        default: name = "fd00::\(String(rng.next() % 65536, radix: 16))"
        }
        if names.insert(name).inserted { result.append(name) }
    }
    return result
}
