// A FUSE mount (bindfs) whose daemon can be stopped: a hung mount path for the mounted store.
import Foundation
import Glibc
package import NFSServerHarness

/// `bindfs -f source mountPoint`: a FUSE filesystem mirroring `source`. Stopping the
/// bindfs process (``suspend()``) makes every call on the mount block in the kernel, exactly
/// like a hard NFS mount whose server died (a FUSE request waits for an answer the stopped
/// process never gives). The mount point is a separate device, so
/// ``MountedVolumeStore``'s mount-point check accepts it.
///
/// A blocked call comes back after ``resume()`` (SIGCONT), after ``abortConnection()``
/// (fusectl abort: "Software caused connection abort"), or when bindfs dies. ``unmount()``
/// does all it takes to leave nothing mounted, even while hung; call it in a `defer`.
package final class BindfsMount: @unchecked Sendable {
    package let source: String
    package let mountPoint: String
    private let process: ChildProcess
    /// The mount's device number, read while it answered (a `stat` on a hung mount blocks).
    package let device: UInt64

    package static let executable = "/usr/bin/bindfs"

    private init(source: String, mountPoint: String, process: ChildProcess, device: UInt64) {
        self.source = source
        self.mountPoint = mountPoint
        self.process = process
        self.device = device
    }

    deinit {
        unmount()
    }

    /// Mounts `source` on `mountPoint` (an existing empty directory) and waits until the
    /// mount answers. Installs `fuse3 bindfs` when bindfs is missing.
    package static func start(source: String, mountPoint: String, logPath: String? = nil) async throws -> BindfsMount {
        try await HelperThread.run { try startBlocking(source: source, mountPoint: mountPoint, logPath: logPath) }
    }

    /// The blocking version of ``start(source:mountPoint:logPath:)`` (not on the cooperative pool).
    package static func startBlocking(source: String, mountPoint: String, logPath: String? = nil) throws -> BindfsMount {
        try HelperPackages.ensure(["fuse3", "bindfs"], probe: executable)
        // No attribute or entry caching: every call reaches the daemon, so a stopped
        // daemon hangs every call, deterministically.
        let process = try ChildProcess(
            executable,
            ["-f", "-o", "attr_timeout=0,entry_timeout=0,negative_timeout=0", source, mountPoint],
            logPath: logPath)
        var device: UInt64?
        let mounted = HelperThread.poll(timeout: .seconds(20)) {
            if !process.isRunning { return true }
            device = deviceIfMountPoint(mountPoint)
            return device != nil
        }
        guard let device, mounted, process.isRunning else {
            process.killAndWait()
            if let status = process.exitStatus {
                throw HelperError.exited(what: "bindfs", status: status, log: process.logTail())
            }
            throw HelperError.notReady(what: "bindfs on \(mountPoint)", after: .seconds(20), log: process.logTail())
        }
        return BindfsMount(source: source, mountPoint: mountPoint, process: process, device: device)
    }

    package var pid: Int32 { process.pid }

    /// SIGSTOP: every call on the mount now blocks. (Waits on a helper thread until the
    /// process is stopped.)
    package func suspend() async {
        let process = self.process
        await HelperThread.run { process.send(SIGSTOP) }
    }

    /// SIGCONT: blocked calls complete.
    package func resume() { process.send(SIGCONT) }

    /// Aborts the FUSE connection through fusectl (mounting fusectl first if needed):
    /// blocked calls fail with ECONNABORTED and the mount is dead from then on.
    package func abortConnection() throws(HelperError) {
        let connections = "/sys/fs/fuse/connections"
        let listed: [String]
        do {
            listed = try FileManager.default.contentsOfDirectory(atPath: connections)
        } catch {
            listed = []  // not mounted yet (or absent: the mount below says why)
        }
        if listed.isEmpty {
            let result = try ChildProcess.run("/usr/bin/mount", ["-t", "fusectl", "none", connections])
            guard result.status == 0 else {
                throw .commandFailed(command: "mount -t fusectl", status: result.status, output: result.output)
            }
        }
        // The connection directory is named after the device's minor number.
        let minor = ((device >> 12) & 0xFFFF_FF00) | (device & 0xFF)
        let abort = "\(connections)/\(minor)/abort"
        guard let handle = FileHandle(forWritingAtPath: abort) else {
            throw .commandFailed(command: "open \(abort)", status: errno, output: "no such fusectl connection")
        }
        handle.write(Data("1\n".utf8))
        handle.closeFile()
    }

    /// Leaves nothing mounted and no bindfs running, whatever state the mount is in: a lazy
    /// unmount (never blocks on a hung mount), then SIGKILL of bindfs (a stopped process
    /// dies too, and its death fails any call still blocked). Idempotent.
    package func unmount() {
        if deviceIfMountPointWithoutBlocking() {
            do {
                _ = try ChildProcess.run("/usr/bin/umount", ["-l", mountPoint])
            } catch {
                FileHandle.standardError.write(Data("BindfsMount: umount -l \(mountPoint): \(error)\n".utf8))
            }
        }
        process.killAndWait()
    }

    /// Whether `/proc/self/mountinfo` lists the mount point (reading it never touches the
    /// mount, unlike `stat`).
    private func deviceIfMountPointWithoutBlocking() -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/self/mountinfo") else { return true }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4] == Substring(mountPoint)
        }
    }

    /// The device of `path` when it differs from its parent's (a mount point), else nil.
    private static func deviceIfMountPoint(_ path: String) -> UInt64? {
        var own = stat()
        var parent = stat()
        guard lstat(path, &own) == 0, lstat(path + "/..", &parent) == 0, own.st_dev != parent.st_dev else { return nil }
        return UInt64(own.st_dev)
    }
}
