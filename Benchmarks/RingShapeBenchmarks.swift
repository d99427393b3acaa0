import Foundation
import RingCore
import Fixtures

/// Build time, memory, remap and balance: the figures an operator reads to choose the
/// hash, the virtual-node count and the number of servers.
enum RingShapeBenchmarks {
    static func build(_ reporter: Reporter, quick: Bool) {
        var table = Table(
            id: "build", title: "Ring build time (255 virtual nodes)",
            note: "Median of 5 builds. Baseline: the classic design adding one server at a time and re-sorting after each add (quadratic; the Go library takes 19.5 s for N = 1000).",
            columns: ["N", "points", "crc32 ms", "xxh3 ms", "baseline ms", "x faster (crc32)", "bytes/snapshot (xxh3)"])
        for n in [3, 10, 100, 1000] {
            let members = randomServerNames(count: n, seed: UInt64(n) &+ 100).map { Member($0) }
            var ms: [RingHash: Double] = [:]
            var bytes = 0
            var points = 0
            for hash in RingHash.allCases {
                let config = RingConfiguration(hash: hash)
                ms[hash] = measure(operations: 1) { blackHole(try! RingSnapshot(members: members, configuration: config).pointCount) } / 1e6
                let s = try! RingSnapshot(members: members, configuration: config)
                if hash == .xxh3 { bytes = s.byteCount; points = s.pointCount }
            }
            var baseline = Double.nan
            if !(quick && n > 100) {
                baseline = measure(operations: 1, repetitions: n >= 1000 ? 1 : 3) {
                    let classic = ClassicRing()
                    for m in members { classic.add(m.name) }
                    blackHole(classic)
                } / 1e6
            }
            table.add(.integer(n), .integer(points), .number(ms[.crc32]!, digits: 3), .number(ms[.xxh3]!, digits: 3),
                      .number(baseline, digits: 1), .number(baseline / ms[.crc32]!, digits: 0), .integer(bytes))
        }
        reporter.emit(table)
    }

    static func memory(_ reporter: Reporter) {
        var table = Table(id: "memory", title: "Bytes per snapshot",
                          note: "Entries (point 8 B + owner 4 B, 16 B aligned) + bucket index (4 B per bucket, about one bucket per point) + owner slots (16 B per bucket) + member names.",
                          columns: ["N", "vnodes", "points", "bytes", "bytes/point"])
        for (n, v) in [(3, 255), (10, 255), (100, 255), (1000, 255), (10, 1000)] {
            let s = try! RingSnapshot(members: randomServerNames(count: n, seed: 5).map { Member($0) },
                                      configuration: RingConfiguration(virtualNodesPerMember: v, hash: .xxh3))
            table.add(.integer(n), .integer(v), .integer(s.pointCount), .integer(s.byteCount),
                      .number(Double(s.byteCount) / Double(s.pointCount), digits: 1))
        }
        reporter.emit(table)
    }

    static func remap(_ reporter: Reporter, quick: Bool) {
        let sets = quick ? 4 : 20
        var table = Table(
            id: "remap", title: "Keys moved when one server is added or removed (255 virtual nodes)",
            note: "Exact fraction of the hash space that changes server (from the arcs, no sampling), mean and worst over \(sets) random server-name sets; "
                + "ideal = 1/(N+1) on add, 1/N on remove. 'keys' = fraction of 100,000 realistic keys that moved in the first set (a cross-check).",
            columns: ["hash", "N", "add: mean", "add: worst", "ideal", "worst/ideal", "add: keys", "remove: mean", "remove: worst", "ideal"])
        let keys = realisticKeys(count: 100_000, seed: 9)
        for hash in RingHash.allCases {
            for n in [3, 5, 10, 50, 100] {
                var adds: [Double] = [], removes: [Double] = []
                var keyFraction = Double.nan
                for s in 0..<sets {
                    let names = randomServerNames(count: n + 1, seed: UInt64(1000 * n + s))
                    let config = RingConfiguration(hash: hash)
                    let base = try! RingSnapshot(members: names.dropLast().map { Member($0) }, configuration: config)
                    let grown = try! RingSnapshot(members: names.map { Member($0) }, configuration: config)
                    adds.append(base.remapShare(to: grown)!)
                    let shrunk = try! RingSnapshot(members: names.prefix(n - 1).map { Member($0) }, configuration: config)
                    removes.append(base.remapShare(to: shrunk)!)
                    if s == 0 { keyFraction = try! base.remap(to: grown, keys: keys).fraction }
                }
                let idealAdd = 1 / Double(n + 1), idealRemove = 1 / Double(n)
                let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(xs.count) }
                table.add(.text(hash.rawValue), .integer(n), .number(mean(adds), digits: 4), .number(adds.max()!, digits: 4),
                          .number(idealAdd, digits: 4), .number(adds.max()! / idealAdd, digits: 2), .number(keyFraction, digits: 4),
                          .number(mean(removes), digits: 4), .number(removes.max()!, digits: 4), .number(idealRemove, digits: 4))
            }
        }
        reporter.emit(table)
    }

    struct BalanceStats { var maxMean = 0.0, minMean = 0.0, cv = 0.0, worstMax = 0.0 }

    static func balance(members: [Member], configuration: RingConfiguration) -> (maxMean: Double, minMean: Double, cv: Double) {
        let shares = try! RingSnapshot(members: members, configuration: configuration).ownership().map(\.share)
        let mean = 1 / Double(shares.count)
        let variance = shares.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(shares.count)
        return (shares.max()! / mean, shares.min()! / mean, variance.squareRoot() / mean)
    }

    static func averaged(n: Int, vnodes: Int, hash: RingHash, sets: Int) -> BalanceStats {
        var s = BalanceStats()
        for i in 0..<sets {
            let members = randomServerNames(count: n, seed: UInt64(7919 * i + n)).map { Member($0) }
            let b = balance(members: members, configuration: RingConfiguration(virtualNodesPerMember: vnodes, hash: hash))
            s.maxMean += b.maxMean / Double(sets)
            s.minMean += b.minMean / Double(sets)
            s.cv += b.cv / Double(sets)
            s.worstMax = max(s.worstMax, b.maxMean)
        }
        return s
    }

    static func balance(_ reporter: Reporter, quick: Bool) {
        let sets = quick ? 3 : 10
        let columns = ["vnodes", "N", "xxh3 max/mean", "xxh3 min/mean", "xxh3 CV", "xxh3 worst max/mean",
                       "crc32 max/mean", "crc32 min/mean", "crc32 CV", "crc32 worst max/mean", "random-point CV 1/sqrt(v)"]
        func fill(_ table: inout Table, _ configs: [(Int, Int)]) {
            for (v, n) in configs {
                let x = averaged(n: n, vnodes: v, hash: .xxh3, sets: sets)
                let c = averaged(n: n, vnodes: v, hash: .crc32, sets: sets)
                table.add(.integer(v), .integer(n), .number(x.maxMean, digits: 3), .number(x.minMean, digits: 3), .number(x.cv, digits: 3),
                          .number(x.worstMax, digits: 3), .number(c.maxMean, digits: 3), .number(c.minMean, digits: 3),
                          .number(c.cv, digits: 3), .number(c.worstMax, digits: 3), .number(1 / Double(v).squareRoot(), digits: 3))
            }
        }
        let note = "Ownership share per server = sum of its arcs (exact). Mean over \(sets) random server-name sets (IPv4, IPv6, host names); worst = the worst set. "
            + "max/mean 1.20 means the busiest server gets 20% more claims than an even split."
        var byVnodes = Table(id: "balance-vnodes", title: "Balance vs virtual nodes (N = 10 servers)", note: note, columns: columns)
        fill(&byVnodes, [20, 50, 100, 255, 500, 1000].map { ($0, 10) })
        reporter.emit(byVnodes)
        var byServers = Table(id: "balance-servers", title: "Balance vs servers (255 virtual nodes)", note: note, columns: columns)
        fill(&byServers, [3, 5, 10, 50, 100].map { (255, $0) })
        reporter.emit(byServers)

        var anchor = Table(id: "balance-anchor", title: "The original's servers 10.0.0.1 ... 10.0.0.10",
                           note: "Reference (docs/original-provisioner.md): stathat CRC-32 at 255 vnodes gives max/mean 1.55, CV 0.31; at 1000 vnodes max/mean 1.17.",
                           columns: ["hash", "vnodes", "max/mean", "min/mean", "CV"])
        let tens = (1...10).map { Member("10.0.0.\($0)") }
        for hash in [RingHash.crc32, .xxh3] {
            for v in [255, 1000] {
                let b = balance(members: tens, configuration: RingConfiguration(virtualNodesPerMember: v, hash: hash))
                anchor.add(.text(hash.rawValue), .integer(v), .number(b.maxMean, digits: 3), .number(b.minMean, digits: 3), .number(b.cv, digits: 3))
            }
        }
        reporter.emit(anchor)
    }
}
