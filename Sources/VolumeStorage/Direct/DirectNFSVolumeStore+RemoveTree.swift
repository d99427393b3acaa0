// Recursive delete over NFSv3 by file handle: never follows a symlink, never leaves the tree.
import Glibc

extension DirectNFSVolumeStore {
    /// See ``VolumeStore/removeTree(_:budget:)``.
    ///
    /// Works on handles only: READDIRPLUS lists a directory with each entry's type and
    /// handle, REMOVE unlinks a non-directory *by name in its parent's handle* (a symlink is
    /// removed like a file, never followed), a subdirectory is entered through the handle
    /// the listing returned, and RMDIR removes it by name once empty. No path is ever
    /// resolved below the walk to `path`'s parent, so nothing outside the tree is reachable.
    ///
    /// Directories are emptied by reading their *first* page again until it comes back
    /// empty: what was listed has been removed, so no READDIR cookie has to survive the
    /// changes (and a writer that keeps adding entries is caught by the next listing, as
    /// the mounted store's repeated `readdir` does). Subdirectories wait on an explicit
    /// stack, so any depth is removed with bounded memory per level and no recursion.
    public func removeTree(_ path: RelativePath, budget: Duration?) throws(StorageError) -> RemoveTreeOutcome {
        guard let leaf = path.lastComponent else {
            throw .refusedExportRoot(member: member, operation: .removeTree)
        }
        return try run(.removeTree, path) { connection throws(StorageError) -> RemoveTreeOutcome in
            guard let parent = try walk(connection, path.components.dropLast(), .removeTree, path) else {
                return .didNotExist
            }
            let name = NFSName(leaf)
            guard let entry = try lookupEntry(connection, name, in: parent, .removeTree, path.description) else {
                return .didNotExist
            }
            guard entry.attributes.kind == .directory else {
                // A file, or a symlink *as* the path: remove that entry only.
                do throws(NFSCallError) {
                    try connection.remove(name, in: parent)
                    return .removed
                } catch {
                    if error.errnoValue == ENOENT { return .didNotExist }
                    throw failure(error, .removeTree, path.description)
                }
            }
            var remover = NFSTreeRemover(
                store: self, connection: connection,
                deadline: budget.map { ContinuousClock.now.advanced(by: $0) })
            return try remover.remove(directory: entry.handle, named: name, in: parent, display: path.description)
        }
    }
}

/// The state of one ``DirectNFSVolumeStore/removeTree(_:budget:)`` call.
private struct NFSTreeRemover {
    /// Listings of one directory in a row that found entries but removed nothing, before
    /// giving up on a tree that a writer keeps filling (the mounted store's limit).
    static let maxStalledListings = 1000

    /// A directory still to empty and remove.
    struct Frame {
        var handle: NFSFileHandle
        var name: NFSName
        var parent: NFSFileHandle
        var display: String
        /// `removed` when this directory was last listed; -1 before the first listing.
        var removedAtLastListing = -1
        var stalledListings = 0
    }

    let store: DirectNFSVolumeStore
    let connection: NFSConnection
    let deadline: ContinuousClock.Instant?
    private(set) var removed = 0

    init(store: DirectNFSVolumeStore, connection: NFSConnection, deadline: ContinuousClock.Instant?) {
        self.store = store
        self.connection = connection
        self.deadline = deadline
    }

    /// The budget is only checked once something was removed, so every call makes progress
    /// however small its budget.
    var budgetSpent: Bool {
        guard let deadline, removed > 0 else { return false }
        return ContinuousClock.now >= deadline
    }

    /// Empties and removes the directory `name` of `parent` (whose handle is `directory`).
    mutating func remove(
        directory: NFSFileHandle, named name: NFSName, in parent: NFSFileHandle, display: String
    ) throws(StorageError) -> RemoveTreeOutcome {
        var stack = [Frame(handle: directory, name: name, parent: parent, display: display)]
        while var frame = stack.popLast() {
            let entries = try list(frame)
            if entries.isEmpty {
                let isTop = stack.isEmpty
                if try removeEmptyDirectory(frame, countIt: !isTop) || !isTop {
                    // Removed; or a non-top directory that filled up again, which its
                    // parent's next listing will find.
                    if isTop { return .removed }
                    continue
                }
                // The top directory is not empty after all: list it again.
                try noteListing(&frame, foundEntries: true)
                stack.append(frame)
                continue
            }
            try noteListing(&frame, foundEntries: true)
            var children: [Frame] = []
            for entry in entries {
                if budgetSpent {
                    return .incomplete(removedEntries: removed)
                }
                if let child = try removeOrDescend(entry, in: frame) {
                    children.append(child)
                }
            }
            // The parent comes back after its children, to be listed again and removed.
            stack.append(frame)
            stack.append(contentsOf: children.reversed())
        }
        return .removed
    }

    /// READDIRPLUS first page of the frame's directory.
    private func list(_ frame: Frame) throws(StorageError) -> [NFSDirectoryEntry] {
        do throws(NFSCallError) {
            return try connection.readDirectoryFirstPage(frame.handle)
        } catch {
            throw store.failure(error, .removeTree, frame.display)
        }
    }

    /// Counts listings that found entries without anything removed since the last one.
    private mutating func noteListing(_ frame: inout Frame, foundEntries: Bool) throws(StorageError) {
        if frame.removedAtLastListing == removed {
            frame.stalledListings += 1
            if frame.stalledListings > Self.maxStalledListings {
                throw .deleteIncomplete(member: store.member, path: frame.display, removedEntries: removed)
            }
        } else {
            frame.stalledListings = 0
        }
        frame.removedAtLastListing = removed
    }

    /// Removes a non-directory entry, or returns the frame of a subdirectory to empty.
    private mutating func removeOrDescend(_ entry: NFSDirectoryEntry, in frame: Frame) throws(StorageError) -> Frame? {
        let display = frame.display + "/" + entry.name.display
        var kind = entry.attributes?.kind
        var handle = entry.handle
        if kind == nil || (kind == .directory && handle == nil) {
            // The server sent no attributes or handle: ask for them (LOOKUP never follows).
            guard let looked = try store.lookupEntry(connection, entry.name, in: frame.handle, .removeTree, display) else {
                return nil
            }
            kind = looked.attributes.kind
            handle = looked.handle
        }
        if kind == .directory, let handle {
            return Frame(handle: handle, name: entry.name, parent: frame.handle, display: display)
        }
        do throws(NFSCallError) {
            try connection.remove(entry.name, in: frame.handle)
            removed += 1
        } catch {
            switch error.errnoValue {
            case ENOENT:
                break  // someone else removed it
            case EISDIR:
                break  // became a directory since the listing: the next listing handles it
            default:
                throw store.failure(error, .removeTree, display)
            }
        }
        return nil
    }

    /// RMDIR of an empty-looking directory. True when it is gone; false when it is not
    /// empty any more (created meanwhile). ENOENT counts as gone.
    private mutating func removeEmptyDirectory(_ frame: Frame, countIt: Bool) throws(StorageError) -> Bool {
        do throws(NFSCallError) {
            try connection.removeDirectory(frame.name, in: frame.parent)
            if countIt { removed += 1 }
            return true
        } catch {
            switch error.errnoValue {
            case ENOENT: return true
            case ENOTEMPTY, EEXIST: return false
            default: throw store.failure(error, .removeTree, frame.display)
            }
        }
    }
}
