// VolumeStore over NFSv3 spoken from user space with libnfs: no mount in the pod.
import Glibc

/// A ``VolumeStore`` that talks NFSv3 to the server itself (libnfs), so that a member needs
/// no mount in the provisioner's pod and every call has a timeout: a dead server costs a
/// call one timeout, never a hung thread (hung mounts are among the problems users of NFS
/// provisioners report most; see docs/original-provisioner.md).
///
/// **Path safety by construction**, like ``MountedVolumeStore``'s `openat` walk: every
/// operation starts from the export's root file handle and walks the ``RelativePath`` one
/// component at a time with LOOKUP, checking each result's type, then acts on the last
/// component relative to its parent's *handle* (MKDIR, CREATE, REMOVE, RMDIR, RENAME,
/// SETATTR, READDIRPLUS). NFS servers never follow a symlink in LOOKUP, so no symlink is
/// ever followed. (libnfs's path-based calls would follow intermediate symlinks:
/// lib/nfs_v3.c, `nfs3_lookup_path_async_internal`. That is why this store drives the raw
/// NFSv3 procedures.)
///
/// Limits, documented rather than hidden:
/// - **NFSv3 only.** Debian's libnfs 4.0.0 fails NFSv4 writes of about 4 KB and more, and
///   chmod on v4 directories (NFS4ERR_ISDIR; it works on files); the raw procedures here
///   are v3's.
/// - **Rename without replace is check-then-rename**: NFSv3 has no RENAME_NOREPLACE (the
///   Linux NFS client has none either, see `POSIX.renameNoReplace`). A destination created
///   by someone else between the check and the RENAME could be replaced; only the
///   provisioner writes the names it renames to (the reserved area), and ``MemberStorage``
///   serialises operations per path.
/// - Each RPC has the configured timeout; an operation is several RPCs, so
///   ``MemberStorage/Configuration/operationTimeout`` (which bounds the whole operation)
///   should be larger than ``Configuration/timeout``.
/// - Credentials are AUTH_SYS with the process's uid and gid (libnfs's default); a
///   root-squashing export sees the anonymous user.
///
/// Safe for concurrent calls: each call checks out its own libnfs context from a small
/// pool (``NFSConnectionPool``); a context that timed out or lost its connection is
/// destroyed and the next call mounts again, which is how a restarted server is reconnected.
public struct DirectNFSVolumeStore: VolumeStore {
    /// Where the export is and how long to wait for the server.
    public struct Configuration: Sendable, Hashable {
        /// Per-RPC timeout by default: 5 s. NFS calls take well under a millisecond on a
        /// LAN (0.1-0.6 ms for one call on loopback); five seconds means the server is
        /// gone. Less than ``MemberStorage``'s default operation timeout (10 s), so that a
        /// stopped server usually surfaces as this store's own `timedOut` and the thread
        /// comes back.
        public static let defaultTimeout = Duration.seconds(5)

        /// The member (ring) name, used in errors.
        public var member: String
        /// Host name or IP address of the NFS server (what PVs name in `spec.nfs.server`).
        public var server: String
        /// The export path to MOUNT, e.g. `/srv/nfs` (absolute).
        public var export: String
        /// Timeout of each NFS call, the mount's included. Default ``defaultTimeout``.
        package var timeout: Duration
        /// The NFS port; `nil` (default) asks the server's rpcbind, as `mount -t nfs` does.
        public var nfsPort: UInt16?
        /// The MOUNT protocol's port; `nil` (default) asks the server's rpcbind.
        public var mountPort: UInt16?
        /// Idle libnfs contexts kept for the next calls. Default 4: the member's executor
        /// has two threads by default, so two contexts are in use at most.
        package var maxIdleConnections: Int

        package init(
            member: String, server: String, export: String, timeout: Duration = defaultTimeout,
            nfsPort: UInt16? = nil, mountPort: UInt16? = nil, maxIdleConnections: Int = 4
        ) {
            self.member = member
            self.server = server
            self.export = export
            self.timeout = timeout
            self.nfsPort = nfsPort
            self.mountPort = mountPort
            self.maxIdleConnections = maxIdleConnections
        }

        /// `server:/export`, with an IPv6 address in brackets.
        package var location: String {
            (server.contains(":") ? "[\(server)]" : server) + ":" + export
        }
    }

    public let configuration: Configuration
    let pool: NFSConnectionPool

    public var member: String { configuration.member }
    public var location: String { configuration.location }

    /// Validates the configuration without any I/O (the first call mounts): a server
    /// without NUL bytes, an absolute export path, a timeout of at least 1 ms.
    package init(configuration: Configuration) throws(StorageError) {
        let server = configuration.server
        guard !server.isEmpty, !server.utf8.contains(0), !server.contains("/") else {
            throw .exportUnavailable(
                member: configuration.member, location: configuration.location, problem: .invalidNFSConfiguration("the server must be a host name or an IP address"))
        }
        let export = configuration.export
        guard export.hasPrefix("/"), !export.utf8.contains(0), export.utf8.count < RelativePath.maxPathBytes else {
            throw .exportUnavailable(
                member: configuration.member, location: configuration.location, problem: .invalidNFSConfiguration("the export must be an absolute path without NUL bytes"))
        }
        guard configuration.timeout >= .milliseconds(1) else {
            throw .exportUnavailable(
                member: configuration.member, location: configuration.location, problem: .invalidNFSConfiguration("the timeout must be at least 1 ms"))
        }
        self.configuration = configuration
        self.pool = NFSConnectionPool(
            endpoint: NFSConnection.Endpoint(
                server: server, export: export, timeout: configuration.timeout,
                nfsPort: configuration.nfsPort, mountPort: configuration.mountPort),
            maxIdle: configuration.maxIdleConnections)
    }

    /// Mounts done so far; each broken connection costs one (for tests and metrics).
    package var mountCount: Int { pool.mountCount }

    /// Closes the idle connections; the next call mounts again.
    package func closeIdleConnections() {
        pool.drain()
    }

    // MARK: - VolumeStore

    public func stat(_ path: RelativePath) throws(StorageError) -> FileInfo? {
        try run(.stat, path) { connection throws(StorageError) in
            guard let leaf = path.lastComponent else {
                return try attempt(.stat, path) { () throws(NFSCallError) in
                    try connection.getAttributes(connection.rootHandle)
                }.fileInfo
            }
            guard let parent = try walk(connection, path.components.dropLast(), .stat, path) else { return nil }
            return try lookupEntry(connection, NFSName(leaf), in: parent, .stat, path.description)?.attributes.fileInfo
        }
    }

    public func makeDirectory(
        _ path: RelativePath, mode: FileMode, parentMode: FileMode?
    ) throws(StorageError) -> MakeDirectoryOutcome {
        guard !path.isRoot else {
            throw .refusedExportRoot(member: member, operation: .makeDirectory)
        }
        return try run(.makeDirectory, path) { connection throws(StorageError) in
            try ensureDirectory(connection, path, mode: mode, parentMode: parentMode, .makeDirectory).outcome
        }
    }

    public func writeFile(_ path: RelativePath, contents: [UInt8], mode: FileMode) throws(StorageError) {
        guard let leaf = path.lastComponent else {
            throw .refusedExportRoot(member: member, operation: .writeFile)
        }
        try run(.writeFile, path) { connection throws(StorageError) in
            guard let parent = try walk(connection, path.components.dropLast(), .writeFile, path) else {
                throw .notFound(member: member, operation: .writeFile, path: path.parent?.description ?? ".")
            }
            try replaceFile(connection, NFSName(leaf), in: parent, contents: contents, mode: mode, path)
        }
    }

    public func readFile(_ path: RelativePath, maxBytes: Int) throws(StorageError) -> [UInt8]? {
        guard let leaf = path.lastComponent else {
            throw .unexpectedFileType(
                member: member, operation: .readFile, path: path.description, found: .directory, expected: .regularFile)
        }
        return try run(.readFile, path) { connection throws(StorageError) in
            guard let parent = try walk(connection, path.components.dropLast(), .readFile, path),
                let entry = try lookupEntry(connection, NFSName(leaf), in: parent, .readFile, path.description)
            else { return nil }
            // Checked on the handle's own attributes: a symlink, a FIFO or a directory is
            // never read (and READ on a FIFO's handle could not block anyway: no open).
            guard entry.attributes.kind == .regularFile else {
                throw .unexpectedFileType(
                    member: member, operation: .readFile, path: path.description,
                    found: entry.attributes.kind, expected: .regularFile)
            }
            let limit = maxBytes < Int.max ? max(0, maxBytes) + 1 : Int.max
            let bytes = try attempt(.readFile, path) { () throws(NFSCallError) in
                try connection.read(entry.handle, limit: limit)
            }
            if bytes.count > maxBytes {
                throw .fileTooLarge(member: member, path: path.description, limit: maxBytes)
            }
            return bytes
        }
    }

    public func rename(_ source: RelativePath, to destination: RelativePath) throws(StorageError) {
        guard let sourceLeaf = source.lastComponent, let destinationLeaf = destination.lastComponent else {
            throw .refusedExportRoot(member: member, operation: .rename)
        }
        if destination.isWithin(source) {
            throw .invalidPath(path: destination.description, problem: .insideItself(source: source.description))
        }
        try run(.rename, source) { connection throws(StorageError) in
            guard let sourceParent = try walk(connection, source.components.dropLast(), .rename, source) else {
                throw .notFound(member: member, operation: .rename, path: source.description)
            }
            guard let destinationParent = try walk(connection, destination.components.dropLast(), .rename, destination) else {
                throw .notFound(member: member, operation: .rename, path: destination.parent?.description ?? ".")
            }
            let from = NFSName(sourceLeaf)
            let to = NFSName(destinationLeaf)
            guard try lookupEntry(connection, from, in: sourceParent, .rename, source.description) != nil else {
                throw .notFound(member: member, operation: .rename, path: source.description)
            }
            // Check, then rename: see the type's documentation.
            if try lookupEntry(connection, to, in: destinationParent, .rename, destination.description) != nil {
                throw .alreadyExists(member: member, operation: .rename, path: destination.description)
            }
            do throws(NFSCallError) {
                try connection.rename(from, in: sourceParent, to: to, in: destinationParent)
            } catch {
                switch error.errnoValue {
                case ENOENT: throw .notFound(member: member, operation: .rename, path: source.description)
                case EEXIST, ENOTEMPTY: throw .alreadyExists(member: member, operation: .rename, path: destination.description)
                default: throw failure(error, .rename, source.description)
                }
            }
        }
    }

    public func listDirectory(_ path: RelativePath, maxEntries: Int) throws(StorageError) -> [String]? {
        try run(.listDirectory, path) { connection throws(StorageError) in
            guard let directory = try walk(connection, path.components, .listDirectory, path) else { return nil }
            var names: [String] = []
            var cursor: NFSConnection.DirectoryCursor? = .start
            // A server that keeps returning pages is cut off by the entry limit.
            while let from = cursor {
                let page = try attempt(.listDirectory, path) { () throws(NFSCallError) in
                    try connection.readDirectoryPage(directory, after: from)
                }
                for entry in page.entries {
                    if names.count >= maxEntries {
                        throw .tooManyEntries(member: member, path: path.description, limit: maxEntries)
                    }
                    names.append(entry.name.display)
                }
                cursor = page.next
            }
            return names
        }
    }

    public func setMode(_ path: RelativePath, mode: FileMode) throws(StorageError) {
        guard let leaf = path.lastComponent else {
            throw .refusedExportRoot(member: member, operation: .setMode)
        }
        try run(.setMode, path) { connection throws(StorageError) in
            guard let parent = try walk(connection, path.components.dropLast(), .setMode, path),
                let entry = try lookupEntry(connection, NFSName(leaf), in: parent, .setMode, path.description)
            else {
                throw .notFound(member: member, operation: .setMode, path: path.description)
            }
            guard entry.attributes.kind == .directory || entry.attributes.kind == .regularFile else {
                throw .unexpectedFileType(
                    member: member, operation: .setMode, path: path.description,
                    found: entry.attributes.kind, expected: .directory)
            }
            try attempt(.setMode, path) { () throws(NFSCallError) in
                try connection.setMode(entry.handle, mode: mode)
            }
        }
    }

    public func fileSystemStats() throws(StorageError) -> FileSystemStats {
        try run(.fileSystemStats, .root) { connection throws(StorageError) in
            try attempt(.fileSystemStats, .root) { () throws(NFSCallError) in
                try connection.fileSystemStats(connection.rootHandle)
            }
        }
    }

    /// Mounts (if no idle connection is at hand), checks the root is a directory, creates
    /// the probe directory if needed, then creates, writes and removes a small file there.
    public func probe() throws(StorageError) {
        try run(.probe, .root) { connection throws(StorageError) in
            let root = try attempt(.probe, .root) { () throws(NFSCallError) in
                try connection.getAttributes(connection.rootHandle)
            }
            guard root.kind == .directory else {
                throw .exportUnavailable(member: member, location: location, problem: .notADirectory)
            }
            let directory = try ensureDirectory(
                connection, ReservedNames.probeDirectory, mode: ReservedNames.directoryMode,
                parentMode: ReservedNames.directoryMode, .probe
            ).handle
            let name = POSIX.randomName(prefix: "probe-")
            let probePath = RelativePath(unchecked: ReservedNames.probeDirectory.components + [name])
            let file = try attempt(.probe, probePath) { () throws(NFSCallError) in
                try connection.createExclusive(NFSName(name), in: directory, mode: FileMode(0o600))
            }
            // The file is removed whatever the write did; the first failure is reported.
            var firstFailure: StorageError?
            do throws(StorageError) {
                try attempt(.probe, probePath) { () throws(NFSCallError) in try connection.writeAll(file, Array("probe\n".utf8)) }
            } catch {
                firstFailure = error
            }
            do throws(StorageError) {
                try attempt(.probe, probePath) { () throws(NFSCallError) in try connection.remove(NFSName(name), in: directory) }
            } catch {
                firstFailure = firstFailure ?? error
            }
            if let firstFailure { throw firstFailure }
        }
    }
}
