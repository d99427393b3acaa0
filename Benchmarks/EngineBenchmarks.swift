// The engine at scale: a burst of claims through the real engine and LocalCluster over
// HTTP, on mounted members that are local directories, then the same claims deleted.
import Engine
import Foundation
import LocalCluster
import Logging
import Synchronization
import Fixtures

/// `swift run -c release Benchmarks engine [--quick] [--members=10,100] [--claims=N] [--no-qps] [--no-hung]`.
///
/// Each row starts a LocalCluster in this process and the engine in a child process
/// (``EngineChild``) with the daemon's defaults (4 claim workers, 4 volume workers,
/// production timeouts), members `nfs-1...nfs-N` on local directories (`mode: mounted`), one
/// StorageClass with `onDelete: delete`. This process then creates every claim as fast as
/// the API takes them (in-process, no HTTP: the driver costs next to nothing), records when
/// each claim's PV appears (from LocalCluster's change stream), then deletes every claim
/// and records when each PV is gone (the engine removes the directory before the PV; the
/// directories are checked afterwards).
enum EngineBenchmarks {
    struct Row: Sendable {
        var members: Int
        var claims: Int
        /// nil: no client rate limit.
        var qps: Double?
        var burst: Int = 1
        /// Member nfs-1 is a bindfs mount, SIGSTOPped just before the burst.
        var hung = false

        var label: String {
            var text = "\(members) members"
            if let qps { text += ", \(Int(qps)) QPS" }
            if hung { text += ", 1 hung" }
            return text
        }
    }

    /// What one phase cost.
    struct Phase: Sendable {
        var engineCPU: Double = 0
        var clusterCPU: Double = 0
        var requests: [String: Int] = [:]
        var fs: [String: Int] = [:]
    }

    struct Outcome: Sendable {
        var row: Row
        var provisionSeconds: Double
        var latenciesMs: [Double]
        var deleteSeconds: Double
        var provision: Phase
        var delete: Phase
        var engineRSSBytes: Int
        var eventLagsMs: [Double]
        var eventsMissing: Int
        var directoriesLeft: Int
        var onHung: Int
    }

    static func run(_ reporter: Reporter, quick: Bool, arguments: [String]) {
        func option(_ name: String) -> String? {
            arguments.first { $0.hasPrefix("--\(name)=") }.map { String($0.dropFirst(name.count + 3)) }
        }
        let claims = option("claims").flatMap(Int.init) ?? (quick ? 1000 : 10_000)
        let memberCounts = option("members").map { $0.split(separator: ",").compactMap { Int($0) } } ?? [10, 100]
        let workers = option("claim-workers").flatMap(Int.init)
        // tmpfs by default: the engine's cost, not the disk's (on this VM's ext4 a burst of
        // creates spends much of its time in the kernel's inode allocator).
        let exports = option("exports") ?? (FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
        var rows = memberCounts.map { Row(members: $0, claims: claims) }
        if !arguments.contains("--no-qps") {
            rows.append(Row(members: 10, claims: quick ? 100 : 200, qps: 5, burst: 10))
            rows.append(Row(members: 10, claims: quick ? 500 : 1000, qps: 50, burst: 100))
        }
        if !arguments.contains("--no-hung") { rows.append(Row(members: 10, claims: claims, hung: true)) }

        var outcomes: [Outcome] = []
        var failures: [String] = []
        for row in rows {
            let result = Mutex<Result<Outcome, any Error>?>(nil)
            let done = DispatchSemaphore(value: 0)
            Task {
                let outcome: Result<Outcome, any Error>
                do { outcome = .success(try await measure(row, claimWorkers: workers, exports: exports)) } catch { outcome = .failure(error) }
                result.withLock { $0 = outcome }
                done.signal()
            }
            done.wait()
            switch result.withLock({ $0 }) {
            case .success(let outcome): outcomes.append(outcome)
            case .failure(let error): failures.append("\(row.label), \(row.claims) claims: \(error)")
            case nil: break
            }
            if !arguments.contains("--json") {
                FileHandle.standardError.write(Data("engine: \(row.label), \(row.claims) claims done\n".utf8))
            }
        }
        emitTables(reporter, outcomes, failures: failures, workers: workers, exports: exports)
    }

    // MARK: Tables

    static func emitTables(_ reporter: Reporter, _ outcomes: [Outcome], failures: [String], workers: Int?, exports: String) {
        let failed = failures.isEmpty ? "" : " Not measured: " + failures.joined(separator: "; ") + "."
        var main = Table(
            id: "engine-scale",
            title: "Engine at scale: a burst of claims, then every claim deleted (policy delete)",
            note: "Real engine (child process, daemon defaults, \(workers.map { "\($0) claim + \($0) volume workers" } ?? "4 claim + 4 volume workers")) against LocalCluster over HTTP; "
                + "members are local directories (mounted) under \(exports). claims/s: claims over first create → last PV; latency: create → PV "
                + "(the whole burst is created within about a second, so it is mostly time in the queue); "
                + "deletes/s: claims over first delete → last PV gone (directories removed before). Per claim, provisioning + deleting: "
                + "fs: VolumeStore calls (without the periodic probe and statfs); API: the engine's requests; CPU: ms of the engine "
                + "process and of this process (LocalCluster and the in-process driver). RSS: the engine's peak. Shared 2-core machine." + failed,
            columns: ["row", "claims", "claims/s", "p50 ms", "p99 ms", "deletes/s", "fs calls/claim", "API req/claim",
                      "engine CPU ms/claim", "LocalCluster CPU ms/claim", "engine RSS MB"])
        let periodic: Set<String> = ["probe", "fileSystemStats"]
        func pair(_ a: Double, _ b: Double, _ digits: Int) -> Table.Cell {
            .text(String(format: "%.\(digits)f + %.\(digits)f", a, b))
        }
        for o in outcomes {
            let n = Double(o.row.claims)
            func fs(_ phase: Phase) -> Double { Double(phase.fs.filter { !periodic.contains($0.key) }.values.reduce(0, +)) / n }
            func api(_ phase: Phase) -> Double { Double(phase.requests.values.reduce(0, +)) / n }
            main.add(.text(o.row.label), .integer(o.row.claims), .number(n / o.provisionSeconds, digits: 0),
                     .number(percentile(o.latenciesMs, 0.5), digits: 0), .number(percentile(o.latenciesMs, 0.99), digits: 0),
                     .number(n / o.deleteSeconds, digits: 0), pair(fs(o.provision), fs(o.delete), 1), pair(api(o.provision), api(o.delete), 2),
                     pair(o.provision.engineCPU * 1000 / n, o.delete.engineCPU * 1000 / n, 2),
                     pair(o.provision.clusterCPU * 1000 / n, o.delete.clusterCPU * 1000 / n, 2),
                     .number(Double(o.engineRSSBytes) / 1_048_576, digits: 0))
        }
        reporter.emit(main)

        let verbs = ["create", "update", "patch", "delete", "get", "list", "watch"]
        var api = Table(
            id: "engine-api-requests",
            title: "The engine's API requests per claim, by verb (counted in its client)",
            note: "Provisioning phase, then deleting phase. \"of which Events\": the Event writes among them.",
            columns: ["row", "phase"] + verbs + ["of which Events"])
        for o in outcomes {
            for (name, phase) in [("provision", o.provision), ("delete", o.delete)] {
                let n = Double(o.row.claims)
                var cells: [Table.Cell] = [.text(o.row.label), .text(name)]
                for verb in verbs {
                    let count = phase.requests.filter { $0.key.hasPrefix(verb + " ") }.values.reduce(0, +)
                    cells.append(.number(Double(count) / n, digits: 2))
                }
                let events = phase.requests.filter { $0.key.hasSuffix(" events") && !$0.key.hasPrefix("watch") && !$0.key.hasPrefix("list") }
                cells.append(.number(Double(events.values.reduce(0, +)) / n, digits: 2))
                api.rows.append(cells)
            }
        }
        reporter.emit(api)

        var fs = Table(
            id: "engine-fs-calls",
            title: "Filesystem calls per claim, by VolumeStore operation",
            note: "Counted at the VolumeStore boundary of every member, provisioning phase then deleting phase. "
                + "probe and fileSystemStats are the periodic health and free-space readings (every 5 s per member), not per claim.",
            columns: ["row", "phase", "stat", "makeDirectory", "writeFile", "readFile", "rename", "removeTree", "setMode", "listDirectory",
                      "fileSystemStats", "probe"])
        for o in outcomes {
            let n = Double(o.row.claims)
            for (name, phase) in [("provision", o.provision), ("delete", o.delete)] {
                var cells: [Table.Cell] = [.text(o.row.label), .text(name)]
                for op in fs.columns.dropFirst(2) { cells.append(.number(Double(phase.fs[op, default: 0]) / n, digits: 2)) }
                fs.rows.append(cells)
            }
        }
        reporter.emit(fs)

        var lag = Table(
            id: "engine-events-lag",
            title: "Events behind the PVs (ProvisioningSucceeded after its PV)",
            note: "Per claim: when its ProvisioningSucceeded Event was written minus when its PV was. Events take the client's "
                + "rate limit at background priority (a free token, or one queued after 1 s); \"missing\": never written within 15 s of the last one "
                + "(dropped from the recorder's buffer). "
                + "PVs on hung: PVs placed on the stopped member (should be 0).",
            columns: ["row", "claims", "claims/s", "lag p50 ms", "lag max ms", "missing", "PVs on hung", "dirs left"])
        for o in outcomes {
            lag.add(.text(o.row.label), .integer(o.row.claims), .number(Double(o.row.claims) / o.provisionSeconds, digits: 1),
                    .number(percentile(o.eventLagsMs, 0.5), digits: 0), .number(o.eventLagsMs.max() ?? .nan, digits: 0),
                    .integer(o.eventsMissing), .integer(o.onHung), .integer(o.directoriesLeft))
        }
        reporter.emit(lag)
    }

    // MARK: One row

    static func measure(_ row: Row, claimWorkers: Int?, exports: String) async throws -> Outcome {
        let root = try ScratchDirectory(under: exports)
        defer { root.remove() }
        var configuration = LocalClusterConfiguration.default
        configuration.logger = Logger(label: "LocalCluster", factory: { _ in SwiftLogNoOpLogHandler() })
        let cluster = try await LocalCluster.start(configuration)
        var mount: BindfsMount?
        var child: ChildEngine?
        do {
            try cluster.create(["apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": ["name": "bench"],
                                "provisioner": .string(EngineChild.provisionerName), "parameters": ["onDelete": "delete"],
                                "reclaimPolicy": "Delete"])
            var memberLines: [String] = []
            var directories: [String: String] = [:]
            for index in 1...row.members {
                let name = "nfs-\(index)"
                let directory = root.child("exports/\(name)")
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                if row.hung && index == 1 {
                    let source = root.child("sources/\(name)")
                    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
                    mount = try BindfsMount.startBlocking(source: source, mountPoint: directory)
                }
                memberLines.append("\(name) \(directory)")
                directories[name] = directory
            }
            let membersFile = try root.writeFile("members", memberLines.joined(separator: "\n"))
            let kubeconfig = try root.writeFile("kubeconfig", cluster.kubeconfigYAML(namespace: "default"))
            var arguments = ["--kubeconfig", kubeconfig, "--members-file", membersFile]
            if let qps = row.qps { arguments += ["--qps", "\(qps)", "--burst", "\(row.burst)"] }
            if let claimWorkers { arguments += ["--claim-workers", "\(claimWorkers)"] }
            let started = try ChildEngine(arguments: arguments)
            child = started
            _ = try await started.readSnapshot(timeout: .seconds(300))

            let recorder = ChangeRecorder(claims: row.claims)
            let watchers = [
                Task { for await change in cluster.changes(of: .persistentVolumes) { recorder.volume(change) } },
                Task { for await change in cluster.changes(of: .events) { recorder.event(change) } },
            ]
            defer { for watcher in watchers { watcher.cancel() } }
            if row.hung { await mount?.suspend() }

            // Provisioning: the burst, then every PV, then the Events.
            let before = try await started.snapshot()
            let clusterBefore = ResourceUsage.now()
            let start = ContinuousClock.now
            for index in 0..<row.claims {
                let created = try cluster.create([
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": ["name": .string("claim-\(index)"), "namespace": "bench"],
                    "spec": ["accessModes": ["ReadWriteMany"], "resources": ["requests": ["storage": "1Gi"]], "storageClassName": "bench"],
                ])
                recorder.created(created.string(at: "metadata", "uid") ?? "", at: .now)
            }
            let limit = Duration.seconds(max(300, row.claims / Int(max(1, row.qps ?? 100)) * 4))
            try await recorder.wait("every PV", timeout: limit) { $0.volumesAdded >= row.claims }
            let provisioned = recorder.state.withLock { $0 }
            let lastPV = provisioned.pvAt.values.max() ?? start
            try await recorder.waitQuiet(timeout: limit) { $0.eventAt.count >= row.claims }
            let afterProvision = try await started.snapshot()
            let clusterAfterProvision = ResourceUsage.now()

            // Deleting.
            let deleteStart = ContinuousClock.now
            for index in 0..<row.claims {
                try cluster.delete(.persistentVolumeClaims, namespace: "bench", name: "claim-\(index)")
            }
            try await recorder.wait("every PV gone", timeout: limit) { $0.volumesGone >= row.claims }
            let deleted = recorder.state.withLock { $0 }
            let lastGone = deleted.goneAt.values.max() ?? deleteStart
            let afterDelete = try await started.snapshot()
            let clusterAfterDelete = ResourceUsage.now()

            if row.hung { mount?.resume() }
            let final = try await started.stop()
            child = nil
            mount?.unmount()
            let left = deleted.directories.filter { member, path in
                FileManager.default.fileExists(atPath: (directories[member] ?? "/nonexistent") + "/" + path)
            }.count
            await cluster.shutdown()

            func phase(_ a: ChildEngine.Snapshot, _ b: ChildEngine.Snapshot, _ c0: ResourceUsage, _ c1: ResourceUsage) -> Phase {
                Phase(engineCPU: b.cpu - a.cpu, clusterCPU: c1.cpuSeconds - c0.cpuSeconds,
                      requests: b.requests.merging(a.requests) { $0 - $1 }, fs: b.fs.merging(a.fs) { $0 - $1 })
            }
            let latencies = provisioned.pvAt.compactMap { uid, at in
                provisioned.createdAt[uid].map { milliseconds($0.duration(to: at)) }
            }
            let lags = deleted.eventAt.compactMap { uid, at in deleted.pvAt[uid].map { milliseconds($0.duration(to: at)) } }
            return Outcome(row: row, provisionSeconds: milliseconds(start.duration(to: lastPV)) / 1000, latenciesMs: latencies,
                           deleteSeconds: milliseconds(deleteStart.duration(to: lastGone)) / 1000,
                           provision: phase(before, afterProvision, clusterBefore, clusterAfterProvision),
                           delete: phase(afterProvision, afterDelete, clusterAfterProvision, clusterAfterDelete),
                           engineRSSBytes: final.maxRSSBytes, eventLagsMs: lags, eventsMissing: row.claims - deleted.eventAt.count,
                           directoriesLeft: left, onHung: deleted.members["nfs-1", default: 0] * (row.hung ? 1 : 0))
        } catch {
            mount?.resume()
            child?.kill()
            mount?.unmount()
            await cluster.shutdown()
            throw error
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}

/// What the change streams showed, with when.
final class ChangeRecorder: Sendable {
    struct State: Sendable {
        var createdAt: [String: ContinuousClock.Instant] = [:]
        var pvAt: [String: ContinuousClock.Instant] = [:]
        var goneAt: [String: ContinuousClock.Instant] = [:]
        var eventAt: [String: ContinuousClock.Instant] = [:]
        /// (member, directory) of every PV.
        var directories: [(String, String)] = []
        var members: [String: Int] = [:]
        var lastChange = ContinuousClock.now
        var volumesAdded: Int { pvAt.count }
        var volumesGone: Int { goneAt.count }
    }

    let state = Mutex(State())
    let claims: Int

    init(claims: Int) { self.claims = claims }

    func created(_ uid: String, at instant: ContinuousClock.Instant) {
        state.withLock { $0.createdAt[uid] = instant }
    }

    func volume(_ change: ObjectChange) {
        let now = ContinuousClock.now
        guard let uid = change.object.string(at: "spec", "claimRef", "uid") else { return }
        state.withLock { state in
            switch change.kind {
            case .added:
                state.pvAt[uid] = now
                var annotations: [String: String] = [:]
                for (key, value) in change.object[path: ["metadata", "annotations"]]?.objectValue ?? [:] { annotations[key] = value.stringValue ?? "" }
                if let record = try? VolumeRecord(annotations: annotations) {
                    state.directories.append((record.member, record.directory.description))
                    state.members[record.member, default: 0] += 1
                }
            case .deleted:
                state.goneAt[uid] = now
            case .modified:
                break
            }
        }
    }

    func event(_ change: ObjectChange) {
        guard change.kind == .added, change.object["reason"]?.stringValue == "ProvisioningSucceeded",
            let uid = change.object.string(at: "involvedObject", "uid") else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            state.eventAt[uid] = now
            state.lastChange = now
        }
    }

    /// Waits (checking every 10 ms; the times come from the change streams) until `condition` holds.
    func wait(_ what: String, timeout: Duration, _ condition: (State) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !state.withLock({ condition($0) }) {
            guard ContinuousClock.now < deadline else { throw BenchmarkTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until `condition` holds, or nothing changed for 15 s, or `timeout`.
    func waitQuiet(timeout: Duration, _ condition: (State) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !state.withLock({ condition($0) }) {
            let last = state.withLock { $0.lastChange }
            if ContinuousClock.now > deadline || last.duration(to: .now) > .seconds(15) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// The engine child process, spoken to over its standard input and output.
final class ChildEngine: @unchecked Sendable {
    struct Snapshot {
        var cpu: Double
        var maxRSSBytes: Int
        var requests: [String: Int]
        var fs: [String: Int]
    }

    let process = Process()
    let input = Pipe()
    let output = Pipe()
    /// Lines read so far and not taken, and whether the output ended.
    let received = Mutex<(lines: [String], ended: Bool)>(([], false))

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        process.arguments = [EngineChild.command] + arguments
        process.standardInput = input
        process.standardOutput = output
        let handle = output.fileHandleForReading
        let thread = Thread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    self.received.withLock { $0.lines.append(line) }
                }
            }
            self.received.withLock { $0.ended = true }
        }
        try process.run()
        thread.start()
    }

    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// The next line the child prints, parsed (checking every 5 ms).
    func readSnapshot(timeout: Duration) async throws -> Snapshot {
        let deadline = ContinuousClock.now + timeout
        var line: String?
        while line == nil {
            let (next, ended) = received.withLock { state -> (String?, Bool) in
                state.lines.isEmpty ? (nil, state.ended) : (state.lines.removeFirst(), false)
            }
            line = next
            if line != nil { break }
            if ended { throw BenchmarkTimeout(what: "the engine child's report (it exited with \(process.isRunning ? "?" : "\(process.terminationStatus)"))") }
            guard ContinuousClock.now < deadline else { throw BenchmarkTimeout(what: "the engine child's report") }
            try await Task.sleep(for: .milliseconds(5))
        }
        guard let data = line?.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BenchmarkTimeout(what: "a report from the engine child (it said: \(line ?? ""))")
        }
        return Snapshot(cpu: object["cpu"] as? Double ?? 0, maxRSSBytes: object["maxRSSBytes"] as? Int ?? 0,
                        requests: object["requests"] as? [String: Int] ?? [:], fs: object["fs"] as? [String: Int] ?? [:])
    }

    func snapshot() async throws -> Snapshot {
        send("snapshot")
        return try await readSnapshot(timeout: .seconds(60))
    }

    func stop() async throws -> Snapshot {
        send("stop")
        let last = try await readSnapshot(timeout: .seconds(120))
        process.waitUntilExit()
        return last
    }

    func kill() {
        if process.isRunning { process.terminate() }
    }
}

/// A fresh directory under a given one (the exports' file system is a choice), removed by ``remove()``.
struct ScratchDirectory {
    let path: String

    init(under base: String) throws {
        path = base + "/ncp-bench-engine-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func child(_ relative: String) -> String { path + "/" + relative }

    func writeFile(_ relative: String, _ contents: String) throws -> String {
        try contents.write(toFile: child(relative), atomically: true, encoding: .utf8)
        return child(relative)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
