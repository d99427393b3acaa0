// The blocking filesystem primitives a member needs, whatever the way to reach its export.

/// Synchronous, blocking access to one NFS export, on paths relative to the export root.
///
/// Implementations: ``MountedVolumeStore`` (the export is mounted in the pod, as the Go
/// original did) and ``DirectNFSVolumeStore`` (libnfs: talks NFSv3 itself, no mount). Both
/// run the same contract tests (`Tests/EngineTests/StorageContract*.swift`).
///
/// Every method **blocks** and may block for as long as the server is unreachable (a hard
/// NFS mount hangs in `stat`). Never call them on the Swift cooperative pool: ``MemberStorage``
/// runs them on its ``BlockingExecutor`` with a timeout.
///
/// Methods are called concurrently from the executor's threads (two by default): an
/// implementation must be safe for that (the mounted store keeps no mutable state; a libnfs
/// store keeps one context per thread).
///
/// Guarantees every implementation gives:
/// - **No symlink is ever followed**, in any component of any path: a symlink where a
///   directory is needed is an error (`unexpectedFileType(found: .symbolicLink)`), and a
///   symlink as the last component is reported by ``stat(_:)`` and removed (not traversed)
///   by ``removeTree(_:budget:)``. So a symlink planted by a workload inside its volume can
///   never make the provisioner touch anything outside that volume.
/// - Nothing outside the export is reachable: paths are ``RelativePath``s (no `..`).
/// - Every failure is a ``StorageError`` naming the member, the operation and the path; the
///   errno is kept.
/// - Operations a retry may repeat are idempotent where the brief of each method says so,
///   because a call that timed out may still have been applied by the server.
public protocol VolumeStore: Sendable {
    /// The member (NFS server) this store reaches; used in every error.
    var member: String { get }

    /// Where the export is, for messages: a mount path or `server:/export`.
    var location: String { get }

    /// `lstat` semantics: information about the entry itself, never a symlink's target.
    /// Returns `nil` when the entry or one of its parents does not exist. A parent that is
    /// a symlink or not a directory is an error (`unexpectedFileType`).
    func stat(_ path: RelativePath) throws(StorageError) -> FileInfo?

    /// Creates a directory with exactly `mode` (applied with chmod after mkdir, so the
    /// process umask does not interfere). With a `parentMode`, missing parents are created
    /// with exactly that mode; existing parents are not changed; with `nil`, a missing
    /// parent is ``StorageError/notFound(member:operation:path:)``. An existing *directory*
    /// at `path` is ``MakeDirectoryOutcome/alreadyExisted`` (its mode is left alone); an
    /// existing non-directory is an error. Idempotent.
    func makeDirectory(_ path: RelativePath, mode: FileMode, parentMode: FileMode?) throws(StorageError) -> MakeDirectoryOutcome

    /// Replaces the regular file at `path` atomically (a temporary file in the same
    /// directory, then rename), with exactly `mode`. The parent must exist. A directory at
    /// `path` is an error; a symlink at `path` is replaced, not followed.
    func writeFile(_ path: RelativePath, contents: [UInt8], mode: FileMode) throws(StorageError)

    /// Reads a regular file of at most `maxBytes` bytes; `nil` when it does not exist.
    /// A symlink, a directory, a FIFO or any non-regular file is an error (and opening a
    /// FIFO does not block). A larger file is ``StorageError/fileTooLarge(member:path:limit:)``.
    func readFile(_ path: RelativePath, maxBytes: Int) throws(StorageError) -> [UInt8]?

    /// Renames `source` to `destination` within the export, **never replacing** an existing
    /// destination (``StorageError/alreadyExists(member:operation:path:)``). The
    /// destination's parent must exist. O(1): a rename, never a copy. The root cannot be
    /// renamed.
    func rename(_ source: RelativePath, to destination: RelativePath) throws(StorageError)

    /// Removes `path` and everything below it without following symlinks: a symlink inside
    /// is unlinked, not traversed; a symlink *as* `path` is unlinked only. Refuses
    /// ``RelativePath/root``. ENOENT is success (``RemoveTreeOutcome/didNotExist``).
    ///
    /// With a `budget`, stops between entries once the budget is spent and returns
    /// ``RemoveTreeOutcome/incomplete(removedEntries:)``; calling again continues. Every call
    /// removes at least one entry, whatever the budget. This keeps every call short, so a
    /// large tree never looks like a hung server.
    func removeTree(_ path: RelativePath, budget: Duration?) throws(StorageError) -> RemoveTreeOutcome

    /// The names in the directory at `path` (without `.` and `..`), in no particular order;
    /// `nil` when it does not exist. A symlink or a non-directory at `path` (or as a parent)
    /// is `unexpectedFileType`. More than `maxEntries` names is
    /// ``StorageError/tooManyEntries(member:path:limit:)``: every listing is bounded. A name
    /// that is not valid UTF-8 is returned with replacement characters (callers match names
    /// they wrote themselves and skip the rest).
    func listDirectory(_ path: RelativePath, maxEntries: Int) throws(StorageError) -> [String]?

    /// Sets the permission bits of a directory or regular file; never follows a symlink
    /// (a symlink at `path` is an error).
    func setMode(_ path: RelativePath, mode: FileMode) throws(StorageError)

    /// Size and free space of the export's filesystem (`statvfs`).
    func fileSystemStats() throws(StorageError) -> FileSystemStats

    /// Checks that the export is reachable and writable: the root is a directory (and, for
    /// a mounted store that requires it, a mount point), and a small file can be created
    /// and removed in the reserved area (``ReservedNames/probeDirectory``).
    func probe() throws(StorageError)
}

/// What kind of filesystem entry a path names (never resolved through a symlink).
public enum FileKind: String, Sendable, Hashable, CustomStringConvertible {
    case directory
    case regularFile
    case symbolicLink
    case other

    public var description: String { rawValue }
}

/// Permission bits (`0o7777` at most), e.g. `FileMode(0o750)`.
public struct FileMode: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    public let rawValue: UInt32

    /// Keeps only the permission bits (`& 0o7777`).
    public init(rawValue: UInt32) {
        self.rawValue = rawValue & 0o7777
    }

    public init(_ rawValue: UInt32) {
        self.init(rawValue: rawValue)
    }

    /// The original provisioner's directory mode, and csi-driver-nfs's `mountPermissions`
    /// default when the parameter is given without value: everyone may write, so that a
    /// workload with any uid can use its volume.
    package static let defaultDirectory = FileMode(0o777)

    /// The mode of the provisioner's own files (records, identity): readable by anyone,
    /// writable by the provisioner.
    package static let record = FileMode(0o644)

    /// Parses an octal string as the StorageClass parameter `mountPermissions` does in
    /// csi-driver-nfs (`strconv.ParseUint(v, 8, 32)`): `"0777"`, `"777"`, `"750"`. An
    /// optional `0o` prefix is accepted. Anything else, or a value above `0o7777`, is `nil`.
    package init?(octal string: String) {
        var digits = Substring(string)
        if digits.hasPrefix("0o") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 6,
            digits.allSatisfy({ $0 >= "0" && $0 <= "7" }),
            let value = UInt32(digits, radix: 8), value <= 0o7777
        else { return nil }
        self.init(rawValue: value)
    }

    /// `0750`.
    public var description: String {
        let octal = String(rawValue, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
    }
}

/// What ``VolumeStore/stat(_:)`` reports.
public struct FileInfo: Sendable, Hashable {
    package var kind: FileKind
    public var mode: FileMode
    public var uid: UInt32
    package var gid: UInt32
    /// Bytes for a regular file; implementation-defined for others.
    package var size: UInt64

    package init(kind: FileKind, mode: FileMode, uid: UInt32, gid: UInt32, size: UInt64) {
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
    }
}

/// Capacity of an export's filesystem.
public struct FileSystemStats: Sendable, Hashable {
    public var totalBytes: UInt64
    /// Bytes an unprivileged writer may still use (`f_bavail`, not `f_bfree`).
    public var availableBytes: UInt64

    package init(totalBytes: UInt64, availableBytes: UInt64) {
        self.totalBytes = totalBytes
        self.availableBytes = availableBytes
    }
}

/// Result of ``VolumeStore/makeDirectory(_:mode:parentMode:)``.
public enum MakeDirectoryOutcome: Sendable, Hashable {
    /// This call created the directory (and set its mode).
    case created
    /// A directory was already there (EEXIST); its mode was not changed.
    case alreadyExisted
}

/// Result of ``VolumeStore/removeTree(_:budget:)``.
public enum RemoveTreeOutcome: Sendable, Hashable {
    /// The tree was there and is gone now.
    case removed
    /// Nothing was there (ENOENT): success for a retried delete.
    case didNotExist
    /// The budget ran out; part of the tree remains. Call again to continue.
    case incomplete(removedEntries: Int)
}
