// The engine half of `Benchmarks engine`: this same executable, started by the benchmark as
// `Benchmarks engine-child ...`, runs the real engine (as the daemon builds it) against the
// benchmark's LocalCluster over HTTP, in a process of its own so that its CPU time and peak
// RSS are its own. Its API requests are counted in its client (a counting transport) and
// its filesystem calls at the VolumeStore boundary (each member's store wrapped in a
// counting FakeVolumeStore).
//
// Protocol, one line each way: it prints a JSON snapshot once the engine is ready, and
// again for every `snapshot` line it reads; `stop` (or the end of its input) stops the
// engine gracefully, prints a last snapshot and exits.
import Engine
import Foundation
import KubeRuntime
import Logging
import RingCore
import Synchronization
import Fixtures
import VolumeStorage

enum EngineChild {
    static let command = "engine-child"
    static let provisionerName = "bench.example.com/nfs"

    struct Options {
        var kubeconfig = ""
        var membersFile = ""
        var rateLimit = RateLimit.unlimited
        var claimWorkers: Int?

        init(_ arguments: [String]) throws {
            var qps = 0.0
            var burst = 1
            var rest = arguments[...]
            while let flag = rest.popFirst() {
                guard let value = rest.popFirst() else { throw ChildError("\(flag) needs a value") }
                switch flag {
                case "--kubeconfig": kubeconfig = value
                case "--members-file": membersFile = value
                case "--qps": qps = Double(value) ?? -1
                case "--burst": burst = Int(value) ?? 0
                case "--claim-workers": claimWorkers = Int(value)
                default: throw ChildError("unknown option \(flag)")
                }
            }
            guard !kubeconfig.isEmpty, !membersFile.isEmpty, qps >= 0, burst >= 1 else {
                throw ChildError("usage: Benchmarks \(EngineChild.command) --kubeconfig FILE --members-file FILE [--qps Q --burst B] [--claim-workers N]")
            }
            rateLimit = qps == 0 ? .unlimited : RateLimit(qps: qps, burst: burst)
        }
    }

    struct ChildError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs the child and exits the process.
    static func main(_ arguments: [String]) -> Never {
        let done = DispatchSemaphore(value: 0)
        let status = Mutex<Int32>(0)
        Task {
            do {
                try await run(try Options(arguments))
            } catch {
                FileHandle.standardError.write(Data("Benchmarks \(command): \(error)\n".utf8))
                status.withLock { $0 = 1 }
            }
            done.signal()
        }
        done.wait()
        exit(status.withLock { $0 })
    }

    static func run(_ options: Options) async throws {
        let members: [MemberConfiguration] = try String(contentsOfFile: options.membersFile, encoding: .utf8)
            .split(separator: "\n").map { line in
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ChildError("bad member line \(line)") }
                return MemberConfiguration(name: parts[0], address: "\(parts[0]).bench.local", export: "/exports", mountPath: parts[1])
            }
        var clientConfiguration = try Kubeconfig.load(paths: [options.kubeconfig])
        clientConfiguration.rateLimit = options.rateLimit
        let logger = Logger(label: "engine", factory: { _ in SwiftLogNoOpLogHandler() })
        let transport = CountingTransport(wrapping: try AsyncHTTPClientTransport(configuration: clientConfiguration))
        let stores = Mutex<[FakeVolumeStore]>([])
        var engineOptions = ProvisionerEngine.Options(engine: EngineConfiguration(provisionerName: provisionerName))
        if let workers = options.claimWorkers {
            engineOptions.engine.claimWorkers = workers
            engineOptions.engine.volumeWorkers = workers
        }
        let standard = MemberRegistry.standardFactory(requireMountPoints: false)
        engineOptions.storeFactory = { member throws(StorageError) in
            let store = FakeVolumeStore(wrapping: try standard(member))
            stores.withLock { $0.append(store) }
            return store
        }
        let configuration = ProvisionerConfiguration(provisionerName: provisionerName,
                                                     ring: RingConfiguration(virtualNodesPerMember: 255, hash: .xxh3),
                                                     members: members, source: "benchmark")
        let engine = try ProvisionerEngine(configuration: configuration, api: clientConfiguration, transport: transport,
                                           options: engineOptions, logger: logger)
        let running = Task { try await engine.run() }

        let primitives: [StorageOperation] = [.stat, .makeDirectory, .writeFile, .readFile, .rename, .removeTree, .setMode,
                                              .listDirectory, .fileSystemStats, .probe]
        func snapshot(_ extra: [String: Any] = [:]) {
            var fs: [String: Int] = [:]
            for store in stores.withLock({ $0 }) {
                for operation in primitives {
                    let count = store.callCount(operation)
                    if count > 0 { fs["\(operation)", default: 0] += count }
                }
            }
            var object: [String: Any] = ["cpu": ResourceUsage.now().cpuSeconds, "maxRSSBytes": ResourceUsage.now().maxRSSBytes,
                                         "requests": transport.counts, "fs": fs]
            for (key, value) in extra { object[key] = value }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }

        let deadline = ContinuousClock.now + .seconds(300)
        while !(await engine.readiness().ready) {
            guard ContinuousClock.now < deadline else { throw ChildError("the engine did not become ready within 300 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        snapshot(["ready": true])
        for await line in StandardInputLines() {
            if line == "snapshot" { snapshot() }
            if line == "stop" { break }
        }
        engine.beginShutdown()
        try await running.value
        try? await engine.client.shutdown()
        snapshot(["stopped": true])
    }
}

/// Lines of standard input, read on a thread of their own; ends at end of input.
struct StandardInputLines: AsyncSequence {
    typealias Element = String

    func makeAsyncIterator() -> AsyncStream<String>.Iterator {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let thread = Thread {
            while let line = readLine() { continuation.yield(line) }
            continuation.finish()
        }
        thread.start()
        return stream.makeAsyncIterator()
    }
}

/// An HTTPTransport that counts requests by Kubernetes verb and resource ("create persistentvolumes").
final class CountingTransport: HTTPTransport {
    let wrapped: any HTTPTransport
    private let table = Mutex<[String: Int]>([:])

    init(wrapping transport: any HTTPTransport) { wrapped = transport }

    var counts: [String: Int] { table.withLock { $0 } }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let key = Self.classify(method: request.method, pathAndQuery: request.pathAndQuery)
        table.withLock { $0[key, default: 0] += 1 }
        return try await wrapped.send(request)
    }

    func shutdown() async throws { try await wrapped.shutdown() }

    static let resources = ["persistentvolumeclaims", "persistentvolumes", "storageclasses", "leases", "events"]

    /// The verb (create, update, patch, delete, get, list, watch) and resource of a request.
    static func classify(method: HTTPMethod, pathAndQuery: String) -> String {
        let parts = pathAndQuery.split(separator: "?", maxSplits: 1)
        let path = parts.first.map { $0.split(separator: "/").map(String.init) } ?? []
        let query = parts.count > 1 ? String(parts[1]) : ""
        guard let index = path.lastIndex(where: { resources.contains($0) }) else { return "\(method.rawValue.lowercased()) other" }
        let named = index + 1 < path.count
        let verb: String
        switch method {
        case .post: verb = "create"
        case .put: verb = "update"
        case .patch: verb = "patch"
        case .delete: verb = "delete"
        case .get: verb = query.contains("watch=true") || path.contains("watch") ? "watch" : (named ? "get" : "list")
        }
        return "\(verb) \(path[index])"
    }
}

/// CPU time (getrusage) and peak resident set of this process.
struct ResourceUsage {
    var cpuSeconds: Double
    var maxRSSBytes: Int

    static func now() -> ResourceUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return ResourceUsage(cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime), maxRSSBytes: peakRSSBytes())
    }

    /// `VmHWM` of /proc/self/status: the peak of this program's own memory. Not `ru_maxrss`,
    /// which Linux carries over from the parent's memory when a spawned child execs.
    static func peakRSSBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return kilobytes * 1024
    }
}
