// Child processes of the real-server helpers (nfs-ganesha, rpcbind; bindfs in TestSupport).
import Foundation
import Glibc

/// A process started by a helper: its pid (for SIGSTOP/SIGCONT/SIGKILL), whether it
/// still runs, and its exit status. Output goes to a log file the helper can quote when
/// something goes wrong.
///
/// Used by ``GaneshaServer`` (and TestSupport's `BindfsMount`). Blocking methods (``waitForExit(timeout:)``)
/// belong on a dedicated thread (``HelperThread/run(_:)``), never on the cooperative pool.
package final class ChildProcess: @unchecked Sendable {
    private let process: Process
    /// The command line, for messages.
    package let commandLine: String
    /// Where stdout and stderr go.
    package let logPath: String?

    /// Starts `executable` with `arguments`; stdout and stderr are appended to `logPath`
    /// (or discarded).
    package init(_ executable: String, _ arguments: [String], logPath: String? = nil) throws(HelperError) {
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

    package var pid: Int32 { process.processIdentifier }

    package var isRunning: Bool { process.isRunning }

    /// The exit status (or signal number) once the process ended.
    package var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Sends `signal` (SIGSTOP, SIGCONT, SIGKILL...) to the process. For SIGSTOP, returns
    /// once the kernel reports it stopped (a multi-threaded process stops each thread at its
    /// next return to user space, which takes a moment on a busy machine).
    package func send(_ signal: Int32) {
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
    package func waitForExit(timeout: Duration) -> Bool {
        HelperThread.poll(timeout: timeout) { !self.process.isRunning }
    }

    /// SIGKILL and wait for the exit (a stopped process dies too).
    package func killAndWait() {
        send(SIGKILL)
        waitForExit(timeout: .seconds(10))
    }

    /// The last `lines` lines of the log, for failure messages.
    package func logTail(lines: Int = 15) -> String {
        guard let logPath, let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Runs a command to its end (blocking) and returns its exit status and output.
    package static func run(
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
    ///
    /// The child gets /dev/null as 0, 1 and 2 and no other descriptor of ours: the daemon
    /// it leaves behind outlives this process, and an inherited pipe (whatever ran the
    /// tests reads to its end) would stay open as long as the daemon runs.
    package static func spawnAndWait(_ executable: String, _ arguments: [String]) throws(HelperError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        guard let closeFrom = Self.closeFromAction else {
            throw .cannotStart(command: executable, reason: "this C library has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later)")
        }
        _ = closeFrom(&actions, 3)
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

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time:
    /// the Glibc module does not export it (it sits behind `_GNU_SOURCE`-style guards).
    private static let closeFromAction: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
}
