// Child processes for the real-server helpers (nfs-ganesha, rpcbind, bindfs).
import Foundation
import Glibc

/// A process started by a test helper: its pid (for SIGSTOP/SIGCONT/SIGKILL), whether it
/// still runs, and its exit status. Output goes to a log file the helper can quote when
/// something goes wrong.
///
/// Used by ``GaneshaServer`` and ``BindfsMount``. Blocking methods (``waitForExit(timeout:)``)
/// belong on a dedicated thread (``HelperThread/run(_:)``), never on the cooperative pool.
public final class ChildProcess: @unchecked Sendable {
    private let process: Process
    /// The command line, for messages.
    public let commandLine: String
    /// Where stdout and stderr go.
    public let logPath: String?

    /// Starts `executable` with `arguments`; stdout and stderr are appended to `logPath`
    /// (or discarded).
    public init(_ executable: String, _ arguments: [String], logPath: String? = nil) throws(HelperError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        if let logPath {
            let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw .cannotStart(command: executable, reason: "cannot open its log \(logPath): errno \(errno)")
            }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        self.process = process
        self.commandLine = ([executable] + arguments).joined(separator: " ")
        self.logPath = logPath
        do {
            try process.run()
        } catch {
            throw .cannotStart(command: commandLine, reason: "\(error)")
        }
    }

    public var pid: Int32 { process.processIdentifier }

    public var isRunning: Bool { process.isRunning }

    /// The exit status (or signal number) once the process ended.
    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Sends `signal` (SIGSTOP, SIGCONT, SIGKILL...) to the process. For SIGSTOP, returns
    /// once the kernel reports it stopped (a multi-threaded process stops each thread at its
    /// next return to user space, which takes a moment on a busy machine).
    public func send(_ signal: Int32) {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(pid, signal)
        if signal == SIGSTOP {
            HelperThread.poll(timeout: .seconds(5)) { Self.allThreadsStopped(pid) }
        }
    }

    /// Whether every thread of `pid` is in state T (stopped), per `/proc/<pid>/task/*/stat`.
    static func allThreadsStopped(_ pid: Int32) -> Bool {
        let tasks: [String]
        do {
            tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        } catch {
            return true  // gone: nothing left running
        }
        return tasks.allSatisfy { state(of: "/proc/\(pid)/task/\($0)/stat") == "T" }
    }

    /// The state letter of a `stat` file of /proc (R running, S sleeping, T stopped...).
    static func state(of path: String) -> Character? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        // "pid (comm) S ...": the command may contain spaces, so read after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].first { $0 != " " }
    }

    /// Blocks until the process ended or `timeout` passed; true when it ended.
    @discardableResult
    public func waitForExit(timeout: Duration) -> Bool {
        HelperThread.poll(timeout: timeout) { !self.process.isRunning }
    }

    /// SIGKILL and wait for the exit (a stopped process dies too).
    public func killAndWait() {
        send(SIGKILL)
        waitForExit(timeout: .seconds(10))
    }

    /// The last `lines` lines of the log, for failure messages.
    public func logTail(lines: Int = 15) -> String {
        guard let logPath, let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Runs a command to its end (blocking) and returns its exit status and output.
    public static func run(
        _ executable: String, _ arguments: [String], environment extra: [String: String] = [:]
    ) throws(HelperError) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !extra.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        }
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            throw .cannotStart(command: ([executable] + arguments).joined(separator: " "), reason: "\(error)")
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

extension ChildProcess {
    /// Runs a command that daemonises (forks and exits) to its end with `posix_spawn` and
    /// `waitpid`, output discarded, and returns its exit status. Blocking.
    public static func spawnAndWait(_ executable: String, _ arguments: [String]) throws(HelperError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw .cannotStart(command: executable, reason: "posix_spawn failed: errno \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw .cannotStart(command: executable, reason: "waitpid failed: errno \(errno)")
            }
        }
        // WIFEXITED / WEXITSTATUS, spelled out (they are macros).
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}

/// Why a real-server helper could not do its job. Tests that need the server fail with this
/// message (they are never skipped silently).
public enum HelperError: Error, CustomStringConvertible, Sendable {
    case cannotStart(command: String, reason: String)
    case packagesUnavailable(packages: [String], log: String)
    case notReady(what: String, after: Duration, log: String)
    case exited(what: String, status: Int32, log: String)
    case commandFailed(command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case .cannotStart(let command, let reason):
            "cannot start \(command): \(reason)"
        case .packagesUnavailable(let packages, let log):
            "the Debian packages \(packages.joined(separator: " ")) are missing and apt-get could not install them:\n\(log)"
        case .notReady(let what, let after, let log):
            "\(what) did not become ready within \(after); log:\n\(log)"
        case .exited(let what, let status, let log):
            "\(what) exited with status \(status) while starting; log:\n\(log)"
        case .commandFailed(let command, let status, let output):
            "\(command) failed with status \(status): \(output)"
        }
    }
}

/// Blocking helper work off the Swift cooperative pool.
public enum HelperThread {
    /// Runs `body` on a new thread and returns its result: process starts, polls and waits
    /// block, and must not occupy the (two, here) cooperative threads.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.start()
        }
    }

    /// Blocks the calling (helper) thread for `duration`.
    public static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        nanosleep(&request, nil)
    }

    /// Calls `condition` every 20 ms until it is true or `timeout` passed (blocking).
    @discardableResult
    public static func poll(timeout: Duration, interval: Duration = .milliseconds(20), _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if condition() { return true }
            if ContinuousClock.now >= deadline { return false }
            sleep(interval)
        }
    }
}

/// Debian packages the real-server helpers need, installed once per process when missing.
public enum HelperPackages {
    /// Installs `packages` unless `probe` exists; `apt-get update` first if the install
    /// fails (a fresh machine may have no package lists). Blocking.
    public static func ensure(_ packages: [String], probe: String) throws(HelperError) {
        if FileManager.default.isExecutableFile(atPath: probe) { return }
        let apt = "/usr/bin/apt-get"
        let install = ["install", "-y", "-q"] + packages
        let quiet = ["DEBIAN_FRONTEND": "noninteractive"]
        var result = try ChildProcess.run(apt, install, environment: quiet)
        if result.status != 0 {
            _ = try ChildProcess.run(apt, ["update", "-q"], environment: quiet)
            result = try ChildProcess.run(apt, install, environment: quiet)
        }
        guard result.status == 0, FileManager.default.isExecutableFile(atPath: probe) else {
            throw .packagesUnavailable(packages: packages, log: String(result.output.suffix(2000)))
        }
    }
}

/// Loopback TCP helpers.
public enum LoopbackPort {
    /// A port that was free on 127.0.0.1 a moment ago, for a server.
    ///
    /// Taken *below* the kernel's ephemeral range (`ip_local_port_range`) when possible:
    /// a client socket never gets such a port as its local port, so nothing can take a
    /// server's port between this check and the server's bind, nor while a test server is
    /// down before its restart on the same ports.
    public static func free() throws(HelperError) -> UInt16 {
        let ephemeralLow = ephemeralRangeStart()
        if ephemeralLow > 12_000 {
            for _ in 0..<64 {
                let candidate = UInt16.random(in: 10_000..<UInt16(ephemeralLow))
                if canBind(candidate) { return candidate }
            }
        }
        return try kernelChosen()
    }

    /// The first port of `/proc/sys/net/ipv4/ip_local_port_range` (32768 by default).
    private static func ephemeralRangeStart() -> Int {
        guard let data = FileManager.default.contents(atPath: "/proc/sys/net/ipv4/ip_local_port_range"),
            let first = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first,
            let value = Int(first), value > 1024, value <= 65535
        else { return 32768 }
        return value
    }

    private static func canBind(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Bind to port 0, read the port the kernel chose, close.
    private static func kernelChosen() throws(HelperError) -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .cannotStart(command: "socket", reason: "errno \(errno)") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw .cannotStart(command: "bind", reason: "errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw .cannotStart(command: "getsockname", reason: "errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
