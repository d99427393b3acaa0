import Foundation
@testable import RingCore
import TestSupport

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
