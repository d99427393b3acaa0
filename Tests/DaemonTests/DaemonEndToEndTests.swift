import AsyncHTTPClient
import Foundation
import Glibc
import Testing
import TestSupport
import TestTraits
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

/// The built binary against LocalCluster, with temporary directories as the exports.
@Suite("Daemon end to end", .timeLimit(.minutes(3)), .shutsDownTestBeds)
struct DaemonEndToEndTests {
    /// Environment of the original provisioner for members a, b, c.
    func originalEnvironment(_ bed: EngineTestBed, members: [String] = ["a", "b", "c"]) -> [String: String] {
        for m in members { _ = bed.export(m) }
        return ["PROVISIONER_NAME": bed.provisionerName, "NFS_SERVER": members.joined(separator: ":"),
                "NFS_PATH": members.map { "/exports/\($0)" }.joined(separator: ":")]
    }

    func daemonArguments(_ bed: EngineTestBed, extra: [String] = []) -> [String] {
        ["run", "--kubeconfig", bed.root.child("kubeconfig"), "--mount-base", bed.root.child("exports"),
         "--allow-unmounted-exports", "--http-address", "127.0.0.1:0", "--log-format", "json", "--min-free", "0",
         "--resync-period", "5", "--storage-timeout", "2"] + extra
    }

    /// The HTTP port the daemon logged.
    func httpPort(_ daemon: DaemonProcess) async throws -> Int {
        try await daemon.waitForLog("serving /metrics")
        for line in daemon.errorOutput.split(separator: "\n") where line.contains("serving /metrics") {
            if let data = line.data(using: .utf8), let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
               let address = object["address"] as? String, let port = address.split(separator: ":").last.flatMap({ Int($0) }) {
                return port
            }
        }
        throw DaemonProcessError.logNotSeen("an address in the HTTP log line", stderr: daemon.errorOutput)
    }

    func get(_ url: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPClient.shared.get(url: url).get()
        let body = response.body.map { String(buffer: $0) } ?? ""
        return (Int(response.status.code), body)
    }

    @Test("provision, bind and delete through the daemon; the PV validates against the Kubernetes schema; /metrics, /healthz, /readyz")
    func provisionBindDelete_throughTheDaemon() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        let daemon = try DaemonProcess(arguments: daemonArguments(bed, extra: ["--no-leader-elect"]),
                                       environment: originalEnvironment(bed), directory: bed.root)
        let port = try await httpPort(daemon)
        try await bed.createClaim("web", "content", className: "nfs")
        let pv = try await bed.waitForBound("web", "content")
        let record = try VolumeRecord(annotations: pv.metadata.annotations)
        // The original's placement: crc32 ring of a, b, c.
        let ring = try RingSnapshotOfMembers(["a", "b", "c"], hash: .crc32)
        #expect(record.member == (try ring.locate("web-content").name))
        #expect(bed.volumeDirectories(record.member) == ["web-content"])

        // The PV as the API server holds it validates against the PersistentVolume schema.
        let json = try await rawObject(bed, "/api/v1/persistentvolumes/\(pv.metadata.name)")
        let file = try bed.root.writeFile("pv.json", json)
        let validation = try await runScript("scripts/validate-objects.sh", [file])
        #expect(validation.status == 0, "\(validation.output)")

        let health = try await get("http://127.0.0.1:\(port)/healthz")
        #expect(health.status == 200)
        let ready = try await get("http://127.0.0.1:\(port)/readyz")
        #expect(ready.status == 200 && ready.body.contains("caches: synced") && ready.body.contains("member a"), "\(ready.body)")
        let metrics = try await get("http://127.0.0.1:\(port)/metrics")
        #expect(metrics.body.contains("nfs_provisioner_provision_total"), "\(metrics.body.prefix(2000))")
        #expect(metrics.body.contains("member=\"\(record.member)\""))

        try await bed.deleteClaim("web", "content")
        try await bed.waitUntil("PV deleted") { try await bed.volume(pv.metadata.name) == nil }
        #expect(bed.volumeDirectories(record.member).isEmpty)

        daemon.signal(SIGTERM)
        let status = try await daemon.waitForExit(timeout: .seconds(30))
        #expect(status == 0, "\(daemon.errorOutput.suffix(3000))")
    }

    @Test("--kube-api-qps and --kube-api-burst pace the daemon's API requests")
    func apiRateLimit_pacesTheDaemonsRequests() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let qps = 4.0
        let daemon = try DaemonProcess(arguments: daemonArguments(bed, extra: ["--no-leader-elect", "--kube-api-qps", "4", "--kube-api-burst", "1"]),
                                       environment: originalEnvironment(bed), directory: bed.root)
        try await daemon.waitForLog("caches synced")
        #expect(daemon.errorOutput.contains("\"apiRateLimit\":\"4.0 requests/s, burst 1\""), "\(daemon.errorOutput.prefix(3000))")
        bed.cluster.clearRequestLog()
        let start = ContinuousClock.now
        let names = (0..<6).map { "data-\($0)" }
        for name in names { try await bed.createClaim("paced", name, className: "nfs") }
        for name in names { _ = try await bed.waitForBound("paced", name, timeout: .seconds(60)) }
        let elapsed = ContinuousClock.now - start
        // The daemon's writes (PVs and events); the test's own requests are claim creates and GETs.
        let writes = bed.cluster.requestLog.filter {
            ($0.method == "POST" && $0.path.contains("/persistentvolumes")) || $0.path.contains("/events")
        }.count
        #expect(writes >= names.count, "one PV per claim at least: \(writes)")
        // A token bucket of burst 1 lets the n-th request go no sooner than (n - 1) / qps.
        let floor = Duration.seconds(Double(writes - 1) / qps)
        #expect(elapsed >= floor, "\(writes) requests in \(elapsed), faster than \(qps)/s allows (\(floor))")
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    }

    @Test("SIGTERM in the middle of work exits 0 and leaves no half-made volume unrecorded")
    func sigterm_midWork_exits0_everythingRecorded() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        // Slow PV creation so that the signal arrives while volumes are being made.
        _ = bed.cluster.injectFault(.init(method: "POST", path: .contains("/persistentvolumes"), trigger: .always, action: .delay(.milliseconds(300))))
        let daemon = try DaemonProcess(arguments: daemonArguments(bed, extra: ["--no-leader-elect"]),
                                       environment: originalEnvironment(bed), directory: bed.root)
        try await daemon.waitForLog("caches synced")
        for i in 0..<12 { try await bed.createClaim("batch", "job-\(i)", className: "nfs") }
        try await bed.waitUntil("some work started") { ["a", "b", "c"].contains { !bed.volumeDirectories($0).isEmpty } }
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(60)) == 0, "\(daemon.errorOutput.suffix(3000))")
        // Every directory on the exports belongs to a saved PV.
        let pvs = try await bed.client.list(PersistentVolume.self).items
        let recorded = Set(pvs.compactMap { pv in (try? VolumeRecord(annotations: pv.metadata.annotations)).map { "\($0.member):\($0.directory)" } })
        for m in ["a", "b", "c"] {
            for dir in bed.volumeDirectories(m) {
                #expect(recorded.contains("\(m):\(dir)"), "directory \(m):\(dir) has no PV")
            }
        }
    }

    @Test("two daemons with leader election: only the leader acts; after SIGKILL the other takes over and finishes the pending claims")
    func leaderElection_failover() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let election = ["--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.5", "--leader-election-namespace", "kube-system"]
        var env = originalEnvironment(bed)
        env["POD_NAME"] = "replica-a"
        let a = try DaemonProcess(arguments: daemonArguments(bed, extra: election), environment: env, directory: bed.root, name: "a")
        try await a.waitForLog("became leader")
        env["POD_NAME"] = "replica-b"
        let b = try DaemonProcess(arguments: daemonArguments(bed, extra: election), environment: env, directory: bed.root, name: "b")
        try await b.waitForLog("serving /metrics")
        try await bed.createClaim("x", "first", className: "nfs")
        try await bed.waitForBound("x", "first")
        #expect(!b.errorOutput.contains("became leader"))
        #expect(!b.errorOutput.contains("\"provisioned\""), "the standby must not act")

        a.signal(SIGKILL)
        _ = try await a.waitForExit(timeout: .seconds(10))
        for i in 0..<4 { try await bed.createClaim("x", "pending-\(i)", className: "nfs") }
        try await b.waitForLog("became leader", timeout: .seconds(20))
        for i in 0..<4 { try await bed.waitForBound("x", "pending-\(i)") }
        let lease = try await bed.client.get(Lease.self, name: "example.com-nfs", namespace: "kube-system")
        #expect(lease.spec?.holderIdentity?.hasPrefix("replica-b") == true)
        #expect((lease.spec?.leaseTransitions ?? 0) >= 1)
        b.signal(SIGTERM)
        #expect(try await b.waitForExit(timeout: .seconds(30)) == 0)
        let released = try await bed.client.get(Lease.self, name: "example.com-nfs", namespace: "kube-system")
        #expect(released.spec?.holderIdentity == "", "a graceful stop releases the lease")
    }

    @Test("a configuration file change adds a member without a restart; a bad change is refused and the old one keeps running")
    func configReload_addsMember() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        func config(_ members: [String]) -> String {
            "provisionerName: \(bed.provisionerName)\nmembers:\n" + members.map {
                "  - name: \($0)\n    address: nfs-\($0).example.com\n    export: /exports/\($0)\n    mountPath: \(bed.export($0))\n"
            }.joined()
        }
        let path = try bed.root.writeFile("config.yaml", config(["a"]))
        let daemon = try DaemonProcess(arguments: daemonArguments(bed, extra: ["--no-leader-elect", "--config", path, "--config-reload-interval", "0.2"]),
                                       directory: bed.root)
        try await daemon.waitForLog("caches synced")
        try await bed.createClaim("r", "before", className: "nfs")
        #expect(try VolumeRecord(annotations: (try await bed.waitForBound("r", "before")).metadata.annotations).member == "a")

        try bed.root.writeFile("config.yaml", "provisionerName: \(bed.provisionerName)\nmembers: oops\n")
        try await daemon.waitForLog("rejected the changed configuration file")
        #expect(daemon.isRunning)

        try bed.root.writeFile("config.yaml", config(["a", "b"]))
        try await daemon.waitForLog("applied the changed configuration file")
        let ring = try RingSnapshotOfMembers(["a", "b"], hash: .xxh3)
        let names = (0..<20).map { "after-\($0)" }
        for n in names { try await bed.createClaim("r", n, className: "nfs") }
        var onB = 0
        for n in names {
            let member = try VolumeRecord(annotations: (try await bed.waitForBound("r", n)).metadata.annotations).member
            #expect(member == (try ring.locate("r-\(n)").name))
            if member == "b" { onB += 1 }
        }
        #expect(onB > 0, "the new member takes claims")
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    }

    @Test("demo exits 0 and its summary matches what the cluster held")
    func demo_exits0() async throws {
        let result = try await runDaemon(["demo", "--claims", "9", "--members", "2"], timeout: .seconds(150))
        #expect(result.status == 0, "\(result.stdout.suffix(3000))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("every check matched what the cluster holds"))
        #expect(result.stdout.contains("found its data"))
        #expect(result.stdout.contains("PVs in the cluster: 7 (expected 7)"))
    }
}

import RingCore

func RingSnapshotOfMembers(_ names: [String], hash: RingHash) throws -> RingSnapshot {
    try RingSnapshot(members: names.map { Member($0) }, configuration: RingConfiguration(virtualNodesPerMember: 255, hash: hash))
}

/// The raw JSON of an object as the API server serves it.
func rawObject(_ bed: EngineTestBed, _ path: String) async throws -> String {
    let response = try await HTTPClient.shared.get(url: bed.cluster.baseURL + path).get()
    return response.body.map { String(buffer: $0) } ?? ""
}

/// Runs a project script (path relative to the package root) on a thread of its own (it
/// may take seconds: never on the threads the async tests share).
func runScript(_ script: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await runBlocking { try runScriptBlocking(script, arguments) }
}

private func runScriptBlocking(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = root.appendingPathComponent(script)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
