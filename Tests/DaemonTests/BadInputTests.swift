import Foundation
import Testing
import TestSupport

/// Every bad input is one line naming the problem and the fix, exit code 2, before anything
/// touches the cluster or the disks.
@Suite("Daemon: bad input", .timeLimit(.minutes(2)))
struct BadInputTests {
    static let env = ["PROVISIONER_NAME": "example.com/nfs", "NFS_SERVER": "a:b", "NFS_PATH": "/x:/y"]

    static func with(_ changes: [String: String?]) -> [String: String] {
        var e = env
        for (k, v) in changes { e[k] = v }
        return e
    }

    @Test("each bad input exits 2 with one line naming it", arguments: [
        (["run"], with(["NFS_PATH": "/x"]), "NFS_SERVER lists 2 servers but NFS_PATH lists 1 path"),
        (["run"], with(["NFS_SERVER": "a::b", "NFS_PATH": "/x:/y:/z"]), "NFS_SERVER entry 2 is empty"),
        (["run"], with(["NFS_SERVER": "a:a", "NFS_PATH": "/x:/y"]), "lists a twice"),
        (["run"], with(["PROVISIONER_NAME": "Not A Name!"]), "not a valid provisioner name"),
        (["run"], with(["PROVISIONER_NAME": nil]), "PROVISIONER_NAME is not set"),
        (["run", "--kubeconfig", "/nonexistent/kubeconfig"], env, "/nonexistent/kubeconfig"),
        (["run", "--frobnicate"], env, "Unknown option '--frobnicate'"),
        (["--frobnicate"], env, "Unknown option '--frobnicate'"),
        (["run", "--http-address", "nonsense"], env, "--http-address \"nonsense\" is not [host]:port"),
        (["run", "--min-free", "lots"], env, "--min-free \"lots\" is not a quantity"),
        (["run", "--lease-duration", "0"], env, "--lease-duration must be a positive number"),
        (["run", "--kube-api-qps=-1"], env, "--kube-api-qps must be a number of requests per second"),
        (["run", "--kube-api-burst", "0"], env, "--kube-api-burst must be at least 1"),
        (["demo", "--kube-api-qps", "nan"], [:], "--kube-api-qps must be a number of requests per second"),
        (["run", "--lease-duration", "5", "--renew-deadline", "6"], env, "leaseDuration must exceed renewDeadline"),
        (["run", "--config", "/nonexistent/config.yaml"], env, "cannot read configuration file /nonexistent/config.yaml"),
        (["check"], [:], "no configuration"),
        (["ring", "locate", "--members", "a,,b", "ns/c"], [:], "entry 2 is empty"),
        (["ring", "locate", "--members", "a,b", "not-a-claim"], [:], "is not <namespace>/<claim>"),
        (["ring", "locate", "--members", "a*0", "ns/c"], [:], "invalid weight"),
        (["ring", "balance", "--members", "a,b", "--hash", "md5"], [:], "not a hash"),
    ] as [([String], [String: String], String)])
    func badInput_exits2WithOneLine(arguments: [String], environment: [String: String], message: String) async throws {
        let result = try await runDaemon(arguments, environment: environment, timeout: .seconds(30))
        #expect(result.status == 2, "exit \(result.status); stderr: \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got:\n\(result.stderr)")
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("nfs-cluster-provisioner: error: "))
    }

    @Test("a malformed configuration file names the file and the field")
    func badConfigFile_namesFileAndField() async throws {
        let dir = try TempDirectory(prefix: "ncp-bad-config")
        let path = try dir.writeFile("config.yaml", "provisionerName: example.com/nfs\nmembers:\n  - address: a\n    export: /e\n    wieght: 2\n")
        let result = try await runDaemon(["check", "--config", path], timeout: .seconds(30))
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(path): members[0].wieght is not a known setting"), "\(result.stderr)")
    }

    @Test("--help exits 0 and documents the environment")
    func help_exits0() async throws {
        let result = try await runDaemon(["run", "--help"], timeout: .seconds(30))
        #expect(result.status == 0)
        #expect(result.stdout.contains("NFS_SERVER"))
        #expect(result.stdout.contains("--leader-elect"))
    }
}
