// The machine's rpcbind, shared by every nfs-ganesha, and the lock that serialises
// registrations with it.
import Foundation
import Glibc
import Synchronization

/// The machine's rpcbind (port 111), which ganesha needs to register NFSv3.
enum Rpcbind {
    static let executable = "/usr/sbin/rpcbind"
    static let rpcinfo = "/usr/sbin/rpcinfo"
    /// The lock file that serialises starts across processes (the test runner and a
    /// `demo --real-nfs` binary it runs, or two benchmark runs).
    static let lockPath = "/tmp/nfs-cluster-provisioner-ganesha-registration.lock"

    /// Starts rpcbind as a daemon unless something answers on port 111. It is a system
    /// service shared by every server and left running afterwards. (`-h 127.0.0.1`
    /// aborts with a double free on Debian 12.)
    static func ensureRunning() throws(HelperError) {
        if LoopbackPort.isListening(111) { return }
        // Not Foundation's Process: it notices a child's exit through a descriptor the
        // daemon inherits and keeps, so it would wait for the daemon. The starting process
        // exits once the daemon runs.
        let status = try ChildProcess.spawnAndWait(executable, ["-w"])
        guard status == 0 else {
            throw .commandFailed(command: "\(executable) -w", status: status, output: "")
        }
        guard HelperThread.poll(timeout: .seconds(10), { LoopbackPort.isListening(111) }) else {
            throw .notReady(what: "rpcbind", after: .seconds(10), log: "")
        }
    }

    /// Deletes the NFS v3 and MOUNT v1/v3 registrations, whoever made them, so that the
    /// next ganesha can register. "Could not delete" (nothing registered) is fine.
    static func deleteNFSRegistrations() {
        for (program, version) in [("100003", "3"), ("100005", "1"), ("100005", "3")] {
            do {
                _ = try ChildProcess.run(rpcinfo, ["-d", program, version])
            } catch {
                FileHandle.standardError.write(Data("GaneshaServer: rpcinfo -d \(program) \(version): \(error)\n".utf8))
            }
        }
    }

    /// In-process half of the serialisation (threads of one process).
    private static let registration = Mutex(())

    /// Runs `body` while no other start registers with rpcbind, in this process or another
    /// (an exclusive `flock` on ``lockPath``, released when the descriptor closes, so a
    /// crashed holder never leaves it locked). Blocking: call it on a helper thread.
    static func withRegistrationLock<T>(_ body: () throws(HelperError) -> T) throws(HelperError) -> T {
        try registration.withLock { _ throws(HelperError) -> T in
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            guard fd >= 0 else {
                throw .cannotStart(command: "open \(lockPath)", reason: String(cString: strerror(errno)))
            }
            defer { close(fd) }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    throw .cannotStart(command: "flock \(lockPath)", reason: String(cString: strerror(errno)))
                }
            }
            return try body()
        }
    }
}
