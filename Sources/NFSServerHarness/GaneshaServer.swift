// A real NFS server for `demo --real-nfs`, the tests and the benchmarks: nfs-ganesha (VFS)
// on loopback, NFSv3.
import Foundation
import Glibc
import Synchronization

/// An nfs-ganesha server on 127.0.0.1 with its own ports, exporting directories over NFSv3
/// (https://github.com/nfs-ganesha/nfs-ganesha, Debian's `nfs-ganesha` and
/// `nfs-ganesha-vfs`: a user-space server, for machines without kernel NFS).
///
/// ```swift
/// let server = try await GaneshaServer.start()
/// defer { server.stop() }
/// // a direct member: address server.address, export server.exportPath(),
/// // ports server.nfsPort / server.mountPort
/// await server.suspend()    // SIGSTOP: every call now times out
/// server.resume()           // SIGCONT
/// try await server.restart() // SIGKILL, then the same server again on the same ports
/// ```
///
/// - Needs root: the VFS backend opens files by handle (`open_by_handle_at`, which needs
///   CAP_DAC_READ_SEARCH), rpcbind is a system service, tmpfs exports are mounts.
/// - Installs `nfs-ganesha nfs-ganesha-vfs rpcbind` when `ganesha.nfsd` is missing (once
///   per process).
/// - rpcbind: ganesha refuses to start NFSv3 without registering with it, and rpcbind is
///   one registry on port 111 for the whole machine. One rpcbind serves every server: it is
///   started (daemonised, like the system service it is) when nothing answers on port 111,
///   and left running. A second ganesha cannot register NFS v3 while another holds the
///   registration, so starts are serialised (within the process and, through a lock file,
///   across processes: the tests and a `demo --real-nfs` may start servers at once) and
///   each start first deletes the registrations (`rpcinfo -d`). Clients never need them,
///   since they are given the ports.
/// - Ready means answering: ``start(exports:directory:)`` returns once the NFS port answers
///   an RPC NULL call and the MOUNT port mounts every export (``RPCProbe``).
/// - Stopping is SIGKILL (instant; ganesha's SIGTERM takes about 1.7 s and nothing of a
///   test server needs a clean shutdown). Its registrations are deleted by the next start.
/// - If the server cannot be started, ``start(exports:directory:)`` throws a ``HelperError``
///   that says why: tests that need it fail with that message, the demo prints its
///   ``HelperError/summary``.
public final class GaneshaServer: @unchecked Sendable {
    /// One exported directory.
    public struct Export: Sendable, Hashable {
        /// The pseudo path is `/<name>`; also the directory name under `exports/`.
        package var name: String
        /// `Squash = Root_Squash`: requests from uid 0 run as the anonymous user.
        package var rootSquash: Bool
        /// Mount a tmpfs of this many bytes on the export directory (a "disk full" test).
        package var tmpfsBytes: Int?

        public init(name: String, rootSquash: Bool = false, tmpfsBytes: Int? = nil) {
            self.name = name
            self.rootSquash = rootSquash
            self.tmpfsBytes = tmpfsBytes
        }
    }

    package let exports: [Export]
    public let nfsPort: UInt16
    public let mountPort: UInt16
    /// Holds the configuration, the logs and (under `exports/`) the exported directories.
    package let directory: String
    /// Whether ``stop()`` removes ``directory``: set once a start succeeded in a directory
    /// the server made (a failed attempt leaves it to the next one).
    private let ownsDirectory = Mutex(false)
    private let state = Mutex<ChildProcess?>(nil)

    /// The address the server listens on.
    public let address = "127.0.0.1"

    /// The ganesha.nfsd executable.
    public static let executable = "/usr/bin/ganesha.nfsd"

    /// The Debian packages the server needs.
    public static let packages = ["nfs-ganesha", "nfs-ganesha-vfs", "rpcbind"]

    private init(exports: [Export], nfsPort: UInt16, mountPort: UInt16, directory: String) {
        self.exports = exports
        self.nfsPort = nfsPort
        self.mountPort = mountPort
        self.directory = directory
    }

    deinit {
        // A test that failed before stop(): never leave a server, a tmpfs or a directory
        // of ours behind.
        stop()
    }

    /// Starts a server exporting `exports` and returns once it answers (see the type's
    /// documentation).
    /// - Parameter directory: where to put the configuration, logs and exports (created if
    ///   missing, kept by ``stop()``); nil: a new temporary directory, removed by ``stop()``.
    package static func start(exports: [Export] = [Export(name: "export")], directory: String? = nil) async throws(HelperError) -> GaneshaServer {
        try await HelperThread.run { () throws(HelperError) in try startBlocking(exports: exports, directory: directory) }
    }

    /// The blocking version of ``start(exports:directory:)``, for benchmarks and helper
    /// threads (never on the cooperative pool).
    public static func startBlocking(exports: [Export] = [Export(name: "export")], directory: String? = nil) throws(HelperError) -> GaneshaServer {
        try checkPrerequisites()
        guard !exports.isEmpty else {
            throw .cannotStart(command: executable, reason: "no exports given")
        }
        let path: String
        if let directory {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .cannotStart(command: executable, reason: "cannot create \(directory): \(error)")
            }
            path = directory
        } else {
            path = try makeTemporaryDirectory(prefix: "ncp-ganesha")
        }
        var lastError: HelperError?
        for _ in 0..<3 {
            let server = GaneshaServer(
                exports: exports, nfsPort: try LoopbackPort.free(), mountPort: try LoopbackPort.free(), directory: path)
            do throws(HelperError) {
                try server.prepareDirectories()
                try server.launch()
                server.ownsDirectory.withLock { $0 = directory == nil }
                return server
            } catch {
                // Most likely a port taken in between: try other ports (in the same
                // directory, which the failed attempt does not remove).
                lastError = error
                server.unmountTmpfs()
            }
        }
        if directory == nil { removeDirectory(path) }
        throw lastError ?? HelperError.cannotStart(command: executable, reason: "unknown")
    }

    /// Root, the packages (installed when missing) and a running rpcbind: what every start
    /// needs, checked once per process (the result is kept). Blocking.
    public static func checkPrerequisites() throws(HelperError) {
        try prerequisites.get()
    }

    /// Local path of an export's directory (default: the first export's).
    public func exportDirectory(_ name: String? = nil) -> String {
        directory + "/exports/" + (name ?? exports[0].name)
    }

    /// The path clients MOUNT for an export (default: the first): `/<name>`.
    public func exportPath(_ name: String? = nil) -> String {
        "/" + (name ?? exports[0].name)
    }

    /// The process id while it runs.
    public var pid: Int32? { state.withLock { $0?.pid } }

    /// SIGSTOP: the server keeps its sockets but answers nothing. Returns once every
    /// thread of the server is stopped (waited for on a helper thread: on a busy machine
    /// that takes a moment).
    package func suspend() async {
        guard let process = state.withLock({ $0 }) else { return }
        await HelperThread.run { process.send(SIGSTOP) }
    }

    /// SIGCONT after ``suspend()``.
    package func resume() { state.withLock { $0 }?.send(SIGCONT) }

    /// SIGKILL (a crash); ``restart()`` brings it back. Returns once the process is gone.
    /// (Declared `throws` for source compatibility; it does not fail.)
    package func kill() async throws {
        let process = state.withLock { current -> ChildProcess? in
            defer { current = nil }
            return current
        }
        guard let process else { return }
        await HelperThread.run { process.killAndWait() }
    }

    /// Kills the server if it runs, then starts it again with the same exports and ports.
    /// A start that fails (ganesha exits with status 2 when it cannot bind or register) is
    /// tried again a few times: the old process's sockets may take a moment to go.
    package func restart() async throws(HelperError) {
        let process = state.withLock { current -> ChildProcess? in
            defer { current = nil }
            return current
        }
        if let process { await HelperThread.run { process.killAndWait() } }
        try await HelperThread.run { () throws(HelperError) in try self.restartBlocking() }
    }

    /// Kills the server, unmounts tmpfs exports, removes the directory if the server made
    /// it. Idempotent.
    public func stop() {
        state.withLock { current -> ChildProcess? in
            defer { current = nil }
            return current
        }?.killAndWait()
        unmountTmpfs()
        if ownsDirectory.withLock({ $0 }) { Self.removeDirectory(directory) }
    }

    /// The end of ganesha's log, for failure messages.
    package func logTail(lines: Int = 20) -> String {
        guard let data = FileManager.default.contents(atPath: directory + "/ganesha.log") else { return "(no log)" }
        return String(decoding: data, as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    // MARK: - Internals

    /// Root, packages, then rpcbind: once per process, whatever the number of servers.
    private static let prerequisites: Result<Void, HelperError> = Result { () throws(HelperError) in
        guard geteuid() == 0 else {
            throw .needsRoot(what: "nfs-ganesha", why: "its VFS backend opens files by handle (open_by_handle_at needs CAP_DAC_READ_SEARCH) and it registers with the system's rpcbind")
        }
        try HelperPackages.ensure(packages, probe: executable)
        try Rpcbind.ensureRunning()
    }

    private func restartBlocking() throws(HelperError) {
        var attempt = 0
        while true {
            do throws(HelperError) {
                try launch()
                return
            } catch {
                attempt += 1
                guard attempt < 5, case .exited = error else { throw error }
                HelperThread.sleep(.milliseconds(200))
            }
        }
    }

    /// Serialised with every other start (see the type's documentation): delete the
    /// registrations, start ganesha, wait until it answers.
    private func launch() throws(HelperError) {
        try Rpcbind.withRegistrationLock { () throws(HelperError) in
            Rpcbind.deleteNFSRegistrations()
            let process = try ChildProcess(
                Self.executable,
                ["-F", "-L", directory + "/ganesha.log", "-f", directory + "/ganesha.conf", "-p", directory + "/ganesha.pid"],
                logPath: directory + "/ganesha.out")
            do throws(HelperError) {
                try waitUntilServing(process)
            } catch {
                process.killAndWait()
                throw error
            }
            state.withLock { $0 = process }
        }
    }

    /// Polls with RPC calls until the NFS port answers NULL and every export mounts.
    private func waitUntilServing(_ process: ChildProcess) throws(HelperError) {
        let limit = Duration.seconds(30)
        var exited: Int32?
        var lastProblem = "no answer yet"
        let ready = HelperThread.poll(timeout: limit) {
            if let status = process.exitStatus {
                exited = status
                return true
            }
            do throws(RPCProbe.Failure) {
                try RPCProbe.null(port: nfsPort, program: RPCProbe.nfsProgram, version: 3, timeout: .seconds(1))
                for export in exports {
                    try RPCProbe.mount(port: mountPort, path: exportPath(export.name), timeout: .seconds(1))
                }
                return true
            } catch {
                lastProblem = error.description
                return false
            }
        }
        if let exited {
            throw .exited(what: "ganesha.nfsd on ports \(nfsPort)/\(mountPort)", status: exited, log: logTail())
        }
        if !ready {
            throw .notReady(what: "ganesha.nfsd on ports \(nfsPort)/\(mountPort)", after: limit,
                            log: "last probe: \(lastProblem)\n" + logTail())
        }
    }

    /// ``TemporaryDirectories/make(prefix:)``, its failure as a start failure.
    private static func makeTemporaryDirectory(prefix: String) throws(HelperError) -> String {
        do throws(TemporaryDirectories.Failure) {
            return try TemporaryDirectories.make(prefix: prefix)
        } catch {
            throw .cannotStart(command: executable, reason: "mkdtemp in \(error.base) failed: errno \(error.errno)")
        }
    }

    /// Removes a directory of ours (symlinks are removed, not followed); a failure is said
    /// on stderr, since cleanup must not fail a test or the demo.
    static func removeDirectory(_ path: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            FileHandle.standardError.write(Data("GaneshaServer: could not remove \(path): \(error)\n".utf8))
        }
    }
}
