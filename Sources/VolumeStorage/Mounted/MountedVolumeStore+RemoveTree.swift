// Recursive delete that never follows a symlink and never leaves the tree it was given.
import Glibc

extension MountedVolumeStore {
    /// See ``VolumeStore/removeTree(_:budget:)``.
    ///
    /// Walks with descriptors only: `fdopendir` + `readdir` to list, `fstatat(
    /// AT_SYMLINK_NOFOLLOW)` to classify, `openat(O_DIRECTORY | O_NOFOLLOW)` to descend and
    /// `unlinkat` to remove, each relative to the directory's descriptor. A symlink is
    /// unlinked like a file. An entry swapped for a symlink between the check and the
    /// descent makes `openat` fail, and is then unlinked, not followed. Names are kept as
    /// raw bytes (they need not be UTF-8).
    ///
    /// Each directory is listed again until a listing comes back empty: on NFS, `readdir`
    /// may skip entries while the directory is being changed. Subtrees deeper than
    /// ``maxOpenDepth`` are renamed up into the directory being removed (inside the same
    /// tree), so any depth is removed with bounded descriptors and stack.
    package func removeTree(_ path: RelativePath, budget: Duration?) throws(StorageError) -> RemoveTreeOutcome {
        guard let leaf = path.lastComponent else {
            throw .refusedExportRoot(member: member, operation: .removeTree)
        }
        let root = try openRoot(.removeTree)
        defer { close(root) }
        guard let parent = try openParent(of: path, from: root, .removeTree) else { return .didNotExist }
        defer { close(parent) }

        switch POSIX.lstat(in: parent, leaf) {
        case .failure(let error) where error.code == ENOENT:
            return .didNotExist
        case .failure(let error):
            throw failure(.removeTree, path, "fstatat", error.code)
        case .success(let info) where POSIX.kind(of: info) != .directory:
            // A file, or a symlink *as* the path: unlink the entry itself only.
            if unlinkat(parent, leaf, 0) != 0 {
                let code = errno
                if code == ENOENT { return .didNotExist }
                throw failure(.removeTree, path, "unlinkat", code)
            }
            return .removed
        case .success:
            break
        }
        let top: Int32
        switch openat(parent, leaf, POSIX.directoryFlags) {
        case let fd where fd >= 0:
            top = fd
        default:
            let code = errno
            if code == ENOENT { return .didNotExist }
            if code == ENOTDIR || code == ELOOP {
                // Swapped for a non-directory since the check: remove that entry only.
                if unlinkat(parent, leaf, 0) == 0 || errno == ENOENT { return .removed }
                throw failure(.removeTree, path, "unlinkat", errno)
            }
            throw failure(.removeTree, path, "openat", code)
        }
        defer { close(top) }

        var remover = TreeRemover(
            store: self, top: top, topPath: path, maxOpenDepth: maxOpenDepth,
            deadline: budget.map { ContinuousClock.now.advanced(by: $0) })
        var passes = 0
        while true {
            guard try remover.empty(top, depth: 0, displayPath: path.description) else {
                return .incomplete(removedEntries: remover.removed)
            }
            if unlinkat(parent, leaf, AT_REMOVEDIR) == 0 { return .removed }
            let code = errno
            switch code {
            case ENOENT:
                return .removed
            case ENOTEMPTY, EEXIST:
                // Something was created after the last listing; list again.
                passes += 1
                try remover.checkPasses(passes, path: path.description)
            default:
                throw failure(.removeTree, path, "unlinkat(AT_REMOVEDIR)", code)
            }
        }
    }
}

/// The state of one ``MountedVolumeStore/removeTree(_:budget:)`` call.
private struct TreeRemover {
    /// Listings of one directory that still found entries, before giving up on a tree that
    /// a writer keeps filling (in practice only reached without a budget).
    static let maxPasses = 1000

    let store: MountedVolumeStore
    /// The directory being removed: where too-deep subtrees are moved up to.
    let top: Int32
    let topPath: RelativePath
    let maxOpenDepth: Int
    let deadline: ContinuousClock.Instant?
    private(set) var removed = 0

    init(store: MountedVolumeStore, top: Int32, topPath: RelativePath, maxOpenDepth: Int, deadline: ContinuousClock.Instant?) {
        self.store = store
        self.top = top
        self.topPath = topPath
        self.maxOpenDepth = maxOpenDepth
        self.deadline = deadline
    }

    /// The budget is only checked once something was removed, so every call makes progress
    /// however small its budget.
    var budgetSpent: Bool {
        guard let deadline, removed > 0 else { return false }
        return ContinuousClock.now >= deadline
    }

    func checkPasses(_ passes: Int, path: String) throws(StorageError) {
        if passes > Self.maxPasses {
            throw .deleteIncomplete(member: store.member, path: path, removedEntries: removed)
        }
    }

    /// Removes everything inside `directory`. Returns `false` when the budget ran out.
    mutating func empty(_ directory: Int32, depth: Int, displayPath: String) throws(StorageError) -> Bool {
        let listing = dup(directory)
        if listing < 0 { throw fail(displayPath, "dup", errno) }
        guard let stream = fdopendir(listing) else {
            let code = errno
            close(listing)
            throw fail(displayPath, "fdopendir", code)
        }
        defer { closedir(stream) }
        var passes = 0
        while true {
            var sawEntry = false
            rewinddir(stream)
            while true {
                errno = 0
                guard let entry = readdir(stream) else {
                    if errno != 0 { throw fail(displayPath, "readdir", errno) }
                    break
                }
                let name = POSIX.name(of: entry)
                if Self.isDotOrDotDot(name) { continue }
                sawEntry = true
                if budgetSpent { return false }
                guard try removeEntry(name, in: directory, depth: depth, displayPath: displayPath) else {
                    return false
                }
            }
            if !sawEntry { return true }
            passes += 1
            try checkPasses(passes, path: displayPath)
        }
    }

    /// Removes one entry of `directory` (recursively for a directory). Returns `false` when
    /// the budget ran out inside it.
    private mutating func removeEntry(
        _ name: [CChar], in directory: Int32, depth: Int, displayPath: String
    ) throws(StorageError) -> Bool {
        let entryPath = displayPath + "/" + Self.display(name)
        let info: stat
        switch name.withUnsafeBufferPointer({ POSIX.lstat(in: directory, $0.baseAddress!) }) {
        case .success(let value): info = value
        case .failure(let error) where error.code == ENOENT: return true
        case .failure(let error): throw fail(entryPath, "fstatat", error.code)
        }
        guard POSIX.kind(of: info) == .directory else {
            try unlink(name, in: directory, flags: 0, entryPath)
            return true
        }
        if depth + 1 >= maxOpenDepth {
            try moveUp(name, from: directory, entryPath)
            return true
        }
        let child = name.withUnsafeBufferPointer { openat(directory, $0.baseAddress!, POSIX.directoryFlags) }
        if child < 0 {
            let code = errno
            if code == ENOENT { return true }
            if code == ENOTDIR || code == ELOOP {
                // Replaced by a symlink or a file after fstatat: unlink it, never follow.
                try unlink(name, in: directory, flags: 0, entryPath)
                return true
            }
            throw fail(entryPath, "openat", code)
        }
        defer { close(child) }
        guard try empty(child, depth: depth + 1, displayPath: entryPath) else { return false }
        try unlink(name, in: directory, flags: AT_REMOVEDIR, entryPath)
        return true
    }

    /// `unlinkat`; ENOENT is fine (someone else removed it), ENOTEMPTY leaves the directory
    /// for the next listing of its parent.
    private mutating func unlink(_ name: [CChar], in directory: Int32, flags: Int32, _ entryPath: String) throws(StorageError) {
        if name.withUnsafeBufferPointer({ unlinkat(directory, $0.baseAddress!, flags) }) == 0 {
            removed += 1
            return
        }
        let code = errno
        if code == ENOENT || (flags == AT_REMOVEDIR && (code == ENOTEMPTY || code == EEXIST)) { return }
        if code == EISDIR && flags == 0 { return }  // became a directory: next listing
        throw fail(entryPath, flags == AT_REMOVEDIR ? "unlinkat(AT_REMOVEDIR)" : "unlinkat", code)
    }

    /// Renames a too-deep subtree into the top directory under a fresh name; the top
    /// directory's next listing removes it from there.
    private func moveUp(_ name: [CChar], from directory: Int32, _ entryPath: String) throws(StorageError) {
        for _ in 0..<8 {
            let fresh = POSIX.randomName(prefix: ".nfs-cluster-provisioner-deep-")
            let code = name.withUnsafeBufferPointer { POSIX.renameNoReplace(directory, $0.baseAddress!, top, fresh) }
            if code == 0 || code == ENOENT { return }
            if code != EEXIST { throw fail(entryPath, "renameat", code) }
        }
        throw fail(entryPath, "renameat", EEXIST)
    }

    private func fail(_ path: String, _ call: String, _ code: Int32) -> StorageError {
        .systemCall(member: store.member, operation: .removeTree, path: path, call: call, errno: code)
    }

    static func isDotOrDotDot(_ name: [CChar]) -> Bool {
        name == [46, 0] || name == [46, 46, 0]
    }

    /// A name for messages; invalid UTF-8 is shown with replacement characters.
    static func display(_ name: [CChar]) -> String {
        String(decoding: name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
