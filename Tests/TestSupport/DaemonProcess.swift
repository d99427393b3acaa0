// Runs the built `nfs-cluster-provisioner` binary for end-to-end tests.
package import Foundation
import Glibc

/// A child process of the daemon binary, its output captured to files.
package final class DaemonProcess: @unchecked Sendable {
    package let process: Process
    package let outputPath: String
    package let errorPath: String

    /// The built binary, next to the test bundle (`swift test` builds every product).
    package static func binaryPath() throws -> String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // The test runner may be inside `<name>.xctest/` on some platforms.
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        let path = directory.appendingPathComponent("nfs-cluster-provisioner").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw DaemonProcessError.binaryMissing(path)
        }
        return path
    }

    /// Starts the binary with `arguments`; `environment` replaces the inherited one except
    /// PATH, HOME and TMPDIR.
    package init(arguments: [String], environment: [String: String] = [:], directory: TempDirectory, name: String = "daemon") throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binaryPath())
        process.arguments = arguments
        var env: [String: String] = [:]
        for key in ["PATH", "HOME", "TMPDIR"] { env[key] = ProcessInfo.processInfo.environment[key] }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        outputPath = directory.child("\(name).stdout")
        errorPath = directory.child("\(name).stderr")
        for path in [outputPath, errorPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    package var pid: Int32 { process.processIdentifier }
    package var isRunning: Bool { process.isRunning }
    package var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    package var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    package func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit (polling, 20 ms apart); returns its exit status, or
    /// throws after `timeout` (and kills it).
    @discardableResult
    package func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw DaemonProcessError.didNotExit(stderr: errorOutput)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Waits until the standard error contains `text`.
    package func waitForLog(_ text: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !errorOutput.contains(text) {
            if ContinuousClock.now > deadline || !process.isRunning {
                throw DaemonProcessError.logNotSeen(text, stderr: errorOutput)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

package enum DaemonProcessError: Error, CustomStringConvertible {
    case binaryMissing(String)
    case didNotExit(stderr: String)
    case logNotSeen(String, stderr: String)

    package var description: String {
        switch self {
        case .binaryMissing(let path): return "the daemon binary is not at \(path); build it first (swift build)"
        case .didNotExit(let err): return "the daemon did not exit in time; its stderr:\n\(err.suffix(4000))"
        case .logNotSeen(let text, let err): return "the daemon never logged \"\(text)\"; its stderr:\n\(err.suffix(4000))"
        }
    }
}

/// Runs the binary to completion (for short commands) and returns (status, stdout, stderr).
package func runDaemon(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                      timeout: Duration = .seconds(60)) async throws -> (status: Int32, stdout: String, stderr: String) {
    let directory = try TempDirectory(prefix: "ncp-cli")
    let p = try DaemonProcess(arguments: arguments, environment: environment, directory: directory)
    let status = try await p.waitForExit(timeout: timeout)
    return (status, p.output, p.errorOutput)
}
