// A real NFS server for tests and benchmarks: nfs-ganesha (VFS) on loopback, NFSv3.
public import Engine
import Foundation
import Glibc
import Synchronization

/// An nfs-ganesha server on 127.0.0.1 with its own ports, exporting directories of a fresh
/// temporary directory over NFSv3 (../shared/docs/nfs-userspace.md §2).
///
/// ```swift
/// let server = try await GaneshaServer.start()
/// defer { server.stop() }
/// let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: "a"))
/// server.suspend()          // SIGSTOP: every call now times out
/// server.resume()           // SIGCONT
/// try await server.restart() // SIGKILL, then the same server again on the same ports
/// ```
///
/// - Installs `nfs-ganesha nfs-ganesha-vfs rpcbind` when `ganesha.nfsd` is missing (once
///   per process). libnfs-dev is already there: the package does not build without it.
/// - rpcbind: ganesha refuses to start NFSv3 without registering with it, and rpcbind is
///   one registry on port 111 for the whole machine. One rpcbind serves every server: it is
///   started (daemonised, like the system service it is) when nothing answers on port 111,
///   and left running. A second ganesha cannot register NFS v3 while another holds the
///   registration, so starts are serialised within the process and each start first
///   deletes the registrations (`rpcinfo -d`); clients never need them, since they are
///   given the ports (``storeConfiguration(member:export:timeout:)``).
/// - Stopping is SIGKILL (instant; ganesha's SIGTERM takes about 1.7 s and nothing of a
///   test server needs a clean shutdown). Its registrations are deleted by the next start.
/// - If the server cannot be started, ``start(exports:)`` throws a ``HelperError`` that
///   says why: tests that need it fail with that message.
public final class GaneshaServer: @unchecked Sendable {
    /// One exported directory.
    public struct Export: Sendable, Hashable {
        /// The pseudo path is `/<name>`; also the directory name under ``directory``.
        public var name: String
        /// `Squash = Root_Squash`: requests from uid 0 run as the anonymous user.
        public var rootSquash: Bool
        /// Mount a tmpfs of this many bytes on the export directory (a "disk full" test).
        public var tmpfsBytes: Int?

        public init(name: String, rootSquash: Bool = false, tmpfsBytes: Int? = nil) {
            self.name = name
            self.rootSquash = rootSquash
            self.tmpfsBytes = tmpfsBytes
        }
    }

    public let exports: [Export]
    public let nfsPort: UInt16
    public let mountPort: UInt16
    /// Holds the configuration, the log and the exported directories.
    public let directory: TempDirectory
    private let state = Mutex<ChildProcess?>(nil)

    /// The ganesha.nfsd executable.
    public static let executable = "/usr/bin/ganesha.nfsd"

    private init(exports: [Export], nfsPort: UInt16, mountPort: UInt16, directory: TempDirectory) {
        self.exports = exports
        self.nfsPort = nfsPort
        self.mountPort = mountPort
        self.directory = directory
    }

    deinit {
        // A test that failed before stop(): never leave a server or a tmpfs behind.
        state.withLock { $0 }?.killAndWait()
        unmountTmpfs()
    }

    /// Starts a server exporting `exports` and returns once it answers a mount and FSSTAT.
    public static func start(exports: [Export] = [Export(name: "export")]) async throws -> GaneshaServer {
        try await HelperThread.run { try startBlocking(exports: exports) }
    }

    /// The blocking version of ``start(exports:)``, for benchmarks (not on the cooperative pool).
    public static func startBlocking(exports: [Export] = [Export(name: "export")]) throws -> GaneshaServer {
        try prerequisites.get()
        let directory = try TempDirectory(prefix: "ncp-ganesha")
        var lastError: HelperError?
        for _ in 0..<3 {
            let server = GaneshaServer(
                exports: exports, nfsPort: try LoopbackPort.free(), mountPort: try LoopbackPort.free(), directory: directory)
            try server.prepareDirectories()
            do throws(HelperError) {
                try server.launch()
                return server
            } catch {
                // Most likely a port taken in between: try other ports.
                lastError = error
                server.unmountTmpfs()
            }
        }
        throw lastError ?? HelperError.cannotStart(command: executable, reason: "unknown")
    }

    /// Local path of an export's directory.
    public func exportDirectory(_ name: String? = nil) -> String {
        directory.child("exports/" + (name ?? exports.first?.name ?? "export"))
    }

    /// The direct store's configuration for `export` (default: the first), with this
    /// server's ports, so that no rpcbind lookup is needed.
    public func storeConfiguration(
        member: String, export: String? = nil, timeout: Duration = .seconds(2)
    ) -> DirectNFSVolumeStore.Configuration {
        DirectNFSVolumeStore.Configuration(
            member: member, server: "127.0.0.1", export: "/" + (export ?? exports.first?.name ?? "export"),
            timeout: timeout, nfsPort: nfsPort, mountPort: mountPort)
    }

    /// The process id while it runs.
    public var pid: Int32? { state.withLock { $0?.pid } }

    /// SIGSTOP: the server keeps its sockets but answers nothing.
    public func suspend() { state.withLock { $0 }?.send(SIGSTOP) }

    /// SIGCONT after ``suspend()``.
    public func resume() { state.withLock { $0 }?.send(SIGCONT) }

    /// SIGKILL (a crash); ``restart()`` brings it back.
    public func kill() async throws {
        let process = state.withLock { current -> ChildProcess? in
            defer { current = nil }
            return current
        }
        guard let process else { return }
        try await HelperThread.run { process.killAndWait() }
    }

    /// Kills the server if it runs, then starts it again with the same exports and ports.
    /// A start that fails (ganesha exits with status 2 when it cannot bind or register) is
    /// tried again a few times: the old process's sockets may take a moment to go.
    public func restart() async throws {
        try await kill()
        try await HelperThread.run {
            var attempt = 0
            while true {
                do throws(HelperError) {
                    try self.launch()
                    return
                } catch {
                    attempt += 1
                    guard attempt < 5, case .exited = error else { throw error }
                    HelperThread.sleep(.milliseconds(200))
                }
            }
        }
    }

    /// Kills the server, unmounts tmpfs exports, removes the directory.
    public func stop() {
        state.withLock { current -> ChildProcess? in
            defer { current = nil }
            return current
        }?.killAndWait()
        unmountTmpfs()
        directory.remove()
    }

    /// The end of ganesha's log, for failure messages.
    public func logTail(lines: Int = 20) -> String {
        guard let data = FileManager.default.contents(atPath: directory.child("ganesha.log")) else { return "(no log)" }
        return String(decoding: data, as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    // MARK: - Internals

    /// Packages, then rpcbind: once per process, whatever the number of servers.
    private static let prerequisites: Result<Void, HelperError> = Result { () throws(HelperError) in
        try HelperPackages.ensure(["nfs-ganesha", "nfs-ganesha-vfs", "rpcbind"], probe: executable)
        try Rpcbind.ensureRunning()
    }

    /// Serialises rpcbind registration: see the type's documentation.
    private static let registration = Mutex(())

    private func launch() throws(HelperError) {
        try Self.registration.withLock { _ throws(HelperError) in
            Rpcbind.deleteNFSRegistrations()
            let process = try ChildProcess(
                Self.executable,
                ["-F", "-L", directory.child("ganesha.log"), "-f", directory.child("ganesha.conf"), "-p", directory.child("ganesha.pid")],
                logPath: directory.child("ganesha.out"))
            do throws(HelperError) {
                try waitUntilServing(process)
            } catch {
                process.killAndWait()
                throw error
            }
            state.withLock { $0 = process }
        }
    }

    /// Polls with a real mount and FSSTAT until the first export answers.
    private func waitUntilServing(_ process: ChildProcess) throws(HelperError) {
        let limit = Duration.seconds(30)
        let probe: DirectNFSVolumeStore
        do throws(StorageError) {
            probe = try DirectNFSVolumeStore(configuration: storeConfiguration(member: "ganesha-start", timeout: .seconds(1)))
        } catch {
            throw .cannotStart(command: Self.executable, reason: "\(error)")
        }
        var exited: Int32?
        let ready = HelperThread.poll(timeout: limit) {
            if let status = process.exitStatus {
                exited = status
                return true
            }
            do {
                _ = try probe.fileSystemStats()
                return true
            } catch {
                return false
            }
        }
        if let exited {
            throw .exited(what: "ganesha.nfsd on ports \(nfsPort)/\(mountPort)", status: exited, log: logTail())
        }
        if !ready {
            throw .notReady(what: "ganesha.nfsd on ports \(nfsPort)/\(mountPort)", after: limit, log: logTail())
        }
    }
}
