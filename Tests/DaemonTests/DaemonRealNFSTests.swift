// The daemon against real nfs-ganesha servers: `demo --real-nfs`, `check` of direct members
// with explicit ports.
import Foundation
import Glibc
import Testing
import TestSupport

@Suite("Daemon against nfs-ganesha: demo --real-nfs, check with ports", .timeLimit(.minutes(3)))
struct DaemonRealNFSTests {
    @Test("demo --real-nfs exits 0 over real NFS servers, lists them, and stops them at the end")
    func realNFSDemo_exits0_andStopsItsServers() async throws {
        let result = try await runDaemon(["demo", "--real-nfs", "--claims", "9", "--members", "2"], timeout: .seconds(150))
        #expect(result.status == 0, "\(result.stdout.suffix(3000))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("every check matched what the cluster holds"))
        #expect(result.stdout.contains("PVs in the cluster: 7 (expected 7)"))
        // Every member is a direct NFSv3 member on its server's own ports.
        let servers = result.stdout.split(separator: "\n").filter { $0.contains(": nfs-ganesha pid ") }
        #expect(servers.count == 2, "\(result.stdout.prefix(2000))")
        #expect(result.stdout.split(separator: "\n").filter { $0.contains("direct NFSv3, ports ") }.count == 2)
        #expect(result.stdout.contains("127.0.0.1:/export/"), "PVs name the server and the export")
        #expect(result.stdout.contains("stopped 2 nfs-ganesha servers"))
        for line in servers {
            let pid = try #require(line.split(separator: " ").drop { $0 != "pid" }.dropFirst().first.flatMap { Int32($0) }, "\(line)")
            #expect(!isGanesha(pid), "ganesha \(pid) still runs after the demo")
        }
    }

    @Test("demo --real-nfs whose servers cannot start says why on one line and exits 2")
    func realNFSDemo_serversCannotStart_exits2WithOneLine() async throws {
        let directory = try TempDirectory(prefix: "ncp-demo-bad")
        defer { directory.remove() }
        // A quote cannot go into ganesha's configuration: the server refuses to start.
        let bad = directory.child("bad\"dir")
        let result = try await runDaemon(["demo", "--real-nfs", "--members", "2", "--directory", bad], timeout: .seconds(60))
        #expect(result.status == 2, "exit \(result.status); stdout: \(result.stdout.suffix(1000)); stderr: \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(result.stderr)")
        #expect(result.stderr.contains("demo --real-nfs: cannot start nfs-ganesha:"))
        #expect(result.stderr.contains("contains a quote"))
        #expect(!result.stdout.contains("LocalCluster serving"), "nothing else ran")
    }

    @Test("check reaches direct members on the ports the YAML names, and fails the one whose port is wrong")
    func check_directMembersWithPorts_reachesThemThroughTheConfiguredPorts() async throws {
        let server = try await GaneshaServer.start()
        defer { server.stop() }
        let directory = try TempDirectory(prefix: "ncp-check-ports")
        defer { directory.remove() }
        let wrongPort = try LoopbackPort.free()
        let config = try directory.writeFile("config.yaml", """
            provisionerName: example.com/nfs
            members:
              - name: good
                address: 127.0.0.1
                export: /export
                mode: direct
                nfsPort: \(server.nfsPort)
                mountPort: \(server.mountPort)
              - name: wrong
                address: 127.0.0.1
                export: /export
                mode: direct
                nfsPort: \(server.nfsPort)
                mountPort: \(wrongPort)
            """)
        let result = try await runDaemon(["check", "--config", config, "--output", "json", "--timeout", "3"], timeout: .seconds(60))
        #expect(result.status == 1, "one member fails: \(result.stdout) \(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let members = try #require(document["members"] as? [[String: Any]])
        let good = try #require(members.first { $0["member"] as? String == "good" })
        let wrong = try #require(members.first { $0["member"] as? String == "wrong" })
        #expect(good["ok"] as? Bool == true, "\(good)")
        #expect(good["mode"] as? String == "direct" && good["nfsPort"] as? Int == Int(server.nfsPort))
        #expect(wrong["ok"] as? Bool == false)
        #expect((wrong["error"] as? String)?.contains("mount port \(wrongPort)") == true, "\(wrong)")

        // The table shows the same: each direct member's ports, and the failure.
        let table = try await runDaemon(["check", "--config", config, "--timeout", "3"], timeout: .seconds(60))
        #expect(table.status == 1)
        let goodRow = try #require(table.stdout.split(separator: "\n").first { $0.contains("good") }, "\(table.stdout)")
        #expect(goodRow.contains("direct nfs:\(server.nfsPort) mount:\(server.mountPort)") && goodRow.contains(" ok "), "\(goodRow)")
        let wrongRow = try #require(table.stdout.split(separator: "\n").first { $0.contains("wrong") }, "\(table.stdout)")
        #expect(wrongRow.contains("mount:\(wrongPort)") && wrongRow.contains("FAILED"), "\(wrongRow)")
    }

    /// Whether `pid` is a running ganesha.nfsd (its /proc entry names it).
    private func isGanesha(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/comm") else { return false }
        return String(decoding: data, as: UTF8.self).hasPrefix("ganesha")
    }
}
