// Volume directories on one member: create, inspect, adopt, archive, delete.
import Foundation

extension MemberStorage {
    /// Result of ``createVolume(relativePath:mode:marker:)``.
    public enum CreateOutcome: Sendable, Hashable {
        /// The directory was created with the mode and the marker.
        case created
        /// The directory exists and its marker names the same claim uid: a retry, or a
        /// crash between the directory and the PV. Use it.
        case alreadyOurs(OwnershipMarker)
        /// The directory exists with another claim's marker. Reuse it only for a re-created
        /// claim of the same namespace and name (``OwnershipMarker/isSameClaimName(as:)``),
        /// through ``adoptVolume(relativePath:marker:replacing:)``; otherwise pick another
        /// path (``PathPattern/disambiguated(_:namespace:name:)``).
        case existsWithMarker(OwnershipMarker)
        /// The directory exists without a marker: made by the Go original (name-based reuse),
        /// or by a call of ours that timed out before writing the marker. Adopt it or not.
        case existsWithoutMarker
    }

    /// What is at a volume path (``inspectVolume(relativePath:)``).
    public enum VolumeState: Sendable, Hashable {
        case absent
        case presentWithoutMarker
        case present(OwnershipMarker)
    }

    /// Result of ``archiveVolume(relativePath:archiveName:expectedClaimUID:)``.
    public enum ArchiveOutcome: Sendable, Hashable {
        /// Renamed to this path in the archive area.
        case archived(RelativePath)
        /// Nothing at the path (an earlier attempt finished, or it never existed).
        case alreadyGone
    }

    /// Result of ``deleteVolume(relativePath:expectedClaimUID:)``.
    public enum DeleteOutcome: Sendable, Hashable {
        case deleted
        /// Nothing at the path and nothing left in the trash.
        case alreadyGone
    }

    /// Creates the volume directory with exactly `mode` (missing parents with
    /// ``Configuration/parentDirectoryMode``) and writes the marker, or reports what is already there. One blocking job: stat, mkdir, chmod, write
    /// the marker. If the marker cannot be written, the directory this call created is
    /// removed again, so a retry starts clean.
    ///
    /// - Throws: `.refusedExportRoot` / `.reservedPath` for the root or the reserved area;
    ///   `.unexpectedFileType` when a non-directory (or a symlink) is in the way;
    ///   `.invalidMarker` for an unreadable marker; `.timedOut`, `.memberBusy`,
    ///   `.memberUnhealthy` from the executor and the health state; system-call failures.
    public func createVolume(
        relativePath path: RelativePath, mode: FileMode, marker: OwnershipMarker
    ) async throws(StorageError) -> CreateOutcome {
        try checkVolumePath(path, .createVolume)
        let name = self.name
        let parentMode = configuration.parentDirectoryMode
        return try await withPathLock(path) { () throws(StorageError) -> CreateOutcome in
            try await perform(.createVolume, path) { store throws(StorageError) -> CreateOutcome in
                if let info = try store.stat(path) {
                    return try Self.classifyExisting(info, store: store, path: path, marker: marker, member: name)
                }
                switch try store.makeDirectory(path, mode: mode, parentMode: parentMode) {
                case .alreadyExisted:
                    // Created meanwhile (or by a timed-out attempt): judge it like any other.
                    let info = try store.stat(path)
                    return try Self.classifyExisting(info, store: store, path: path, marker: marker, member: name)
                case .created:
                    do throws(StorageError) {
                        try store.writeFile(Self.markerPath(path), contents: marker.encoded(), mode: .marker)
                    } catch {
                        // Roll back; if that fails too, the marker error is the one to report
                        // and a retry sees `existsWithoutMarker`.
                        _ = Result { () throws(StorageError) in try store.removeTree(path, budget: nil) }
                        throw error
                    }
                    return .created
                }
            }
        }
    }

    /// What is at `path`: nothing, a directory without marker, or a directory with one.
    public func inspectVolume(relativePath path: RelativePath) async throws(StorageError) -> VolumeState {
        try checkVolumePath(path, .readMarker)
        let name = self.name
        return try await perform(.readMarker, path) { store throws(StorageError) -> VolumeState in
            guard let info = try store.stat(path) else { return .absent }
            guard info.kind == .directory else {
                throw .unexpectedFileType(
                    member: name, operation: .readMarker, path: path.description, found: info.kind, expected: .directory)
            }
            return try Self.readMarker(store: store, path: path, member: name).map { .present($0) } ?? .presentWithoutMarker
        }
    }

    /// The marker of the volume at `path`; `nil` when the directory or the marker is absent.
    public func readMarker(relativePath path: RelativePath) async throws(StorageError) -> OwnershipMarker? {
        if case .present(let marker) = try await inspectVolume(relativePath: path) { return marker }
        return nil
    }

    /// Writes `marker` into the existing directory at `path`, if its current marker is still
    /// `replacing` (`nil`: no marker). Used to take over a directory from the Go original or
    /// from a deleted claim of the same namespace and name. Idempotent: succeeds when the
    /// directory already carries `marker`.
    ///
    /// - Throws: `.markerChanged` when the current marker is neither `replacing` nor `marker`;
    ///   `.notFound` when the directory is gone.
    public func adoptVolume(
        relativePath path: RelativePath, marker: OwnershipMarker, replacing expected: OwnershipMarker?
    ) async throws(StorageError) {
        try checkVolumePath(path, .adoptVolume)
        let name = self.name
        try await withPathLock(path) { () throws(StorageError) in
            try await perform(.adoptVolume, path) { store throws(StorageError) in
                guard let info = try store.stat(path) else {
                    throw .notFound(member: name, operation: .adoptVolume, path: path.description)
                }
                guard info.kind == .directory else {
                    throw .unexpectedFileType(
                        member: name, operation: .adoptVolume, path: path.description, found: info.kind, expected: .directory)
                }
                let current = try Self.readMarker(store: store, path: path, member: name)
                if current == marker { return }
                guard current == expected else {
                    throw .markerChanged(member: name, path: path.description, found: current)
                }
                try store.writeFile(Self.markerPath(path), contents: marker.encoded(), mode: .marker)
            }
        }
    }

    /// Moves the volume into the archive area (``ReservedNames/archiveDirectory``) by
    /// rename: O(1), never a copy (the Go original ran `cp -r`). The name is `archiveName`
    /// (see ``ArchiveNaming``), or `archiveName-1`, `-2`... if taken: archiving never
    /// overwrites or nests into an earlier archive.
    ///
    /// Guarantee: never archives a directory whose marker names another claim uid
    /// (`.ownedByAnotherClaim`), nor one with an unreadable marker (`.invalidMarker`).
    public func archiveVolume(
        relativePath path: RelativePath, archiveName: String, expectedClaimUID: String
    ) async throws(StorageError) -> ArchiveOutcome {
        try checkVolumePath(path, .archiveVolume)
        try RelativePath.validate(component: archiveName)
        let name = self.name
        let mode = configuration.reservedDirectoryMode
        return try await withPathLock(path) { () throws(StorageError) -> ArchiveOutcome in
            try await perform(.archiveVolume, path) { store throws(StorageError) -> ArchiveOutcome in
                guard try Self.checkOwnedVolume(store: store, path: path, claimUID: expectedClaimUID, member: name, .archiveVolume)
                else { return .alreadyGone }
                _ = try store.makeDirectory(ReservedNames.archiveDirectory, mode: mode, parentMode: mode)
                let attempts = 100
                for attempt in 0..<attempts {
                    let candidate = attempt == 0 ? archiveName : "\(archiveName)-\(attempt)"
                    let target = try ReservedNames.archiveDirectory.appending(candidate)
                    do throws(StorageError) {
                        try store.rename(path, to: target)
                        return .archived(target)
                    } catch {
                        guard case .alreadyExists = error else { throw error }
                    }
                }
                throw .archiveNameTaken(member: name, path: path.description, attempts: attempts)
            }
        }
    }

    /// Deletes the volume: checks ownership, renames the directory into
    /// ``ReservedNames/trashDirectory`` under the claim uid (so the path is free at once),
    /// then removes that tree in chunks of ``Configuration/removeChunkBudget``. A retry
    /// after a failure or a timeout finishes what an earlier attempt left in the trash.
    ///
    /// Guarantees: never removes a directory whose marker names a different claim uid
    /// (`.ownedByAnotherClaim`: a claim re-created while this PV was being deleted reused
    /// it) or whose marker is unreadable (`.invalidMarker`); never follows a symlink; never
    /// removes anything outside `path`; refuses the export root and the reserved area. A
    /// directory without marker (Go original, or a workload removed it) is deleted: the
    /// path comes from the PV, which is the record.
    public func deleteVolume(
        relativePath path: RelativePath, expectedClaimUID: String
    ) async throws(StorageError) -> DeleteOutcome {
        try checkVolumePath(path, .deleteVolume)
        let trash = try ReservedNames.trashDirectory.appending(expectedClaimUID)
        let deadline = now() + configuration.deleteBudget
        let name = self.name
        let mode = configuration.reservedDirectoryMode
        let leftover = try await emptyTrash(trash, deadline: deadline, volume: path)
        let moved = try await withPathLock(path) { () throws(StorageError) -> Bool in
            try await perform(.deleteVolume, path) { store throws(StorageError) -> Bool in
                guard try Self.checkOwnedVolume(store: store, path: path, claimUID: expectedClaimUID, member: name, .deleteVolume)
                else { return false }
                _ = try store.makeDirectory(ReservedNames.trashDirectory, mode: mode, parentMode: mode)
                try store.rename(path, to: trash)
                return true
            }
        }
        if moved {
            _ = try await emptyTrash(trash, deadline: deadline, volume: path)
        }
        return moved || leftover ? .deleted : .alreadyGone
    }

    // MARK: - Helpers

    /// Removes `trash` chunk by chunk; true when something was there.
    private func emptyTrash(
        _ trash: RelativePath, deadline: ContinuousClock.Instant, volume: RelativePath
    ) async throws(StorageError) -> Bool {
        let budget = configuration.removeChunkBudget
        var total = 0
        while true {
            let outcome = try await perform(.deleteVolume, trash) { store throws(StorageError) in
                try store.removeTree(trash, budget: budget)
            }
            switch outcome {
            case .didNotExist: return total > 0
            case .removed: return true
            case .incomplete(let removed):
                total += max(1, removed)
                if Task.isCancelled { throw .cancelled(member: name, operation: .deleteVolume) }
                if now() >= deadline {
                    throw .deleteIncomplete(member: name, path: volume.description, removedEntries: total)
                }
            }
        }
    }

    private func checkVolumePath(_ path: RelativePath, _ operation: StorageOperation) throws(StorageError) {
        if path.isRoot { throw .refusedExportRoot(member: name, operation: operation) }
        if ReservedNames.contains(path) {
            throw .reservedPath(member: name, operation: operation, path: path.description)
        }
    }

    static func markerPath(_ path: RelativePath) -> RelativePath {
        RelativePath(unchecked: path.components + [ReservedNames.markerFileName])
    }

    /// Reads and decodes the marker in the volume at `path`; `nil` when absent. A marker
    /// that is too large, not a regular file, or not valid is `.invalidMarker`.
    static func readMarker(store: any VolumeStore, path: RelativePath, member: String) throws(StorageError) -> OwnershipMarker? {
        let markerPath = markerPath(path)
        let bytes: [UInt8]
        do throws(StorageError) {
            guard let read = try store.readFile(markerPath, maxBytes: OwnershipMarker.maxBytes) else { return nil }
            bytes = read
        } catch {
            switch error {
            case .fileTooLarge:
                throw .invalidMarker(member: member, path: markerPath.description, problem: "larger than \(OwnershipMarker.maxBytes) bytes")
            case .unexpectedFileType(_, _, _, let found, _):
                throw .invalidMarker(member: member, path: markerPath.description, problem: "it is a \(found), not a regular file")
            default:
                throw error
            }
        }
        do throws(MarkerProblem) {
            return try OwnershipMarker.decode(bytes)
        } catch {
            throw .invalidMarker(member: member, path: markerPath.description, problem: error.description)
        }
    }

    /// Classifies an existing entry at a volume path for ``createVolume(relativePath:mode:marker:)``.
    static func classifyExisting(
        _ info: FileInfo?, store: any VolumeStore, path: RelativePath, marker: OwnershipMarker, member: String
    ) throws(StorageError) -> CreateOutcome {
        guard let info else {
            throw .notFound(member: member, operation: .createVolume, path: path.description)
        }
        guard info.kind == .directory else {
            throw .unexpectedFileType(
                member: member, operation: .createVolume, path: path.description, found: info.kind, expected: .directory)
        }
        guard let existing = try readMarker(store: store, path: path, member: member) else { return .existsWithoutMarker }
        return existing.claimUID == marker.claimUID ? .alreadyOurs(existing) : .existsWithMarker(existing)
    }

    /// For archive and delete: false when nothing is at `path`; throws unless it is a
    /// directory whose marker is absent or names `claimUID`.
    static func checkOwnedVolume(
        store: any VolumeStore, path: RelativePath, claimUID: String, member: String, _ operation: StorageOperation
    ) throws(StorageError) -> Bool {
        guard let info = try store.stat(path) else { return false }
        guard info.kind == .directory else {
            throw .unexpectedFileType(
                member: member, operation: operation, path: path.description, found: info.kind, expected: .directory)
        }
        if let marker = try readMarker(store: store, path: path, member: member), marker.claimUID != claimUID {
            throw .ownedByAnotherClaim(member: member, path: path.description, marker: marker, expectedClaimUID: claimUID)
        }
        return true
    }
}
