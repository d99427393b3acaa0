// Opening the export and walking relative paths without following symlinks.
import Glibc

extension MountedVolumeStore {
    /// Opens the mount path and checks it is a directory and, when required, a mount point.
    /// The mount path itself may be reached through symlinks: it is the operator's
    /// configuration, not a workload's.
    func openRoot(_ operation: StorageOperation) throws(StorageError) -> Int32 {
        let fd = open(configuration.mountPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            throw .exportUnavailable(
                member: member, location: location,
                problem: code == ENOTDIR ? .notADirectory : .cannotOpen(errno: code))
        }
        if configuration.requireMountPoint {
            // At a mount root, ".." is the mount point's parent on the outer filesystem.
            let own = POSIX.fstat(fd)
            let parent = POSIX.lstat(in: fd, "..")
            switch (own, parent) {
            case (.success(let own), .success(let parent)) where own.st_dev != parent.st_dev:
                break
            case (.success, .success):
                close(fd)
                throw .exportUnavailable(member: member, location: location, problem: .notMounted)
            case (.failure(let error), _), (_, .failure(let error)):
                close(fd)
                throw .exportUnavailable(member: member, location: location, problem: .cannotOpen(errno: error.code))
            }
        }
        return fd
    }

    /// Opens the directory containing `path`'s last component; `nil` when a parent is
    /// missing. The caller closes the result.
    func openParent(
        of path: RelativePath, from root: Int32, _ operation: StorageOperation
    ) throws(StorageError) -> Int32? {
        try openDirectory(path.components.dropLast(), from: root, operation, path)
    }

    /// Walks `components` from `root`, one `openat(O_DIRECTORY | O_NOFOLLOW)` at a time.
    /// Returns a new descriptor (a `dup` of `root` for no components), or `nil` when a
    /// component is missing. A symlink or a non-directory on the way is an error.
    func openDirectory(
        _ components: some Collection<String>, from root: Int32,
        _ operation: StorageOperation, _ path: RelativePath
    ) throws(StorageError) -> Int32? {
        var current = dup(root)
        if current < 0 {
            throw failure(operation, path, "dup", errno)
        }
        var walked: [String] = []
        for component in components {
            walked.append(component)
            let next: Int32?
            do throws(StorageError) {
                next = try openDirectory(component, in: current, operation, RelativePath(unchecked: walked))
            } catch {
                close(current)
                throw error
            }
            close(current)
            guard let next else { return nil }
            current = next
        }
        return current
    }

    /// Opens one directory entry of `directory`, never through a symlink; `nil` if it does
    /// not exist. `path` names the entry in errors.
    func openDirectory(
        _ name: String, in directory: Int32, _ operation: StorageOperation, _ path: RelativePath
    ) throws(StorageError) -> Int32? {
        let fd = openat(directory, name, POSIX.directoryFlags)
        if fd >= 0 { return fd }
        let code = errno
        if code == ENOENT { return nil }
        if code == ENOTDIR || code == ELOOP {
            // O_DIRECTORY|O_NOFOLLOW on a symlink gives ENOTDIR on Linux: ask what it is.
            switch POSIX.lstat(in: directory, name) {
            case .success(let info):
                throw .unexpectedFileType(
                    member: member, operation: operation, path: path.description,
                    found: POSIX.kind(of: info), expected: .directory)
            case .failure(let error) where error.code == ENOENT:
                return nil
            case .failure(let error):
                throw failure(operation, path, "fstatat", error.code)
            }
        }
        throw failure(operation, path, "openat", code)
    }

    /// `mkdirat` then `fchmod` to exactly `mode` (mkdir's mode is filtered by the umask).
    /// EEXIST on a directory is ``MakeDirectoryOutcome/alreadyExisted``.
    func createDirectory(
        _ name: String, in directory: Int32, mode: FileMode, _ path: RelativePath
    ) throws(StorageError) -> MakeDirectoryOutcome {
        if mkdirat(directory, name, mode_t(mode.rawValue)) == 0 {
            guard let fd = try openDirectory(name, in: directory, .makeDirectory, path) else {
                throw .notFound(member: member, operation: .makeDirectory, path: path.description)
            }
            defer { close(fd) }
            if fchmod(fd, mode_t(mode.rawValue)) != 0 {
                throw failure(.makeDirectory, path, "fchmod", errno)
            }
            return .created
        }
        let code = errno
        guard code == EEXIST else {
            throw failure(.makeDirectory, path, "mkdirat", code)
        }
        switch POSIX.lstat(in: directory, name) {
        case .success(let info) where POSIX.kind(of: info) == .directory:
            return .alreadyExisted
        case .success(let info):
            throw .unexpectedFileType(
                member: member, operation: .makeDirectory, path: path.description,
                found: POSIX.kind(of: info), expected: .directory)
        case .failure(let error):
            throw failure(.makeDirectory, path, "fstatat", error.code)
        }
    }

    /// `fstat` of an open descriptor as a ``FileInfo``.
    /// Opens `leaf` in `parent` read-only without following a symlink (a symlink is an
    /// `unexpectedFileType` error, `expected` naming what the caller wanted) and without
    /// blocking (a FIFO planted under the name must not hang the call). Nil if it does not
    /// exist. The caller closes the descriptor.
    func openLeaf(_ leaf: String, in parent: Int32, _ operation: StorageOperation, _ path: RelativePath,
                  expected: FileKind) throws(StorageError) -> Int32? {
        let fd = openat(parent, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd < 0 else { return fd }
        let code = errno
        if code == ENOENT { return nil }
        if code == ELOOP {
            throw .unexpectedFileType(member: member, operation: operation, path: path.description,
                                      found: .symbolicLink, expected: expected)
        }
        throw failure(operation, path, "openat", code)
    }

    func info(of fd: Int32, _ operation: StorageOperation, _ path: RelativePath) throws(StorageError) -> FileInfo {
        switch POSIX.fstat(fd) {
        case .success(let info): return POSIX.fileInfo(from: info)
        case .failure(let error): throw failure(operation, path, "fstat", error.code)
        }
    }

    /// A ``StorageError/systemCall(member:operation:path:call:errno:)`` for this member.
    func failure(
        _ operation: StorageOperation, _ path: RelativePath, _ call: String, _ code: Int32
    ) -> StorageError {
        .systemCall(member: member, operation: operation, path: path.description, call: call, errno: code)
    }
}
