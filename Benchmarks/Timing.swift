#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization
import Fixtures

/// Monotonic nanoseconds (clock_gettime, cheap enough to bracket million-lookup batches).
@inline(__always)
func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Where results go so the optimiser cannot drop the measured work: an atomic store is a
/// side effect it must keep (an empty `@inline(never)` function is not enough: LLVM sees
/// that it ignores its argument and deletes the computation).
let benchmarkSink = Atomic<UInt64>(0)

@inline(never)
func blackHole(_ value: UInt64) {
    benchmarkSink.store(value, ordering: .relaxed)
}

@inline(never)
func blackHole(_ value: Int) {
    benchmarkSink.store(UInt64(bitPattern: Int64(value)), ordering: .relaxed)
}

@inline(never)
func blackHole<T: AnyObject>(_ value: T) {
    benchmarkSink.store(UInt64(UInt(bitPattern: ObjectIdentifier(value).hashValue)), ordering: .relaxed)
}

/// Runs `body` (which performs `operations` operations) several times and returns the
/// median nanoseconds per operation. The median resists a noisy neighbour on a shared machine.
func measure(operations: Int, repetitions: Int = 5, _ body: () -> Void) -> Double {
    body()  // warm-up: caches, page faults, lazy globals
    var samples: [Double] = []
    for _ in 0..<repetitions {
        let start = nowNanos()
        body()
        samples.append(Double(nowNanos() - start) / Double(operations))
    }
    samples.sort()
    return samples[samples.count / 2]
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

/// Runs `work` on `threads` threads at once (each gets its index) and returns the wall
/// time in nanoseconds from the common start to the last finish.
func runConcurrently(threads: Int, _ work: @escaping @Sendable (Int) -> Void) -> UInt64 {
    let ready = DispatchSemaphore(value: 0)
    let go = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    for t in 0..<threads {
        done.enter()
        let thread = Thread {
            ready.signal()
            go.wait()
            work(t)
            done.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    for _ in 0..<threads { ready.wait() }
    let start = nowNanos()
    for _ in 0..<threads { go.signal() }
    done.wait()
    return nowNanos() - start
}

/// Claim keys as the provisioner sees them, `<namespace>-<pvc>`, 10-60 bytes.
func realisticKeys(count: Int, seed: UInt64) -> [String] {
    var rng = SeededGenerator(seed: seed)
    let namespaces = ["default", "team-a", "payments-prod", "ml-training", "observability", "ci", "data-platform-eu-west", "kube-system"]
    let claims = ["data-postgres", "redis-data", "kafka-logs", "elasticsearch-data-hot", "minio", "www", "prometheus-db", "home", "cache"]
    return (0..<count).map { _ in
        let ns = namespaces[Int(rng.next() % UInt64(namespaces.count))]
        let claim = claims[Int(rng.next() % UInt64(claims.count))]
        var key = "\(ns)-\(claim)-\(rng.next() % 1000)"
        if rng.next() % 3 == 0 { key += "-replica-\(rng.next() % 100)" }
        if key.utf8.count < 10 { key += "-volume" }
        return String(key.utf8.prefix(60))!
    }
}

/// Keys packed into one byte buffer with offsets: how a hot loop holds keys it already
/// has as bytes, so the figure is the ring's cost, not String reference counting.
/// Each thread gets its own arena (a private copy), so nothing is shared but the ring.
final class KeyArena: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let offsets: [Int]
    let count: Int

    init(_ keys: [String]) {
        var offsets = [0]
        for k in keys { offsets.append(offsets.last! + k.utf8.count) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(offsets.last!, 1), alignment: 64)
        for (i, k) in keys.enumerated() {
            var k = k
            k.withUTF8 { u in
                if let base = u.baseAddress { (buffer + offsets[i]).copyMemory(from: base, byteCount: u.count) }
            }
        }
        bytes = buffer
        self.offsets = offsets
        count = keys.count
    }

    deinit { bytes.deallocate() }

    @inline(__always)
    func key(_ i: Int) -> UnsafeRawBufferPointer {
        offsets.withUnsafeBufferPointer { o in
            UnsafeRawBufferPointer(start: bytes + o[i], count: o[i + 1] - o[i])
        }
    }
}
