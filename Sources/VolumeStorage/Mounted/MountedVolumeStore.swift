// VolumeStore over an export mounted into the pod, with POSIX *at() calls.
import Glibc

/// A ``VolumeStore`` for an NFS export mounted at a local path, as the Go original mounted
/// every server at `/persistent-volumes/<server>`.
///
/// Path safety by construction: every operation opens the mount path, then walks the
/// ``RelativePath`` one component at a time with `openat(O_DIRECTORY | O_NOFOLLOW)` and acts
/// on the last component relative to its parent's descriptor (`mkdirat`, `fstatat` with
/// `AT_SYMLINK_NOFOLLOW`, `renameat`, `unlinkat`). No string path below the mount path is
/// ever resolved by the kernel, so a symlink planted in a volume cannot redirect anything.
///
/// Each operation first checks the export (``Configuration/requireMountPoint``): the Go
/// original's bug 6 (docs/original-provisioner.md) was to `MkdirAll` into the container's
/// own filesystem when the export was not mounted, so that provisioning "succeeded" with
/// no data on NFS.
package struct MountedVolumeStore: VolumeStore {
    /// Where the export is and how strictly to check it.
    public struct Configuration: Sendable, Hashable {
        /// The default base under which exports are mounted: `/persistent-volumes`, the Go
        /// original's `mountPath` (nfs-cluster-provisioner.go, `mountPath` constant).
        package static let defaultBase = "/persistent-volumes"

        /// The member (server) name, used in errors.
        package var member: String
        /// Absolute path of the mounted export. No default: see ``mountPath(base:member:)``.
        package var mountPath: String
        /// Refuse to work unless `mountPath` is a mount point (its device differs from its
        /// parent's). Default `true`, so that a missing volumeMount is an error instead of
        /// silent writes into the container; tests on temporary directories turn it off.
        /// A bind mount of a directory of the same filesystem also looks "not mounted".
        package var requireMountPoint: Bool

        package init(member: String, mountPath: String, requireMountPoint: Bool = true) {
            self.member = member
            self.mountPath = mountPath
            self.requireMountPoint = requireMountPoint
        }

        /// `<base>/<member>`, the original's layout.
        package static func mountPath(base: String = defaultBase, member: String) -> String {
            (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/" + member
        }
    }

    package let configuration: Configuration
    /// The deepest directory level ``removeTree(_:budget:)`` keeps open; deeper subtrees are
    /// moved up (renamed within the tree) so that any depth is removed with bounded
    /// descriptors and stack. Default 64.
    let maxOpenDepth: Int

    package var member: String { configuration.member }
    package var location: String { configuration.mountPath }

    /// Validates the configuration without touching the filesystem (the export may hang:
    /// I/O belongs on the member's executor). The mount path must be absolute, without NUL.
    package init(configuration: Configuration) throws(StorageError) {
        try self.init(configuration: configuration, maxOpenDepth: 64)
    }

    init(configuration: Configuration, maxOpenDepth: Int) throws(StorageError) {
        let path = configuration.mountPath
        guard path.hasPrefix("/"), !path.utf8.contains(0), path.utf8.count < RelativePath.maxPathBytes else {
            throw .exportUnavailable(
                member: configuration.member, location: path, problem: .invalidMountPath)
        }
        self.configuration = configuration
        self.maxOpenDepth = max(2, maxOpenDepth)
    }

    // MARK: - VolumeStore

    package func stat(_ path: RelativePath) throws(StorageError) -> FileInfo? {
        let root = try openRoot(.stat)
        defer { close(root) }
        if path.isRoot {
            return try info(of: root, .stat, path)
        }
        guard let parent = try openParent(of: path, from: root, .stat) else { return nil }
        defer { close(parent) }
        switch POSIX.lstat(in: parent, path.lastComponent ?? "") {
        case .success(let info): return POSIX.fileInfo(from: info)
        case .failure(let error) where error.code == ENOENT: return nil
        case .failure(let error): throw failure(.stat, path, "fstatat", error.code)
        }
    }

    package func makeDirectory(
        _ path: RelativePath, mode: FileMode, parentMode: FileMode?
    ) throws(StorageError) -> MakeDirectoryOutcome {
        guard let leaf = path.lastComponent else {
            throw .refusedExportRoot(member: member, operation: .makeDirectory)
        }
        let root = try openRoot(.makeDirectory)
        var current = root
        defer { close(current) }
        for (index, component) in path.components.dropLast().enumerated() {
            let prefix = RelativePath(unchecked: Array(path.components.prefix(index + 1)))
            let next: Int32
            if let opened = try openDirectory(component, in: current, .makeDirectory, prefix) {
                next = opened
            } else if let parentMode {
                _ = try createDirectory(component, in: current, mode: parentMode, prefix)
                guard let opened = try openDirectory(component, in: current, .makeDirectory, prefix) else {
                    throw .notFound(member: member, operation: .makeDirectory, path: prefix.description)
                }
                next = opened
            } else {
                throw .notFound(member: member, operation: .makeDirectory, path: prefix.description)
            }
            close(current)
            current = next
        }
        return try createDirectory(leaf, in: current, mode: mode, path)
    }

    package func writeFile(_ path: RelativePath, contents: [UInt8], mode: FileMode) throws(StorageError) {
        guard let leaf = path.lastComponent else {
            throw .refusedExportRoot(member: member, operation: .writeFile)
        }
        let root = try openRoot(.writeFile)
        defer { close(root) }
        guard let parent = try openParent(of: path, from: root, .writeFile) else {
            throw .notFound(member: member, operation: .writeFile, path: path.parent?.description ?? ".")
        }
        defer { close(parent) }
        let temporary = POSIX.randomName(prefix: ".nfs-cluster-provisioner-tmp-")
        let fd = openat(parent, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode.rawValue))
        if fd < 0 {
            throw failure(.writeFile, path, "openat(O_CREAT|O_EXCL)", errno)
        }
        // Any failure below removes the temporary file; the first failure is what we report.
        var failedCall: (String, Int32)?
        var code = POSIX.writeAll(fd, contents)
        if code != 0 { failedCall = ("write", code) }
        if failedCall == nil, fchmod(fd, mode_t(mode.rawValue)) != 0 { failedCall = ("fchmod", errno) }
        if failedCall == nil, fsync(fd) != 0 { failedCall = ("fsync", errno) }
        // NFS reports delayed write errors at close: its result matters.
        if close(fd) != 0, failedCall == nil { failedCall = ("close", errno) }
        if failedCall == nil {
            code = renameat(parent, temporary, parent, leaf) == 0 ? 0 : errno
            if code == EISDIR {
                unlinkat(parent, temporary, 0)
                throw .unexpectedFileType(
                    member: member, operation: .writeFile, path: path.description,
                    found: .directory, expected: .regularFile)
            }
            if code != 0 { failedCall = ("renameat", code) }
        }
        if let (call, code) = failedCall {
            unlinkat(parent, temporary, 0)
            throw failure(.writeFile, path, call, code)
        }
    }

    package func readFile(_ path: RelativePath, maxBytes: Int) throws(StorageError) -> [UInt8]? {
        guard let leaf = path.lastComponent else {
            throw .unexpectedFileType(
                member: member, operation: .readFile, path: path.description,
                found: .directory, expected: .regularFile)
        }
        let root = try openRoot(.readFile)
        defer { close(root) }
        guard let parent = try openParent(of: path, from: root, .readFile) else { return nil }
        defer { close(parent) }
        guard let fd = try openLeaf(leaf, in: parent, .readFile, path, expected: .regularFile) else { return nil }
        defer { close(fd) }
        let kind = try info(of: fd, .readFile, path).kind
        guard kind == .regularFile else {
            throw .unexpectedFileType(
                member: member, operation: .readFile, path: path.description, found: kind, expected: .regularFile)
        }
        switch POSIX.readUpTo(fd, limit: maxBytes) {
        case .success(let bytes) where bytes.count > maxBytes:
            throw .fileTooLarge(member: member, path: path.description, limit: maxBytes)
        case .success(let bytes):
            return bytes
        case .failure(let error):
            throw failure(.readFile, path, "read", error.code)
        }
    }

    package func rename(_ source: RelativePath, to destination: RelativePath) throws(StorageError) {
        guard let sourceLeaf = source.lastComponent, let destinationLeaf = destination.lastComponent else {
            throw .refusedExportRoot(member: member, operation: .rename)
        }
        if destination.isWithin(source) {
            throw .invalidPath(path: destination.description, problem: .insideItself(source: source.description))
        }
        let root = try openRoot(.rename)
        defer { close(root) }
        guard let sourceParent = try openParent(of: source, from: root, .rename) else {
            throw .notFound(member: member, operation: .rename, path: source.description)
        }
        defer { close(sourceParent) }
        guard let destinationParent = try openParent(of: destination, from: root, .rename) else {
            throw .notFound(member: member, operation: .rename, path: destination.parent?.description ?? ".")
        }
        defer { close(destinationParent) }
        switch POSIX.renameNoReplace(sourceParent, sourceLeaf, destinationParent, destinationLeaf) {
        case 0: return
        case EEXIST: throw .alreadyExists(member: member, operation: .rename, path: destination.description)
        case ENOENT: throw .notFound(member: member, operation: .rename, path: source.description)
        case let code: throw failure(.rename, source, "renameat", code)
        }
    }

    package func listDirectory(_ path: RelativePath, maxEntries: Int) throws(StorageError) -> [String]? {
        let root = try openRoot(.listDirectory)
        defer { close(root) }
        guard let directory = try openDirectory(path.components, from: root, .listDirectory, path) else { return nil }
        guard let stream = fdopendir(directory) else {
            let code = errno
            close(directory)
            throw failure(.listDirectory, path, "fdopendir", code)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw failure(.listDirectory, path, "readdir", errno) }
                return names
            }
            let name = POSIX.name(of: entry)
            if name == [46, 0] || name == [46, 46, 0] { continue }
            if names.count >= maxEntries {
                throw .tooManyEntries(member: member, path: path.description, limit: maxEntries)
            }
            names.append(String(decoding: name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }

    package func setMode(_ path: RelativePath, mode: FileMode) throws(StorageError) {
        guard let leaf = path.lastComponent else {
            throw .refusedExportRoot(member: member, operation: .setMode)
        }
        let root = try openRoot(.setMode)
        defer { close(root) }
        guard let parent = try openParent(of: path, from: root, .setMode) else {
            throw .notFound(member: member, operation: .setMode, path: path.description)
        }
        defer { close(parent) }
        guard let fd = try openLeaf(leaf, in: parent, .setMode, path, expected: .directory) else {
            throw .notFound(member: member, operation: .setMode, path: path.description)
        }
        defer { close(fd) }
        let kind = try info(of: fd, .setMode, path).kind
        guard kind == .directory || kind == .regularFile else {
            throw .unexpectedFileType(
                member: member, operation: .setMode, path: path.description, found: kind, expected: .directory)
        }
        if fchmod(fd, mode_t(mode.rawValue)) != 0 {
            throw failure(.setMode, path, "fchmod", errno)
        }
    }

    package func fileSystemStats() throws(StorageError) -> FileSystemStats {
        let root = try openRoot(.fileSystemStats)
        defer { close(root) }
        var info = statvfs()
        if fstatvfs(root, &info) != 0 {
            throw failure(.fileSystemStats, .root, "fstatvfs", errno)
        }
        let unit = UInt64(info.f_frsize == 0 ? info.f_bsize : info.f_frsize)
        return FileSystemStats(
            totalBytes: UInt64(info.f_blocks).multipliedReportingOverflow(by: unit).partialValue,
            availableBytes: UInt64(info.f_bavail).multipliedReportingOverflow(by: unit).partialValue)
    }

    package func probe() throws(StorageError) {
        _ = try makeDirectory(ReservedNames.probeDirectory, mode: ReservedNames.directoryMode, parentMode: ReservedNames.directoryMode)
        let root = try openRoot(.probe)
        defer { close(root) }
        guard let directory = try openDirectory(
            ReservedNames.probeDirectory.components, from: root, .probe, ReservedNames.probeDirectory)
        else {
            throw .notFound(member: member, operation: .probe, path: ReservedNames.probeDirectory.description)
        }
        defer { close(directory) }
        let name = POSIX.randomName(prefix: "probe-")
        let probePath = RelativePath(unchecked: ReservedNames.probeDirectory.components + [name])
        let fd = openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 {
            throw failure(.probe, probePath, "openat(O_CREAT|O_EXCL)", errno)
        }
        let code = POSIX.writeAll(fd, Array("probe\n".utf8))
        let closeCode = close(fd) == 0 ? 0 : errno
        let unlinkCode = unlinkat(directory, name, 0) == 0 ? 0 : errno
        if code != 0 { throw failure(.probe, probePath, "write", code) }
        if closeCode != 0 { throw failure(.probe, probePath, "close", closeCode) }
        if unlinkCode != 0 { throw failure(.probe, probePath, "unlinkat", unlinkCode) }
    }
}
