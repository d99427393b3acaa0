// The one error type of the storage layer.
import Glibc

/// Which storage operation failed; carried by every ``StorageError``.
public enum StorageOperation: String, Sendable, Hashable, CustomStringConvertible {
    // VolumeStore primitives
    case stat, makeDirectory, writeFile, readFile, rename, removeTree, setMode, listDirectory
    case fileSystemStats, probe
    // MemberStorage operations
    case createVolume, readRecord, adoptVolume, archiveVolume, deleteVolume
    case loadRecords, writeRecord, checkIdentity

    public var description: String { rawValue }
}

/// What a failure says about the member's health (see ``MemberHealth``).
package enum HealthImpact: Sendable, Hashable {
    /// The server answered; the failure is about the request (ENOENT, EEXIST, a record):
    /// as good as a success for health.
    case serverResponded
    /// The server or the export misbehaves (EIO, ESTALE, not mounted...): counts towards
    /// ``MemberHealth/Configuration/failureThreshold``.
    case failure
    /// A call did not finish in time, or every thread is stuck: unhealthy at once.
    case timeout
    /// Says nothing about the server (refused before reaching it, cancelled, shut down).
    case unknown
}

/// Every failure of the storage layer. Each case names the member, the operation and the
/// path concerned, and keeps the cause (errno, record, last error).
public enum StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A string is not a safe ``RelativePath``.
    case invalidPath(path: String, problem: PathProblem)
    /// A system call (or an NFS call) failed with `errno`.
    case systemCall(member: String, operation: StorageOperation, path: String, call: String, errno: Int32)
    /// An entry exists but is of the wrong kind: a symlink or a file where a directory is
    /// needed, a directory where a file is needed.
    case unexpectedFileType(member: String, operation: StorageOperation, path: String, found: FileKind, expected: FileKind)
    /// A rename target exists (renames never replace).
    case alreadyExists(member: String, operation: StorageOperation, path: String)
    /// An entry the operation needs does not exist (a rename source, a parent directory).
    case notFound(member: String, operation: StorageOperation, path: String)
    /// The operation would act on the export root itself.
    case refusedExportRoot(member: String, operation: StorageOperation)
    /// The operation would act on the provisioner's reserved area (``ReservedNames``) where
    /// only volume directories are allowed.
    case reservedPath(member: String, operation: StorageOperation, path: String)
    /// A file is larger than the caller allowed.
    case fileTooLarge(member: String, path: String, limit: Int)
    /// The export itself is missing, not a directory, or not mounted.
    case exportUnavailable(member: String, location: String, problem: ExportProblem)
    /// The call did not finish within `after`. The blocking thread may still be stuck.
    case timedOut(member: String, operation: StorageOperation, path: String, after: Duration)
    /// Every thread of the member is stuck in an earlier call, or the queue is full.
    case memberBusy(member: String, operation: StorageOperation, stuckThreads: Int, queuedJobs: Int)
    /// The member is unhealthy; calls fail fast until a probe succeeds.
    indirect case memberUnhealthy(member: String, operation: StorageOperation, lastError: StorageError?)
    /// The awaiting task was cancelled; the blocking call may still complete.
    case cancelled(member: String, operation: StorageOperation)
    /// The member's executor was shut down.
    case executorShutDown(member: String, operation: StorageOperation)
    /// An ownership record file exists but cannot be understood: the path stays taken.
    case invalidRecord(member: String, path: String, problem: String)
    /// The directory's record names another claim: it was reused by a re-created claim and
    /// must not be deleted or archived for this (old) volume.
    case ownedByAnotherClaim(member: String, path: String, owner: ClaimIdentity, expectedClaimUID: String)
    /// The directory's record changed since the caller looked (``MemberStorage/adoptVolume(relativePath:claim:volumeName:replacingClaimUID:)``).
    case recordChanged(member: String, path: String, found: String)
    /// Another record (or a directory no record names) holds the path: placement picks
    /// another path or member.
    case pathTaken(member: String, path: String, holder: String)
    /// The path lies inside another volume (`inside`), or other volumes lie inside it: no
    /// volume is ever created, adopted, deleted or archived across another one.
    case overlapsVolume(member: String, path: String, other: String, inside: Bool)
    /// A directory is at the path but no record names it: it is never adopted, deleted or
    /// archived (its data is kept).
    case unrecordedDirectory(member: String, path: String, operation: StorageOperation)
    /// A directory listing had more entries than allowed.
    case tooManyEntries(member: String, path: String, limit: Int)
    /// The export's identity file names another member or export: the mount (or the
    /// server) is not the one configured, so nothing is done there.
    case identityMismatch(member: String, expected: String, found: String)
    /// A delete kept finding new entries (a workload still writing) past its budget.
    case deleteIncomplete(member: String, path: String, removedEntries: Int)
    /// Every archive name candidate was taken.
    case archiveNameTaken(member: String, path: String, attempts: Int)

    /// What this failure says about the member's health.
    package var healthImpact: HealthImpact {
        switch self {
        case .timedOut, .memberBusy:
            return .timeout
        case .exportUnavailable:
            return .failure
        case .identityMismatch:
            return .timeout
        case .systemCall(_, _, _, _, let code):
            return Self.serverErrnos.contains(code) ? .failure : .serverResponded
        case .invalidPath, .refusedExportRoot, .reservedPath, .memberUnhealthy, .cancelled, .executorShutDown:
            return .unknown
        case .unexpectedFileType, .alreadyExists, .notFound, .fileTooLarge, .invalidRecord,
            .ownedByAnotherClaim, .recordChanged, .deleteIncomplete, .archiveNameTaken, .pathTaken,
            .overlapsVolume, .unrecordedDirectory, .tooManyEntries:
            return .serverResponded
        }
    }

    /// Errnos that say "the server or the mount is broken" rather than "this request is
    /// wrong". EACCES/EPERM are not among them: root_squash on one directory is not a dead
    /// server. ENOSPC is placement's business (free space), not health.
    static let serverErrnos: Set<Int32> = [
        EIO, ESTALE, ENOTCONN, ETIMEDOUT, EROFS, EHOSTDOWN, EHOSTUNREACH, ENETUNREACH,
        ENETDOWN, ECONNREFUSED, ECONNRESET, ECONNABORTED, EREMOTEIO, ENOLCK,
    ]

    /// Whether the same call may succeed later without anyone changing anything.
    /// Timeouts, busy or unhealthy members and server errnos are retryable; a refused path,
    /// a foreign record or a file of the wrong kind are not.
    package var isRetryable: Bool {
        switch self {
        case .timedOut, .memberBusy, .memberUnhealthy, .cancelled, .exportUnavailable,
            .deleteIncomplete, .recordChanged, .identityMismatch:
            return true
        case .systemCall:
            return healthImpact == .failure || [EAGAIN, EINTR, ENOSPC, EDQUOT, EBUSY, ENOTEMPTY, EMFILE, ENFILE].contains(errnoValue ?? 0)
        case .invalidPath, .unexpectedFileType, .alreadyExists, .notFound, .refusedExportRoot,
            .reservedPath, .fileTooLarge, .executorShutDown, .invalidRecord, .ownedByAnotherClaim,
            .archiveNameTaken, .pathTaken, .overlapsVolume, .unrecordedDirectory, .tooManyEntries:
            return false
        }
    }

    /// The server refused a write for lack of space (ENOSPC) or quota (EDQUOT): it works,
    /// it is full. Placement's free-space threshold deals with it, not health.
    package var isOutOfSpace: Bool {
        errnoValue == ENOSPC || errnoValue == EDQUOT
    }

    /// The errno of a ``systemCall(member:operation:path:call:errno:)``.
    package var errnoValue: Int32? {
        if case .systemCall(_, _, _, _, let code) = self { return code }
        return nil
    }

    public var description: String {
        switch self {
        case .invalidPath(let path, let problem):
            return "invalid path '\(path)': \(problem)"
        case .systemCall(let member, let operation, let path, let call, let code):
            return "\(member): \(operation) '\(path)': \(call) failed: \(Self.message(for: code)) (errno \(code))"
        case .unexpectedFileType(let member, let operation, let path, let found, let expected):
            return "\(member): \(operation) '\(path)': found a \(found) where a \(expected) is required"
        case .alreadyExists(let member, let operation, let path):
            return "\(member): \(operation) '\(path)': the target already exists"
        case .notFound(let member, let operation, let path):
            return "\(member): \(operation) '\(path)': no such file or directory"
        case .refusedExportRoot(let member, let operation):
            return "\(member): \(operation): refused to act on the export root"
        case .reservedPath(let member, let operation, let path):
            return "\(member): \(operation) '\(path)': the path is in the provisioner's reserved area"
        case .fileTooLarge(let member, let path, let limit):
            return "\(member): '\(path)' is larger than \(limit) bytes"
        case .exportUnavailable(let member, let location, let problem):
            return "\(member): export \(location) unavailable: \(problem)"
        case .timedOut(let member, let operation, let path, let after):
            return "\(member): \(operation) '\(path)' timed out after \(after)"
        case .memberBusy(let member, let operation, let stuck, let queued):
            return "\(member): \(operation): member busy (\(stuck) threads stuck, \(queued) calls queued)"
        case .memberUnhealthy(let member, let operation, let lastError):
            return "\(member): \(operation): member unhealthy"
                + (lastError.map { " (last error: \($0))" } ?? "")
        case .cancelled(let member, let operation):
            return "\(member): \(operation): cancelled"
        case .executorShutDown(let member, let operation):
            return "\(member): \(operation): the member's executor is shut down"
        case .invalidRecord(let member, let path, let problem):
            return "\(member): ownership record '\(path)' is invalid: \(problem)"
        case .ownedByAnotherClaim(let member, let path, let owner, let expected):
            return "\(member): '\(path)' belongs to claim \(owner), not to claim uid \(expected): refused"
        case .recordChanged(let member, let path, let found):
            return "\(member): the ownership record of '\(path)' changed (now \(found))"
        case .pathTaken(let member, let path, let holder):
            return "\(member): '\(path)' is taken by \(holder)"
        case .overlapsVolume(let member, let path, let other, let inside):
            return inside
                ? "\(member): '\(path)' lies inside the volume '\(other)': refused"
                : "\(member): '\(path)' contains \(other): refused"
        case .unrecordedDirectory(let member, let path, let operation):
            return "\(member): \(operation): '\(path)' exists but no ownership record names it: left alone"
        case .tooManyEntries(let member, let path, let limit):
            return "\(member): '\(path)' has more than \(limit) entries"
        case .identityMismatch(let member, let expected, let found):
            return "\(member): the export is not this member's: expected \(expected), its identity file says \(found)"
        case .deleteIncomplete(let member, let path, let removed):
            return "\(member): delete of '\(path)' incomplete after \(removed) entries: it keeps changing"
        case .archiveNameTaken(let member, let path, let attempts):
            return "\(member): no free archive name for '\(path)' after \(attempts) attempts"
        }
    }

    /// `strerror`, read safely.
    static func message(for code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}

/// Why an export cannot be used.
public enum ExportProblem: Sendable, Hashable, CustomStringConvertible {
    /// The configured mount path is not an absolute path without NUL bytes.
    case invalidMountPath
    /// The mount path cannot be opened (errno).
    case cannotOpen(errno: Int32)
    /// The mount path is not a directory.
    case notADirectory
    /// The mount path is on the same device as its parent: nothing is mounted there (the Go
    /// original's bug 6 created local directories in that case).
    case notMounted
    /// A direct NFS member's configuration is unusable (``DirectNFSVolumeStore``).
    case invalidNFSConfiguration(String)
    /// A direct NFS member's export cannot be mounted over NFS (refused, unknown export,
    /// access denied); the message is libnfs's.
    case mountFailed(errno: Int32, message: String)

    public var description: String {
        switch self {
        case .invalidMountPath: "the mount path must be absolute and contain no NUL byte"
        case .cannotOpen(let code): "cannot open it: \(StorageError.message(for: code)) (errno \(code))"
        case .notADirectory: "it is not a directory"
        case .notMounted: "nothing is mounted there (same device as its parent directory)"
        case .invalidNFSConfiguration(let problem): problem
        case .mountFailed(let code, let message): "\(message) (errno \(code))"
        }
    }
}
