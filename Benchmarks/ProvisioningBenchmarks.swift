// Provisioning throughput through the real engine and LocalCluster, on three direct NFS
// members served by nfs-ganesha on loopback: all up, and one of them SIGSTOPped.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import LocalCluster
import NFSServerHarness
import Synchronization
import Fixtures

/// `swift run -c release Benchmarks provisioning`.
///
/// Each round starts a LocalCluster and an engine as the daemon builds it (production
/// timeouts: NFS calls 5 s, member operations 10 s, probes 5 s; 4 claim workers) on three
/// `mode: direct` members, creates `claims` claims of one StorageClass in a fresh
/// namespace, and polls the API (every 10 ms) until every claim has its PV. Claims/s is
/// claims over the time from the first create to the last PV; latency is per claim, from
/// its create to its PV being seen (watch delay, placement survey, NFS work, PV create).
///
/// Scenarios:
/// - `all up`;
/// - `1 stopped (new)`: member b is SIGSTOPped just before the claims come, still
///   healthy as far as the engine knows, so the first claims' surveys wait one NFS timeout
///   on it (every claim's survey looks at every member) before b is marked unhealthy;
/// - `1 stopped (known)`: b was stopped and a probe has already marked it unhealthy, so
///   placement skips it at once and its claims spill over.
///
/// The same three servers serve every round (b gets SIGCONT after each). If they cannot be
/// started, the table says why instead of measuring.
enum ProvisioningBenchmarks {
    enum Scenario: String, CaseIterable, Sendable {
        case allUp = "all up"
        case stoppedNew = "1 stopped (new)"
        case stoppedKnown = "1 stopped (known)"
    }

    struct Round: Sendable {
        var scenario: Scenario
        var seconds: Double
        var latenciesMs: [Double]
        var onStopped: Int
    }

    static func run(_ reporter: Reporter, quick: Bool) {
        let claims = quick ? 30 : 120
        let rounds = quick ? 1 : 3
        var table = Table(
            id: "provisioning-throughput",
            title: "Provisioning throughput, 3 direct NFSv3 members (nfs-ganesha), \(claims) claims per round, median of \(rounds) round(s)",
            note: "Real engine + LocalCluster over HTTP, production timeouts (NFS call 5 s, operation 10 s), 4 claim workers. "
                + "Latency: claim created → PV seen. \"new\": b stopped just before the claims, so the claims first placed on it wait out one NFS timeout (then b is unhealthy and they go elsewhere); "
                + "\"known\": b already marked unhealthy. Shared 2-core machine: compare within a run.",
            columns: ["scenario", "claims/s", "seconds", "median ms", "p90 ms", "max ms", "PVs on b"])
        let servers: [GaneshaServer]
        do {
            servers = try (0..<3).map { _ throws(HelperError) in try GaneshaServer.startBlocking() }
        } catch {
            table = Table(id: table.id, title: table.title, note: table.note + " Not measured: \(error.summary).", columns: table.columns)
            reporter.emit(table)
            return
        }
        defer { for server in servers { server.stop() } }

        let results = Mutex<Result<[Round], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            var all: [Round] = []
            do {
                for scenario in Scenario.allCases {
                    for round in 0..<rounds {
                        all.append(try await measure(scenario, round: round, servers: servers, claims: claims))
                    }
                }
                results.withLock { $0 = .success(all) }
            } catch {
                results.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()

        switch results.withLock({ $0 }) {
        case .success(let all):
            for scenario in Scenario.allCases {
                let mine = all.filter { $0.scenario == scenario }
                let seconds = median(mine.map(\.seconds))
                let latencies = mine.flatMap(\.latenciesMs)
                table.add(.text(scenario.rawValue), .number(Double(claims) / seconds, digits: 1), .number(seconds, digits: 2),
                          .number(percentile(latencies, 0.5), digits: 0), .number(percentile(latencies, 0.9), digits: 0),
                          .number(latencies.max() ?? .nan, digits: 0), .integer(mine.map(\.onStopped).max() ?? 0))
            }
        case .failure(let error):
            table = Table(id: table.id, title: table.title, note: table.note + " Failed: \(error).", columns: table.columns, rows: table.rows)
        case nil:
            break
        }
        reporter.emit(table)
    }

    /// One round: a fresh cluster and engine, `claims` claims, until every PV exists.
    private static func measure(_ scenario: Scenario, round: Int, servers: [GaneshaServer], claims: Int) async throws -> Round {
        let bed = try await EngineTestBed.start()
        let stopped = servers[1]
        do {
            try await bed.createClass("nfs")
            let configuration = bed.configuration(zip(["a", "b", "c"], servers).map { $1.memberConfiguration(name: $0) })
            let run = try bed.startEngine(configuration) { options in
                // What the daemon runs with (the test bed's are shortened for tests).
                options.storeFactory = MemberRegistry.standardFactory(requireMountPoints: false)
                options.storage = .default
                options.engine.backoff = .default
                options.engine.volumeCreateRetryDelay = .seconds(1)
            }
            try await bed.waitUntil("engine ready") { await run.engine.readiness().ready }
            switch scenario {
            case .allUp:
                break
            case .stoppedNew:
                await stopped.suspend()
            case .stoppedKnown:
                await stopped.suspend()
                if let member = run.engine.registry.entry("b")?.storage {
                    do {
                        try await member.probe()
                    } catch {
                        // Expected: the probe times out, which marks b unhealthy.
                    }
                    try await bed.waitUntil("b unhealthy") { await !member.health.condition.isAvailable }
                }
            }

            // A namespace per scenario and round: the servers are shared, and a claim of a
            // name whose earlier volume is on the stopped member rightly waits for it.
            let namespace = "bench-\(Scenario.allCases.firstIndex(of: scenario) ?? 0)-\(round)"
            var created: [String: ContinuousClock.Instant] = [:]
            let start = ContinuousClock.now
            for index in 0..<claims {
                let uid = try await bed.createClaim(namespace, "claim-\(index)", className: "nfs")
                created["pvc-\(uid)"] = .now
            }
            var seen: [String: ContinuousClock.Instant] = [:]
            var onStopped = 0
            let deadline = ContinuousClock.now + .seconds(300)
            while seen.count < claims {
                guard ContinuousClock.now < deadline else { throw BenchmarkTimeout(what: "\(claims) PVs (\(seen.count) seen)") }
                for volume in try await bed.client.list(PersistentVolume.self).items
                where created[volume.metadata.name] != nil && seen[volume.metadata.name] == nil {
                    seen[volume.metadata.name] = .now
                    if volume.metadata.annotations[Annotations.member] == "b" { onStopped += 1 }
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            let end = seen.values.max() ?? start
            let latencies = seen.compactMap { name, at in created[name].map { milliseconds($0.duration(to: at)) } }
            stopped.resume()
            try await run.stop()
            await bed.shutdown()
            return Round(scenario: scenario, seconds: milliseconds(start.duration(to: end)) / 1000, latenciesMs: latencies, onStopped: onStopped)
        } catch {
            stopped.resume()
            await bed.shutdown()
            throw error
        }
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    private static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}

struct BenchmarkTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}
