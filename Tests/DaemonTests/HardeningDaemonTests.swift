import Foundation
import Glibc
import Testing
import TestSupport
import TestTraits
import Yams
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

/// Issue 12 through the built binary: durations, one-line errors, member names, ring
/// limits, `ring locate` streaming, long table cells, the HTTP endpoint's connection limits
/// and the RBAC the daemon needs.
@Suite("Daemon: hardening", .timeLimit(.minutes(3)), .shutsDownTestBeds)
struct HardeningDaemonTests {
    static let env = ["PROVISIONER_NAME": "example.com/nfs", "NFS_SERVER": "a:b", "NFS_PATH": "/x:/y"]

    func expectOneLineExit2(_ result: (status: Int32, stdout: String, stderr: String), containing text: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 2, "exit \(result.status); stderr: \(result.stderr.prefix(2000))", sourceLocation: sourceLocation)
        #expect(result.stderr.split(separator: "\n", omittingEmptySubsequences: false).count == 2 && result.stderr.hasSuffix("\n"),
                "expected one line, got:\n\(result.stderr.prefix(2000))", sourceLocation: sourceLocation)
        #expect(result.stderr.utf8.count <= 2100, "\(result.stderr.utf8.count) bytes", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(text), "stderr: \(result.stderr.prefix(2000))", sourceLocation: sourceLocation)
    }

    // MARK: durations (item 3)

    @Test("durations that Duration cannot hold, or over a day, exit 2 with one line naming the flag", arguments: [
        ("--lease-duration", "1e300"), ("--lease-duration", "inf"), ("--storage-timeout", "1e300"), ("--resync-period", "inf"),
        ("--config-reload-interval", "1e300"), ("--shutdown-timeout", "inf"), ("--renew-deadline", "nan"),
        ("--retry-period", "86401"), ("--http-idle-timeout", "1e20"),
    ])
    func hugeDurations_exit2(flag: String, value: String) async throws {
        let result = try await runDaemon(["run", "\(flag)=\(value)"], environment: Self.env, timeout: .seconds(30))
        expectOneLineExit2(result, containing: "\(flag) must be a positive number of seconds, at most 86400 (one day)")
    }

    @Test("--http-max-connections and check --timeout are bounded")
    func connectionCountAndCheckTimeout_areBounded() async throws {
        expectOneLineExit2(try await runDaemon(["run", "--http-max-connections", "0"], environment: Self.env),
                           containing: "--http-max-connections must be between 1 and 10000, got 0")
        expectOneLineExit2(try await runDaemon(["check", "--timeout", "999999999999"], environment: Self.env),
                           containing: "--timeout must be between 1 and 3600 seconds")
    }

    // MARK: one-line errors (item 6)

    @Test("newlines and control characters in echoed values, and YAML syntax errors, stay one short line")
    func echoedValues_stayOneLine() async throws {
        expectOneLineExit2(try await runDaemon(["check"], environment: ["PROVISIONER_NAME": "example.com/nfs\nX", "NFS_SERVER": "a", "NFS_PATH": "/x"]),
                           containing: "\"example.com/nfs\\nX\" is not a valid provisioner name")
        let dir = try TempDirectory(prefix: "ncp-echo")
        let export = try dir.writeFile("export.yaml", "provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: \"e\\n\\u001b[2Jcleared\"\n")
        expectOneLineExit2(try await runDaemon(["check", "--config", export]), containing: "\"e\\n\\u{1B}[2Jcleared\" must be an absolute path")
        let syntax = try dir.writeFile("syntax.yaml", String(repeating: "k", count: 600_000) + ": [\n")
        let result = try await runDaemon(["ring", "balance", "--config", syntax])
        expectOneLineExit2(result, containing: "not YAML: line ")
        #expect(!result.stderr.contains(String(repeating: "k", count: 200)))
    }

    // MARK: member names (item 8)

    @Test("NFS_SERVER=.. is refused before check writes anything outside the mount base")
    func dotDotServer_isRefused_andNothingIsWritten() async throws {
        let dir = try TempDirectory(prefix: "ncp-dotdot")
        let base = dir.child("base")
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let result = try await runDaemon(["check", "--mount-base", base, "--allow-unmounted-exports"],
                                         environment: ["PROVISIONER_NAME": "example.com/nfs", "NFS_SERVER": "..", "NFS_PATH": "/x"])
        expectOneLineExit2(result, containing: "environment: NFS_SERVER entry 1 is \"..\"")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix("daemon.") }.sorted() == ["base"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: base).isEmpty)
    }

    // MARK: ring limits, streaming and tables (items 4 and 5)

    @Test("rings over 1,048,576 points are refused by the ring tools, naming the limit", arguments: [
        ["ring", "locate", "--members", "a", "--vnodes", "16777216", "ns/c"],
        ["ring", "locate", "--members", "a*65535,b", "ns/c"],
        ["ring", "balance", "--members", "a,b", "--compare", "20,600000"],
        ["ring", "plan", "--members", "a", "--proposed-members", "a,b", "--proposed-vnodes", "1000000"],
    ])
    func ringTools_refuseHugeRings(arguments: [String]) async throws {
        expectOneLineExit2(try await runDaemon(arguments), containing: "more than the limit of 1048576")
    }

    @Test("ring locate answers claims as they arrive: output comes before the input ends, table and JSON")
    func ringLocate_streams() async throws {
        for format in ["table", "json"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try DaemonProcess.binaryPath())
            process.arguments = ["ring", "locate", "--members", "a,b,c", "--output", format]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let lines = (0..<2500).map { "ns/claim-\($0)\n" }.joined()
            input.fileHandleForWriting.write(Data(lines.utf8))
            // Standard input stays open: a tool that waited for its end would print nothing.
            // (The reads and the wait block: on a helper thread, not a cooperative one.)
            let fd = output.fileHandleForReading.fileDescriptor
            var seen = try await runBlocking { () -> Data in
                var seen = Data()
                let deadline = ContinuousClock.now + .seconds(60)
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while !String(decoding: seen, as: UTF8.self).contains("claim-999"), ContinuousClock.now < deadline {
                    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&pfd, 1, 200) > 0 else { continue }
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { break }
                    seen.append(contentsOf: buffer[0..<n])
                }
                return seen
            }
            #expect(String(decoding: seen, as: UTF8.self).contains("claim-999"), "\(format): no answer before the input ended")
            try input.fileHandleForWriting.close()
            let rest = output.fileHandleForReading
            seen.append(try await runBlocking { () -> Data in
                let data = rest.readDataToEndOfFile()
                process.waitUntilExit()
                return data
            })
            #expect(process.terminationStatus == 0)
            let text = String(decoding: seen, as: UTF8.self)
            if format == "json" {
                let array = try #require(try JSONSerialization.jsonObject(with: seen) as? [[String: Any]])
                #expect(array.count == 2500)
                #expect(array.first?["input"] as? String == "ns/claim-0" && array.last?["input"] as? String == "ns/claim-2499")
            } else {
                let rows = text.split(separator: "\n")
                #expect(rows.count == 2501, "a header and one row per claim")
                #expect(rows.first?.hasPrefix("claim") == true && rows.dropFirst().allSatisfy { $0.hasPrefix("ns/claim-") })
            }
        }
    }

    @Test("very long keys and member names are cut in tables, and do not make the table quadratic")
    func longCells_areCut() async throws {
        let key = String(repeating: "k", count: 40_000)
        let dir = try TempDirectory(prefix: "ncp-long")
        let locate = try await runDaemon(["ring", "locate", "--members", "a,b", "--raw", key])
        #expect(locate.status == 0, "\(locate.stderr.prefix(500))")
        #expect(locate.stdout.split(separator: "\n").allSatisfy { $0.utf8.count < 1000 }, "\(locate.stdout.prefix(300))")
        #expect(locate.stdout.contains("(40000 bytes in all)"))
        let name = String(repeating: "m", count: 70_000)
        let balance = try await runDaemon(["ring", "balance", "--members", "\(name),b", "--compare", "10"])
        #expect(balance.status == 0, "\(balance.stderr.prefix(500))")
        #expect(balance.stdout.split(separator: "\n").allSatisfy { $0.utf8.count < 1000 })
        _ = dir
    }

    // MARK: the HTTP endpoint (item 1)

    func startDaemon(_ bed: EngineTestBed, extra: [String]) throws -> DaemonProcess {
        for m in ["a", "b"] { _ = bed.export(m) }
        return try DaemonProcess(
            arguments: ["run", "--kubeconfig", bed.root.child("kubeconfig"), "--mount-base", bed.root.child("exports"),
                        "--allow-unmounted-exports", "--http-address", "127.0.0.1:0", "--log-format", "json", "--min-free", "0",
                        "--no-leader-elect"] + extra,
            environment: ["PROVISIONER_NAME": bed.provisionerName, "NFS_SERVER": "a:b", "NFS_PATH": "/exports/a:/exports/b"],
            directory: bed.root, name: "http-\(extra.joined().count)")
    }

    func httpPort(_ daemon: DaemonProcess) async throws -> Int {
        try await daemon.waitForLog("serving /metrics")
        for line in daemon.errorOutput.split(separator: "\n") where line.contains("serving /metrics") {
            if let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
               let address = object["address"] as? String, let port = address.split(separator: ":").last.flatMap({ Int($0) }) {
                return port
            }
        }
        throw DaemonProcessError.logNotSeen("an address in the HTTP log line", stderr: daemon.errorOutput)
    }

    @Test("connections that send no request are closed after --http-idle-timeout; /healthz answers meanwhile")
    func idleConnections_areClosed() async throws {
        let bed = try await EngineTestBed.start()
        let daemon = try startDaemon(bed, extra: ["--http-idle-timeout", "1", "--http-max-connections", "64"])
        let port = try await httpPort(daemon)
        let idle = try (0..<10).map { _ in try RawConnection(port: port) }
        // A request head that never ends, and a request whose body never comes.
        let slowHead = try RawConnection(port: port)
        slowHead.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
        let slowBody = try RawConnection(port: port)
        slowBody.send("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nab")
        #expect(try await RawConnection.get(port: port, path: "/healthz").hasPrefix("HTTP/1.1 200"))
        for connection in idle + [slowHead, slowBody] {
            #expect(try await connection.waitForClose(within: .seconds(30)), "an idle or slow connection was never closed")
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    }

    @Test("past --http-max-connections the longest-idle connection is closed, so /healthz still gets in")
    func connectionCap_evictsTheLongestIdle() async throws {
        let bed = try await EngineTestBed.start()
        let daemon = try startDaemon(bed, extra: ["--http-idle-timeout", "600", "--http-max-connections", "4"])
        let port = try await httpPort(daemon)
        var idle: [RawConnection] = []
        for _ in 0..<8 {
            idle.append(try RawConnection(port: port))
            try await Task.sleep(for: .milliseconds(50))  // accepted in this order
        }
        #expect(try await RawConnection.get(port: port, path: "/healthz").hasPrefix("HTTP/1.1 200"))
        // The first five were evicted (four by the later idle ones, one by /healthz's).
        for connection in idle.prefix(5) {
            #expect(try await connection.waitForClose(within: .seconds(30)), "an old idle connection was not evicted")
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    }

    // MARK: RBAC (item 14)

    /// What deploy/base grants: (resource, verb) -> resource names (empty: any).
    static func grantedRules() throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var granted = Set<String>()
        for file in ["deploy/base/clusterrole.yaml", "deploy/base/leader-election-rbac.yaml"] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for case let document? in try Yams.load_all(yaml: text).map({ $0 as? [String: Any] }) where ["ClusterRole", "Role"].contains(document["kind"] as? String) {
                for rule in document["rules"] as? [[String: Any]] ?? [] {
                    let names = (rule["resourceNames"] as? [String])?.sorted().joined(separator: ",") ?? "*"
                    for resource in rule["resources"] as? [String] ?? [] {
                        for verb in rule["verbs"] as? [String] ?? [] { granted.insert("\(resource) \(verb) \(names)") }
                    }
                }
            }
        }
        return granted
    }

    @Test("every request the daemon makes through provisioning, reclaiming and leader election is allowed by deploy/base, which grants nothing more")
    func rbac_matchesTheRequests() async throws {
        let granted = try Self.grantedRules()
        #expect(granted == [
            "persistentvolumeclaims list *", "persistentvolumeclaims watch *",
            "persistentvolumes get *", "persistentvolumes list *", "persistentvolumes watch *", "persistentvolumes create *",
            "persistentvolumes delete *", "persistentvolumes patch *",
            "storageclasses list *", "storageclasses watch *",
            "events create *", "events patch *",
            "leases create *", "leases get example.com-nfs", "leases update example.com-nfs",
        ], "\(granted.sorted())")

        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        for m in ["a", "b"] { _ = bed.export(m) }
        let daemon = try DaemonProcess(
            arguments: ["run", "--kubeconfig", bed.root.child("kubeconfig"), "--mount-base", bed.root.child("exports"),
                        "--allow-unmounted-exports", "--http-address", "127.0.0.1:0", "--log-format", "json", "--min-free", "0",
                        "--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.5", "--leader-election-namespace", "kube-system"],
            environment: ["PROVISIONER_NAME": bed.provisionerName, "NFS_SERVER": "a:b", "NFS_PATH": "/exports/a:/exports/b", "POD_NAME": "p"],
            directory: bed.root, name: "rbac")
        try await daemon.waitForLog("became leader")
        // The test itself only creates the class and the claim and deletes the claim; it
        // waits on the daemon's log and the request log, so every other request is the daemon's.
        try await bed.createClaim("team", "data", className: "nfs")
        try await daemon.waitForLog("\"provisioned\"")
        try await bed.deleteClaim("team", "data")
        try await daemon.waitForLog("volume reclaimed")
        try await bed.waitUntil("the finalizer patch and a lease renewal") {
            let log = bed.cluster.requestLog
            return log.contains { $0.verb == .patch && $0.path.contains("/persistentvolumes/") }
                && log.contains { $0.verb == .update && $0.path.contains("/leases/") }
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)

        let ours: Set<String> = ["storageclasses create", "persistentvolumeclaims create", "persistentvolumeclaims delete"]
        var used = Set<String>()
        for record in bed.cluster.requestLog {
            guard let verb = record.verb else { continue }
            let parts = record.path.split(separator: "/").map(String.init)
            // /api/v1/[namespaces/<ns>/]<resource>[/<name>] or /apis/<group>/<version>/...
            var rest = Array(parts.dropFirst(parts.first == "api" ? 2 : 3))
            if rest.first == "namespaces", rest.count >= 3 { rest.removeFirst(2) }
            guard let resource = rest.first else { continue }
            let name = rest.count > 1 ? rest[1] : nil
            if ours.contains("\(resource) \(verb.rawValue)") { continue }
            used.insert("\(resource) \(verb.rawValue)")
            let allowed = granted.contains("\(resource) \(verb.rawValue) *")
                || (name.map { granted.contains("\(resource) \(verb.rawValue) \($0)") } ?? false)
            #expect(allowed, "the daemon sent \(record.method) \(record.path), which deploy/base does not allow")
        }
        for needed in ["persistentvolumeclaims list", "persistentvolumeclaims watch", "persistentvolumes create", "persistentvolumes delete",
                       "persistentvolumes patch", "storageclasses watch", "events create", "leases get", "leases update"] {
            #expect(used.contains(needed), "\(needed) was not seen: \(used.sorted())")
        }
    }
}

/// A TCP connection that sends nothing, to see when the server closes it.
final class RawConnection: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
    }

    deinit { close(fd) }

    /// True once the peer has closed the connection (a read returns end of file or a
    /// reset), false if it is still open after `within`. Polls on a helper thread.
    func waitForClose(within: Duration) async throws -> Bool {
        try await runBlocking { self.waitForCloseBlocking(within: within) }
    }

    private func waitForCloseBlocking(within: Duration) -> Bool {
        let deadline = ContinuousClock.now + within
        var buffer = [UInt8](repeating: 0, count: 256)
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 200) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return true }
        }
        return false
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// One GET on a fresh connection; the response's text. Polls on a helper thread.
    static func get(port: Int, path: String) async throws -> String {
        try await runBlocking { try getBlocking(port: port, path: path) }
    }

    private static func getBlocking(port: Int, path: String) throws -> String {
        let c = try RawConnection(port: port)
        c.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 200) > 0 else { continue }
            let n = recv(c.fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: response, as: UTF8.self)
    }
}
