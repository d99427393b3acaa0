import ArgumentParser
import Engine
import KubeRuntime
import VolumeStorage
import Foundation

/// `nfs-cluster-provisioner`: the daemon and its operator tools.
///
/// Exit codes: 0 success; 1 a runtime failure; 2 bad input (an unknown flag, a bad
/// configuration, an unreadable file) — reported on one line naming the problem and the
/// fix, before anything touches the cluster or the disks.
@main
struct NFSClusterProvisioner: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nfs-cluster-provisioner",
        abstract: "A Kubernetes volume provisioner that spreads PersistentVolumes over many NFS servers.",
        version: EngineInfo.version,
        subcommands: [RunCommand.self, DemoCommand.self, PlaygroundCommand.self, RingCommand.self, CheckCommand.self],
        defaultSubcommand: RunCommand.self
    )

    /// Replaces ArgumentParser's default handling so usage errors are one line and exit 2
    /// (its default is a multi-line usage dump and exit 64).
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }  // --help, --version
            fail("\(message(for: error)); run `nfs-cluster-provisioner --help` for usage", code: 2)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch let error as UsageError {
            fail(error.message, code: 2)
        } catch let error as ConfigurationError {
            fail(error.description, code: 2)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            fail("\(error)", code: 1)
        }
    }

    /// Prints the error on one line: whatever a message echoes, control characters are
    /// escaped and the line is capped (``Echo``).
    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("nfs-cluster-provisioner: error: \(Echo.line(message))\n".utf8))
        Foundation.exit(code)
    }
}

/// Bad input found while running a command (after parsing): exit 2.
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
