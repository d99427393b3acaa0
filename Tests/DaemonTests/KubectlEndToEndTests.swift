import Foundation
import Glibc
import Testing
import TestSupport

/// The built binary's `playground` driven by the real kubectl (installed by
/// scripts/setup.sh): the deploy/examples files applied, waited for, described, watched and
/// deleted as a user would, the PVs validated against the Kubernetes schema.
@Suite("kubectl against the playground", .serialized, .timeLimit(.minutes(5)))
struct KubectlEndToEndTests {
    @Test("apply the example classes and claims, wait for Bound, validate the PVs, describe, watch, delete per policy, stop")
    func kubectl_appliesWaitsDescribesWatchesAndDeletes() async throws {
        let playground = try await Playground.start()
        let kubectl = playground.kubectl

        // Discovery: what kubectl learns before anything else.
        let resources = try await kubectl.run("api-resources")
        #expect(resources.status == 0, "\(resources)")
        for line in ["persistentvolumeclaims", "persistentvolumes", "storageclasses", "pods", "leases", "events"] {
            #expect(resources.stdout.contains(line), "\(resources.stdout)")
        }

        // The playground's classes are those of the example files: applying them changes
        // nothing that is immutable; a second apply has nothing to do.
        let classes = try await kubectl.run("get", "storageclass")
        #expect(classes.status == 0, "\(classes)")
        #expect(classes.columns("nfs-retain").prefix(5) == ["nfs-retain", "example.com/nfs", "Delete", "WaitForFirstConsumer", "false"],
                "\(classes.stdout)")
        let files = ["storageclass-delete.yaml", "storageclass-archive.yaml", "storageclass-retain.yaml",
                     "storageclass-original-archiveondelete.yaml"].flatMap { ["-f", Playground.example($0)] }
        let applied = try await kubectl.run(["apply"] + files)
        #expect(applied.status == 0, "\(applied)")
        #expect(applied.stdout.contains("storageclass.storage.k8s.io/nfs-delete configured"), "\(applied)")
        #expect(applied.stdout.contains("storageclass.storage.k8s.io/nfs-original created"), "\(applied)")
        let again = try await kubectl.run(["apply"] + files)
        #expect(again.status == 0 && again.stdout.components(separatedBy: "unchanged").count == 5, "\(again)")

        // A claim on an Immediate class binds by itself.
        let claim = try await kubectl.run("apply", "-f", Playground.example("pvc.yaml"))
        #expect(claim.stdout.contains("persistentvolumeclaim/shared-data created"), "\(claim)")
        let bound = try await kubectl.run("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/shared-data", "--timeout=90s")
        #expect(bound.status == 0 && bound.stdout.contains("persistentvolumeclaim/shared-data condition met"), "\(bound)")

        // A watch from here on: once it has printed the current claims, it misses nothing.
        let watch = try kubectl.start("get", "pvc", "--watch")
        defer { watch.stop() }
        try await watch.waitForOutput { Self.rows($0, "shared-data").contains { $0.dropFirst().first == "Bound" } }

        // StatefulSet claims on the WaitForFirstConsumer class wait for a node, which the
        // user sets in place of the scheduler.
        let set = try await kubectl.run("apply", "-f", Playground.example("statefulset-claims.yaml"))
        #expect(set.status == 0 && set.stdout.contains("persistentvolumeclaim/data-web-2 created"), "\(set)")
        let waiting = try await kubectl.run("describe", "pvc", "data-web-0")
        #expect(waiting.stdout.contains("WaitForFirstConsumer"), "\(waiting)")
        #expect(try await kubectl.run("get", "pvc", "data-web-0", "-o", "jsonpath={.status.phase}").stdout == "Pending")
        let annotated = try await kubectl.run("annotate", "pvc", "-l", "app=web", "volume.kubernetes.io/selected-node=playground-node")
        #expect(annotated.status == 0 && annotated.stdout.contains("persistentvolumeclaim/data-web-1 annotated"), "\(annotated)")
        let setBound = try await kubectl.run("wait", "--for=jsonpath={.status.phase}=Bound", "pvc", "-l", "app=web", "--timeout=90s")
        #expect(setBound.status == 0 && setBound.stdout.components(separatedBy: "condition met").count == 4, "\(setBound)")

        // The PVs as kubectl reads them validate against the Kubernetes schema.
        let pvs = try await kubectl.run("get", "pv", "-o", "json")
        #expect(pvs.status == 0, "\(pvs)")
        let pvFile = playground.directory.child("pvs.json")
        try pvs.stdout.write(toFile: pvFile, atomically: true, encoding: .utf8)
        let validation = try await runScript("scripts/validate-objects.sh", [pvFile])
        #expect(validation.status == 0, "\(validation.output)")
        let volumes = try Playground.volumes(pvs.stdout)
        #expect(Set(volumes.keys) == ["default/shared-data", "default/data-web-0", "default/data-web-1", "default/data-web-2"])
        let table = try await kubectl.run("get", "pv")
        let row = table.columns(volumes["default/shared-data"]?.name ?? "?")
        #expect(row.count >= 7 && row[1] == "1Gi" && row[2] == "RWX" && row[3] == "Delete" && row[4] == "Bound"
                && row[5] == "default/shared-data" && row[6] == "nfs-delete", "\(table.stdout)")

        // describe shows the claim and the events of the PV binder and the provisioner.
        let described = try await kubectl.run("describe", "pvc", "shared-data")
        #expect(described.status == 0, "\(described)")
        let words = described.stdout.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        for text in ["StorageClass: nfs-delete", "Status: Bound", "Used By: <none>", "Access Modes: RWX",
                     "Normal ExternalProvisioning", "Normal Provisioning", "Normal ProvisioningSucceeded", "nfs-cluster-provisioner"] {
            #expect(words.contains(text), "describe lacks \(text):\n\(described.stdout)")
        }

        // Delete: the PV goes; the directory per the class's policy.
        let shared = try #require(volumes["default/shared-data"])
        let sharedDirectory = try playground.directory(of: shared)
        let retained = try #require(volumes["default/data-web-1"])
        let retainedDirectory = try playground.directory(of: retained)
        #expect(FileManager.default.fileExists(atPath: sharedDirectory) && FileManager.default.fileExists(atPath: retainedDirectory))
        let deleted = try await kubectl.run("delete", "pvc", "shared-data", "data-web-1")
        #expect(deleted.status == 0 && deleted.stdout.contains("persistentvolumeclaim \"shared-data\" deleted"), "\(deleted)")
        try await kubectl.waitUntil("the two PVs are gone") {
            let names = try await kubectl.run("get", "pv", "-o", "name").stdout
            return !names.contains(shared.name) && !names.contains(retained.name)
        }
        #expect(!FileManager.default.fileExists(atPath: sharedDirectory), "onDelete=delete removes the directory")
        #expect(FileManager.default.fileExists(atPath: retainedDirectory), "onDelete=retain keeps the directory")

        // The watch saw the claim set appear and bind, and the deleted claims terminate.
        try await watch.waitForOutput { output in
            let web = Self.rows(output, "data-web-0").compactMap { $0.dropFirst().first }
            return web.contains("Pending") && web.contains("Bound")
                && Self.rows(output, "shared-data").contains { $0.dropFirst().first == "Terminating" }
                && Self.rows(output, "data-web-1").contains { $0.dropFirst().first == "Terminating" }
        }
        #expect(watch.output.hasPrefix("NAME"), "\(watch.output)")

        let status = try await playground.stop()
        #expect(status == 0, "\(playground.process.errorOutput.suffix(3000))")
        #expect(playground.process.output.contains("playground stopped"))
        #expect(!FileManager.default.fileExists(atPath: playground.root), "the playground's temporary directory is removed")
    }

    /// The cells of the lines of `output` whose first cell is `name`.
    static func rows(_ output: String, _ name: String) -> [[String]] {
        output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            .filter { $0.first == name }
    }

    @Test("kubectl's writes meet the API server's rules: strict field validation, immutability, a watch of PVs")
    func kubectl_seesTheServersValidationAndWatchesVolumes() async throws {
        let playground = try await Playground.start(extra: ["--members", "2"])
        let kubectl = playground.kubectl

        let typo = playground.directory.child("typo.yaml")
        try """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: typo
            spec:
              storageClassNam: nfs-delete
              accessModes: [ReadWriteOnce]
              resources:
                requests:
                  storage: 1Gi
            """.write(toFile: typo, atomically: true, encoding: .utf8)
        let strict = try await kubectl.run("apply", "-f", typo)
        #expect(strict.status != 0, "\(strict)")
        #expect(strict.stderr.contains("unknown field \"spec.storageClassNam\""), "\(strict)")

        let changed = playground.directory.child("changed.yaml")
        try String(contentsOfFile: Playground.example("storageclass-delete.yaml"), encoding: .utf8)
            .replacing("onDelete: delete", with: "onDelete: archive")
            .write(toFile: changed, atomically: true, encoding: .utf8)
        let immutable = try await kubectl.run("apply", "-f", changed)
        #expect(immutable.status != 0 && immutable.stderr.contains("updates to parameters are forbidden"), "\(immutable)")

        let claim = try await kubectl.run("create", "-f", Playground.example("pvc.yaml"))
        #expect(claim.status == 0, "\(claim)")
        #expect(try await kubectl.run("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/shared-data", "--timeout=90s").status == 0)
        // The watch lists the PV as ADDED first; from then on it misses nothing.
        let watch = try kubectl.start("get", "pv", "--watch", "--output-watch-events")
        defer { watch.stop() }
        try await watch.waitForOutput { $0.contains("ADDED") }
        #expect(try await kubectl.run("delete", "pvc", "shared-data").status == 0)
        try await watch.waitForOutput { output in output.contains("MODIFIED") && output.contains("DELETED") }
        #expect(watch.output.split(separator: "\n").filter { $0.contains("DELETED") }.allSatisfy { $0.contains("default/shared-data") },
                "\(watch.output)")

        #expect(try await playground.stop() == 0)
    }

    @Test("--no-provisioner --keep: claims wait for an external provisioner; SIGINT keeps the files; provisioner.yaml checks out")
    func playground_withoutProvisioner_keepsItsFiles() async throws {
        let playground = try await Playground.start(extra: ["--no-provisioner", "--keep", "--members", "2"])
        #expect(playground.process.output.contains("no provisioner: run nfs-cluster-provisioner run --config"), "\(playground.process.output)")
        let kubectl = playground.kubectl
        #expect(try await kubectl.run("apply", "-f", Playground.example("pvc.yaml")).status == 0)
        let described = try await kubectl.run("describe", "pvc", "shared-data")
        #expect(described.stdout.contains("Waiting for a volume to be created either by the external provisioner 'example.com/nfs'")
                || described.stdout.contains("ExternalProvisioning"), "\(described)")
        #expect(try await kubectl.run("get", "pvc", "shared-data", "-o", "jsonpath={.status.phase}").stdout == "Pending")

        playground.process.signal(SIGINT)
        #expect(try await playground.process.waitForExit(timeout: .seconds(30)) == 0)
        #expect(playground.process.output.contains("kept \(playground.root)"))
        for path in [playground.kubeconfig, playground.root + "/provisioner.yaml"] + playground.members.values.sorted() {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) kept")
        }
        let check = try await runDaemon(["check", "--config", playground.root + "/provisioner.yaml", "--allow-unmounted-exports"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("nfs-1") && check.stdout.contains("nfs-2"), "\(check.stdout)")
        try? FileManager.default.removeItem(atPath: playground.root)
    }

    @Test("bad input: members out of range, an existing kubeconfig, a non-empty member directory, a taken port (exit 2)")
    func playground_badInput_exits2WithTheReason() async throws {
        let directory = try TempDirectory(prefix: "ncp-playground-input")
        let members = try await runDaemon(["playground", "--members", "0", "--directory", directory.path])
        #expect(members.status == 2 && members.stderr.contains("--members must be between 1 and 64"), "\(members.stderr)")

        let existing = directory.child("config")
        try "apiVersion: v1\n".write(toFile: existing, atomically: true, encoding: .utf8)
        let kubeconfig = try await runDaemon(["playground", "--directory", directory.path, "--kubeconfig", existing])
        #expect(kubeconfig.status == 2 && kubeconfig.stderr.contains("\(existing) exists"), "\(kubeconfig.stderr)")
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "apiVersion: v1\n", "an existing file is never replaced")

        try FileManager.default.createDirectory(atPath: directory.child("nfs-1/left-over"), withIntermediateDirectories: true)
        let kept = try await runDaemon(["playground", "--directory", directory.path])
        #expect(kept.status == 2 && kept.stderr.contains("nfs-1 is not empty"), "\(kept.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory.child("nfs-1/left-over")))

        let first = try await Playground.start(extra: ["--no-provisioner"])
        let port = try #require(URL(string: first.url)?.port)
        let taken = try await runDaemon(["playground", "--no-provisioner", "--port", String(port)])
        #expect(taken.status == 2 && taken.stderr.contains("cannot listen on 127.0.0.1:\(port)"), "\(taken.stderr)")
        #expect(try await first.stop() == 0)
    }
}

/// A running `nfs-cluster-provisioner playground`, with what it printed.
final class Playground: Sendable {
    let directory: TempDirectory
    let process: DaemonProcess
    let root: String
    let kubeconfig: String
    let url: String
    /// Member name → its export directory.
    let members: [String: String]

    init(directory: TempDirectory, process: DaemonProcess, root: String, kubeconfig: String, url: String, members: [String: String]) {
        self.directory = directory
        self.process = process
        self.root = root
        self.kubeconfig = kubeconfig
        self.url = url
        self.members = members
    }

    /// Starts the playground in a temporary directory of its own and waits for "ready".
    static func start(extra: [String] = []) async throws -> Playground {
        let directory = try TempDirectory(prefix: "ncp-playground-test")
        let root = directory.child("playground")
        let process = try DaemonProcess(arguments: ["playground", "--directory", root] + extra, directory: directory, name: "playground")
        let deadline = ContinuousClock.now + .seconds(60)
        while !process.output.contains("playground ready: ") {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw KubectlTestError("the playground did not get ready:\n\(process.output)\n\(process.errorOutput.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        var members: [String: String] = [:]
        var kubeconfig = ""
        var url = ""
        for line in process.output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("member "), let colon = line.firstIndex(of: ":") {
                members[String(line[line.index(line.startIndex, offsetBy: 7)..<colon])] = String(line[line.index(colon, offsetBy: 2)...])
            } else if line.hasPrefix("export KUBECONFIG=") {
                kubeconfig = String(line.dropFirst("export KUBECONFIG=".count))
            } else if line.hasPrefix("playground ready: ") {
                url = String(line.dropFirst("playground ready: ".count))
            }
        }
        #expect(kubeconfig == root + "/kubeconfig", "\(process.output)")
        #expect(members.count == Int(extra.firstIndex(of: "--members").map { extra[$0 + 1] } ?? "3"), "\(process.output)")
        #expect(members.values.allSatisfy { $0.hasPrefix(root + "/nfs-") && FileManager.default.fileExists(atPath: $0) })
        return Playground(directory: directory, process: process, root: root, kubeconfig: kubeconfig, url: url, members: members)
    }

    var kubectl: Kubectl { Kubectl(kubeconfig: kubeconfig, home: directory.child("home")) }

    /// SIGTERM, then the exit status.
    func stop() async throws -> Int32 {
        process.signal(SIGTERM)
        return try await process.waitForExit(timeout: .seconds(30))
    }

    /// A file of deploy/examples.
    static func example(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/examples/\(name)").path
    }

    struct Volume {
        var name: String
        var server: String
        var path: String
    }

    /// The PVs of a `kubectl get pv -o json` list, by their claim's namespace/name.
    static func volumes(_ json: String) throws -> [String: Volume] {
        guard let list = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let items = list["items"] as? [[String: Any]] else { throw KubectlTestError("not a list: \(json.prefix(500))") }
        var out: [String: Volume] = [:]
        for item in items {
            let metadata = item["metadata"] as? [String: Any] ?? [:]
            let spec = item["spec"] as? [String: Any] ?? [:]
            let ref = spec["claimRef"] as? [String: Any] ?? [:]
            let nfs = spec["nfs"] as? [String: Any] ?? [:]
            let key = "\(ref["namespace"] as? String ?? "")/\(ref["name"] as? String ?? "")"
            out[key] = Volume(name: metadata["name"] as? String ?? "", server: nfs["server"] as? String ?? "", path: nfs["path"] as? String ?? "")
        }
        return out
    }

    /// The local directory of a volume: its server names the member (`nfs-N.playground.local`),
    /// its path is below the member's export (`/exports`).
    func directory(of volume: Volume) throws -> String {
        let member = String(volume.server.prefix { $0 != "." })
        guard let root = members[member], volume.path.hasPrefix("/exports/") else {
            throw KubectlTestError("volume \(volume.name) at \(volume.server):\(volume.path) is on no member of \(members)")
        }
        return root + "/" + volume.path.dropFirst("/exports/".count)
    }
}

/// kubectl with the playground's kubeconfig, a HOME and a discovery cache of its own.
struct Kubectl: Sendable {
    let kubeconfig: String
    let home: String

    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }

        /// The whitespace-separated cells of the first output line starting with `name`.
        func columns(_ name: String) -> [String] {
            for line in stdout.split(separator: "\n") {
                let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                if cells.first == name { return cells }
            }
            return []
        }
    }

    static func executable() throws -> String {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/kubectl"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw KubectlTestError("kubectl is not on PATH; scripts/setup.sh installs it")
    }

    func process(_ arguments: [String], output: String, error: String) throws -> Process {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.executable())
        process.arguments = ["--kubeconfig", kubeconfig, "--cache-dir", home + "/cache"] + arguments
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": home]
        for path in [output, error] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw KubectlTestError("cannot create \(path)")
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: error))
        process.standardInput = FileHandle.nullDevice
        return process
    }

    func run(_ arguments: String...) async throws -> Result { try await run(arguments) }

    /// Runs kubectl to completion (at most `timeout`).
    func run(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> Result {
        let id = UUID().uuidString
        let output = home + "/\(id).out", error = home + "/\(id).err"
        let process = try process(arguments, output: output, error: error)
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw KubectlTestError("kubectl \(arguments.joined(separator: " ")) did not finish in \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let result = Result(status: process.terminationStatus,
                            stdout: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "",
                            stderr: (try? String(contentsOfFile: error, encoding: .utf8)) ?? "")
        try? FileManager.default.removeItem(atPath: output)
        try? FileManager.default.removeItem(atPath: error)
        return result
    }

    /// Re-runs `condition` (kubectl calls) until it holds, at most 60 s.
    func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw KubectlTestError("timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Starts a long-running kubectl (`get --watch`).
    func start(_ arguments: String...) throws -> Background {
        let id = UUID().uuidString
        let output = home + "/\(id).out"
        let process = try process(arguments, output: output, error: home + "/\(id).err")
        try process.run()
        return Background(process: process, outputPath: output)
    }

    final class Background: @unchecked Sendable {
        let process: Process
        let outputPath: String
        init(process: Process, outputPath: String) {
            self.process = process
            self.outputPath = outputPath
        }

        var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

        /// Waits until the output satisfies `condition` (at most 60 s, then throws).
        func waitForOutput(_ condition: (String) -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while !condition(output) {
                guard ContinuousClock.now < deadline, process.isRunning else {
                    throw KubectlTestError("kubectl \(process.arguments?.joined(separator: " ") ?? "") never printed what was expected:\n\(output)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        func stop() { if process.isRunning { process.terminate() } }
    }
}

struct KubectlTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
