// Walking relative paths by file handle, creating directories and files, mapping errors.
import Glibc

extension DirectNFSVolumeStore {
    /// A looked-up entry: its handle and attributes.
    struct Entry {
        var handle: NFSFileHandle
        var attributes: NFSAttributes
    }

    /// Runs `body` with a connection of the pool (mounting one if none is idle).
    func run<T>(
        _ operation: StorageOperation, _ path: RelativePath,
        _ body: (NFSConnection) throws(StorageError) -> T
    ) throws(StorageError) -> T {
        try pool.withConnection(mapError: { failure($0, operation, path.description) }, body)
    }

    /// Runs NFS calls, mapping their failure to a ``StorageError`` about `path`.
    func attempt<T>(
        _ operation: StorageOperation, _ path: RelativePath, _ body: () throws(NFSCallError) -> T
    ) throws(StorageError) -> T {
        do throws(NFSCallError) {
            return try body()
        } catch {
            throw failure(error, operation, path.description)
        }
    }

    /// The ``StorageError`` for an NFS failure:
    /// - an NFS status: ``StorageError/systemCall(member:operation:path:call:errno:)`` with
    ///   the errno libnfs maps it to and the status name in `call` (`NFSv3 MKDIR (NFS3ERR_ACCES)`);
    /// - no answer in time: ``StorageError/timedOut(member:operation:path:after:)`` (the
    ///   member turns unhealthy at once, as for a hung mount);
    /// - a broken connection: a system call failing with ENOTCONN (a server failure for
    ///   ``MemberHealth``), libnfs's message in `call`;
    /// - a failed mount: ``StorageError/exportUnavailable(member:location:problem:)``.
    func failure(_ error: NFSCallError, _ operation: StorageOperation, _ path: String) -> StorageError {
        switch error {
        case .status(_, _, let code):
            return .systemCall(member: member, operation: operation, path: path, call: error.callDescription, errno: code)
        case .timedOut:
            return .timedOut(member: member, operation: operation, path: path, after: configuration.timeout)
        case .transport:
            return .systemCall(member: member, operation: operation, path: path, call: error.callDescription, errno: ENOTCONN)
        case .mountFailed(let code, let message):
            return .exportUnavailable(member: member, location: location, problem: .mountFailed(errno: code, message: message))
        }
    }

    /// LOOKUP of one name; `nil` when it does not exist. `display` names it in errors.
    func lookupEntry(
        _ connection: NFSConnection, _ name: NFSName, in directory: NFSFileHandle,
        _ operation: StorageOperation, _ display: String
    ) throws(StorageError) -> Entry? {
        do throws(NFSCallError) {
            let (handle, attributes) = try connection.lookup(name, in: directory)
            return Entry(handle: handle, attributes: attributes)
        } catch {
            if error.errnoValue == ENOENT { return nil }
            throw failure(error, operation, display)
        }
    }

    /// Walks `components` from the export root with LOOKUP; the handle of the last one, or
    /// `nil` when one is missing. A symlink or a non-directory on the way is
    /// `unexpectedFileType` naming the path up to it; nothing is ever followed.
    func walk(
        _ connection: NFSConnection, _ components: some Collection<String>,
        _ operation: StorageOperation, _ path: RelativePath
    ) throws(StorageError) -> NFSFileHandle? {
        var current = connection.rootHandle
        var walked: [String] = []
        for component in components {
            walked.append(component)
            let prefix = RelativePath(unchecked: walked)
            guard let entry = try lookupEntry(connection, NFSName(component), in: current, operation, prefix.description) else {
                return nil
            }
            guard entry.attributes.kind == .directory else {
                throw .unexpectedFileType(
                    member: member, operation: operation, path: prefix.description,
                    found: entry.attributes.kind, expected: .directory)
            }
            current = entry.handle
        }
        return current
    }

    /// ``VolumeStore/makeDirectory(_:mode:parentMode:)`` on an open connection: the
    /// directory's handle and whether this call created it.
    func ensureDirectory(
        _ connection: NFSConnection, _ path: RelativePath, mode: FileMode, parentMode: FileMode?,
        _ operation: StorageOperation
    ) throws(StorageError) -> (handle: NFSFileHandle, outcome: MakeDirectoryOutcome) {
        var current = connection.rootHandle
        var walked: [String] = []
        for (index, component) in path.components.enumerated() {
            walked.append(component)
            let prefix = RelativePath(unchecked: walked)
            let isLeaf = index == path.components.count - 1
            if isLeaf {
                return try createDirectory(connection, NFSName(component), in: current, mode: mode, prefix, operation)
            }
            if let entry = try lookupEntry(connection, NFSName(component), in: current, operation, prefix.description) {
                guard entry.attributes.kind == .directory else {
                    throw .unexpectedFileType(
                        member: member, operation: operation, path: prefix.description,
                        found: entry.attributes.kind, expected: .directory)
                }
                current = entry.handle
            } else if let parentMode {
                current = try createDirectory(connection, NFSName(component), in: current, mode: parentMode, prefix, operation).handle
            } else {
                throw .notFound(member: member, operation: operation, path: prefix.description)
            }
        }
        // Only the root has no components; callers refuse it before.
        throw .refusedExportRoot(member: member, operation: operation)
    }

    /// MKDIR, then SETATTR to exactly `mode` (the server may filter MKDIR's mode, like a
    /// umask). EEXIST on a directory is `.alreadyExisted` and leaves its mode alone: a
    /// timed-out MKDIR may have been applied after all (the server can carry out a call
    /// whose reply came too late, so the retry finds the directory).
    private func createDirectory(
        _ connection: NFSConnection, _ name: NFSName, in directory: NFSFileHandle, mode: FileMode,
        _ path: RelativePath, _ operation: StorageOperation
    ) throws(StorageError) -> (handle: NFSFileHandle, outcome: MakeDirectoryOutcome) {
        do throws(NFSCallError) {
            let handle = try connection.makeDirectory(name, in: directory, mode: mode)
            try connection.setMode(handle, mode: mode)
            return (handle, .created)
        } catch {
            guard error.errnoValue == EEXIST else { throw failure(error, operation, path.description) }
        }
        guard let entry = try lookupEntry(connection, name, in: directory, operation, path.description) else {
            // Removed again between MKDIR and LOOKUP.
            throw .notFound(member: member, operation: operation, path: path.description)
        }
        guard entry.attributes.kind == .directory else {
            throw .unexpectedFileType(
                member: member, operation: operation, path: path.description,
                found: entry.attributes.kind, expected: .directory)
        }
        return (entry.handle, .alreadyExisted)
    }

    /// Atomic replace: CREATE a temporary name (GUARDED, like `O_CREAT|O_EXCL`), WRITE with
    /// FILE_SYNC, SETATTR the exact mode, RENAME over `name` (which replaces a file or a
    /// symlink entry, never following it). A directory at `name` is refused before anything
    /// is created; the temporary file is removed on any failure.
    func replaceFile(
        _ connection: NFSConnection, _ name: NFSName, in directory: NFSFileHandle,
        contents: [UInt8], mode: FileMode, _ path: RelativePath
    ) throws(StorageError) {
        if let existing = try lookupEntry(connection, name, in: directory, .writeFile, path.description),
            existing.attributes.kind == .directory
        {
            throw .unexpectedFileType(
                member: member, operation: .writeFile, path: path.description, found: .directory, expected: .regularFile)
        }
        let temporary = NFSName(POSIX.randomName(prefix: ".nfs-cluster-provisioner-tmp-"))
        let file = try attempt(.writeFile, path) { () throws(NFSCallError) in
            try connection.createExclusive(temporary, in: directory, mode: mode)
        }
        do throws(NFSCallError) {
            try connection.writeAll(file, contents)
            try connection.setMode(file, mode: mode)
            try connection.rename(temporary, in: directory, to: name, in: directory)
        } catch {
            removeTemporary(connection, temporary, in: directory)
            if let code = error.errnoValue, [EISDIR, EEXIST, ENOTEMPTY].contains(code) {
                // A directory appeared at `name` after the check.
                throw .unexpectedFileType(
                    member: member, operation: .writeFile, path: path.description, found: .directory, expected: .regularFile)
            }
            throw failure(error, .writeFile, path.description)
        }
    }

    /// Best-effort cleanup after a failed write. Its own failure is not reported: the
    /// write's failure is what the caller must see, and a leftover temporary file (a
    /// reserved-looking dot name in the same directory) harms nothing; on a broken
    /// connection there is nothing to send it on anyway.
    private func removeTemporary(_ connection: NFSConnection, _ name: NFSName, in directory: NFSFileHandle) {
        guard !connection.isBroken else { return }
        do throws(NFSCallError) {
            try connection.remove(name, in: directory)
        } catch {
            return
        }
    }
}
