import Foundation
import RingCore
import Fixtures

/// Placement cost: ns per lookup and lookups/s, one thread and all cores, against the
/// classic baseline measured in the same run.
enum LookupBenchmarks {
    static let sizes = [3, 10, 100, 1000]

    static func run(_ reporter: Reporter, quick: Bool) {
        let keys = realisticKeys(count: 1 << 16, seed: 1)
        let mask = keys.count - 1
        let perBatch = quick ? 200_000 : 2_000_000
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var table = Table(
            id: "lookup",
            title: "Placement cost (255 virtual nodes, realistic 10-60 byte keys)",
            note: "ns/lookup is the median of 7 batches of \(perBatch.formatted()) lookups on one thread (Ring.Reader: generation check + locateIndex over key bytes held in a buffer); "
                + "'ns from String' takes each key from a [String] (adds the String's reference counting). "
                + "'all cores' runs \(cores) threads at once, each with its own reader; scaling = all-core lookups/s ÷ one-thread lookups/s. "
                + "Baseline: the classic Go design (ClassicRing.swift) in the same run; 'x faster' = baseline ns ÷ ours.",
            columns: ["ring", "N", "ns/lookup", "ns from String", "lookups/s (1 thread)", "lookups/s (\(cores) cores)", "scaling", "baseline ns", "baseline \(cores) cores/s", "x faster"])
        for n in sizes {
            let names = randomServerNames(count: n, seed: UInt64(n))
            let classic = ClassicRing()
            for name in names { classic.add(name) }
            let baselineNs = measure(operations: perBatch / 4) {
                var sum = 0
                for i in 0..<(perBatch / 4) { sum &+= classic.get(keys[i & mask]).utf8.count }
                blackHole(sum)
            }
            let baselineAll = Double(perBatch / 4 * cores) / (Double(runConcurrently(threads: cores) { _ in
                var sum = 0
                for i in 0..<(perBatch / 4) { sum &+= classic.get(keys[i & mask]).utf8.count }
                blackHole(sum)
            }) / 1e9)
            for hash in RingHash.allCases {
                let ring = try! Ring(members: names.map { Member($0) }, configuration: RingConfiguration(hash: hash))
                let arena = KeyArena(keys)
                let arenas = (0..<cores).map { _ in KeyArena(keys) }
                // One thread and all cores alternate, 7 rounds, medians of each: a noisy
                // neighbour on a shared machine then hits both sides of the ratio alike.
                var singles: [Double] = [], multis: [Double] = [], strings: [Double] = []
                for _ in 0..<(quick ? 3 : 7) {
                    singles.append(measure(operations: perBatch, repetitions: 1) {
                        var reader = ring.makeReader()
                        var sum = 0
                        for i in 0..<perBatch { sum &+= (try? reader.locateIndex(bytes: arena.key(i & mask))) ?? 0 }
                        blackHole(sum)
                    })
                    let wall = runConcurrently(threads: cores) { t in
                        var reader = ring.makeReader()
                        let own = arenas[t]
                        var sum = 0
                        for i in 0..<perBatch { sum &+= (try? reader.locateIndex(bytes: own.key((i &+ t &* 7919) & mask))) ?? 0 }
                        blackHole(sum)
                    }
                    multis.append(Double(perBatch * cores) / (Double(wall) / 1e9))
                    strings.append(measure(operations: perBatch / 4, repetitions: 1) {
                        var reader = ring.makeReader()
                        var sum = 0
                        for i in 0..<(perBatch / 4) { sum &+= (try? reader.locateIndex(keys[i & mask])) ?? 0 }
                        blackHole(sum)
                    })
                }
                let ns = median(singles)
                let single = 1e9 / ns
                let all = median(multis)
                table.add(.text(hash.rawValue), .integer(n), .number(ns, digits: 1), .number(median(strings), digits: 1), .integer(Int(single)),
                          .integer(Int(all)), .number(all / single, digits: 2), .number(baselineNs, digits: 1), .integer(Int(baselineAll)),
                          .number(baselineNs / ns, digits: 1))
            }
        }
        reporter.emit(table)
    }

    /// Hash functions alone, per key, to show where a lookup's time goes.
    static func runHashes(_ reporter: Reporter, quick: Bool) {
        let keys = realisticKeys(count: 1 << 16, seed: 2)
        let mask = keys.count - 1
        let ops = quick ? 200_000 : 2_000_000
        let meanLength = Double(keys.reduce(0) { $0 + $1.utf8.count }) / Double(keys.count)
        var table = Table(id: "hash", title: "Key hashing alone (mean key \(String(format: "%.1f", meanLength)) bytes)",
                          note: "ns per key from key bytes held in a buffer, median of 5 batches (through a closure call). "
                              + "'mixed lengths': the realistic keys (10-60 bytes, so the hash's length branches mispredict); "
                              + "'32 bytes': the same keys cut or padded to 32 bytes, as in the reference figures "
                              + "(docs/original-provisioner.md: XXH3 4.1 ns, slicing-by-8 12.5 ns).",
                          columns: ["hash", "ns/key, mixed lengths", "ns/key, 32 bytes"])
        let arena = KeyArena(keys)
        let fixed = KeyArena(keys.map { key in
            let padded = Array(key.utf8.prefix(32)) + Array(repeating: UInt8(ascii: "x"), count: max(0, 32 - key.utf8.count))
            return String(decoding: padded, as: UTF8.self)
        })
        func row(_ name: String, _ f: @escaping (UnsafeRawBufferPointer) -> UInt64) {
            let ns = [arena, fixed].map { keys in
                measure(operations: ops) {
                    var acc: UInt64 = 0
                    for i in 0..<ops { acc &+= f(keys.key(i & mask)) }
                    blackHole(acc)
                }
            }
            table.add(.text(name), .number(ns[0], digits: 1), .number(ns[1], digits: 1))
        }
        row("XXH3-64, inlined from libxxhash's header") { XXH3.hash($0) }
        row("XXH3-64, libxxhash.so call") { XXH3.hashLinked($0) }
        row("CRC-32 slicing-by-8 (ours)") { UInt64(CRC32.checksum($0)) }
        row("CRC-32 byte table (baseline, copied key)") { UInt64(ClassicRing.crc32(Array($0))) }
        reporter.emit(table)
    }
}
