// Volume directories on one member: create, adopt, archive, delete, guarded by their records.
package import Foundation

extension MemberStorage {
    /// Result of ``createVolume(relativePath:mode:claim:volumeName:provisioner:at:)``.
    package enum CreateOutcome: Sendable, Hashable {
        /// The record was written and the directory created with the mode.
        case created(OwnershipRecord)
        /// The record already names this claim uid (a retry, or a crash between the record
        /// and the PV); the directory is there (made again if it was missing).
        case alreadyOurs(OwnershipRecord)
    }

    /// Result of ``archiveVolume(relativePath:archiveName:expectedClaimUID:)``.
    package enum ArchiveOutcome: Sendable, Hashable {
        /// Renamed to this path in the archive area.
        case archived(RelativePath)
        /// Nothing at the path (an earlier attempt finished, or it never existed).
        case alreadyGone
    }

    /// Result of ``deleteVolume(relativePath:expectedClaimUID:)``.
    package enum DeleteOutcome: Sendable, Hashable {
        case deleted
        /// Nothing at the path and nothing left in the trash.
        case alreadyGone
    }

    /// Makes a new volume at `path` for `claim`: its ownership record first (written
    /// create-exclusive, state ``OwnershipRecord/State/creating``), records of the parents
    /// a nested path needs (``OwnershipRecord/Kind/parent``), then the directory with
    /// exactly `mode` (missing parents with ``Configuration/parentDirectoryMode``). Four
    /// blocking calls on this member for a flat path (stat, the record written and renamed
    /// into place, mkdir with its mode);
    /// nothing on any other member.
    ///
    /// Refuses, without touching anything:
    /// - a path another record holds (`.pathTaken`), also when the index was stale and
    ///   only the record file says so (the index learns it);
    /// - a path inside another volume, or one that contains volumes (`.overlapsVolume`);
    /// - a directory already there that no record names (`.unrecordedDirectory`): it is
    ///   never adopted, whatever is inside it;
    /// - the export root and the reserved area (`.refusedExportRoot`, `.reservedPath`).
    package func createVolume(
        relativePath path: RelativePath, mode: FileMode, claim: ClaimIdentity, volumeName: String,
        provisioner: String, at date: Date
    ) async throws(StorageError) -> CreateOutcome {
        try checkVolumePath(path, .createVolume)
        try checkNoConflict(path, for: claim.uid, .createVolume)
        let name = self.name
        let parentMode = configuration.parentDirectoryMode
        let directoryMode = configuration.reservedDirectoryMode
        var ancestors: [RelativePath] = []
        var ancestor = path.parent
        while let a = ancestor, !a.isRoot {
            if records.record(at: a) == nil { ancestors.insert(a, at: 0) }
            ancestor = a.parent
        }
        let parents = ancestors.map { OwnershipRecord(provisioner: provisioner, parent: $0, at: date) }
        let wanted = OwnershipRecord(provisioner: provisioner, path: path, claim: claim, volumeName: volumeName, at: date)
        let index = records
        return try await withPathLock(path) { () throws(StorageError) -> CreateOutcome in
            let (outcome, parentRecords) = try await perform(.createVolume, path) { store throws(StorageError) -> (CreateOutcome, [OwnershipRecord]) in
                // What is there already: a directory must carry a record of this claim.
                if let info = try store.stat(path) {
                    guard info.kind == .directory else {
                        throw .unexpectedFileType(member: name, operation: .createVolume, path: path.description, found: info.kind, expected: .directory)
                    }
                    guard let existing = try Self.readRecord(store: store, path: path, member: name) else {
                        throw .unrecordedDirectory(member: name, path: path.description, operation: .createVolume)
                    }
                    return (.alreadyOurs(try Self.requireOwnVolume(existing, claimUID: claim.uid, member: name)), [])
                }
                var written: [OwnershipRecord] = []
                for parent in parents {
                    if try Self.createRecord(store: store, parent, directoryMode: directoryMode) {
                        written.append(parent)
                    } else if let existing = try Self.readRecord(store: store, path: parent.path, member: name) {
                        written.append(existing)
                        if existing.kind == .volume {
                            throw .overlapsVolume(member: name, path: path.description, other: existing.path.description, inside: true)
                        }
                    }
                }
                let record: OwnershipRecord
                let fresh = try Self.createRecord(store: store, wanted, directoryMode: directoryMode)
                if fresh {
                    record = wanted
                } else {
                    guard let existing = try Self.readRecord(store: store, path: path, member: name) else {
                        throw .recordChanged(member: name, path: path.description, found: "removed while being read")
                    }
                    record = try Self.requireOwnVolume(existing, claimUID: claim.uid, member: name)
                }
                // The record is written: whatever appeared at the path since the check above
                // (a timed-out attempt of ours finishing late) is this claim's.
                let made = try store.makeDirectory(path, mode: mode, parentMode: parentMode)
                return (fresh && made == .created ? .created(record) : .alreadyOurs(record), written)
            }
            for parent in parentRecords { index.put(parent) }
            switch outcome {
            case .created(let r), .alreadyOurs(let r): index.put(r)
            }
            return outcome
        }
    }

    /// Hands the volume at `path` from the claim `previousUID` (deleted) to `claim`, a
    /// re-created claim of the same namespace and name: the record is rewritten (state
    /// ``OwnershipRecord/State/creating``) if it still names `previousUID`. Idempotent: a
    /// record that already names `claim` is success. A missing directory is made again.
    ///
    /// - Throws: `.recordChanged` when the record names someone else now;
    ///   `.unrecordedDirectory` when there is no record (never adopted).
    @discardableResult
    package func adoptVolume(
        relativePath path: RelativePath, claim: ClaimIdentity, volumeName: String, replacingClaimUID previousUID: String,
        mode: FileMode, at date: Date
    ) async throws(StorageError) -> OwnershipRecord {
        try checkVolumePath(path, .adoptVolume)
        try checkNoOverlap(path, .adoptVolume)
        let name = self.name
        let parentMode = configuration.parentDirectoryMode
        let index = records
        return try await withPathLock(path) { () throws(StorageError) -> OwnershipRecord in
            let record = try await perform(.adoptVolume, path) { store throws(StorageError) -> OwnershipRecord in
                guard let current = try Self.readRecord(store: store, path: path, member: name) else {
                    throw .unrecordedDirectory(member: name, path: path.description, operation: .adoptVolume)
                }
                guard current.kind == .volume, let owner = current.claim, owner.isSameName(as: claim) else {
                    throw .pathTaken(member: name, path: path.description, holder: Self.holder(current))
                }
                let next: OwnershipRecord
                if owner.uid == claim.uid {
                    next = current
                } else {
                    guard owner.uid == previousUID else {
                        throw .recordChanged(member: name, path: path.description, found: Self.holder(current))
                    }
                    next = current.reassigned(to: claim, volumeName: volumeName, at: date)
                    try Self.replaceRecord(store: store, next)
                }
                _ = try store.makeDirectory(path, mode: mode, parentMode: parentMode)
                return next
            }
            index.put(record)
            return record
        }
    }

    /// Sets the record's state (``OwnershipRecord/State/bound`` once the PV is saved,
    /// ``OwnershipRecord/State/released`` when its data is retained), if it names
    /// `claimUID`; one blocking call, none when the state is already that.
    package func setRecordState(
        relativePath path: RelativePath, claimUID: String, _ state: OwnershipRecord.State, at date: Date
    ) async throws(StorageError) {
        let name = self.name
        let index = records
        try await withPathLock(path) { () throws(StorageError) in
            guard let current = index.record(at: path) else {
                throw .unrecordedDirectory(member: name, path: path.description, operation: .writeRecord)
            }
            guard current.claimUID == claimUID else {
                throw .ownedByAnotherClaim(member: name, path: path.description,
                                           owner: current.claim ?? ClaimIdentity(namespace: "", name: "", uid: ""), expectedClaimUID: claimUID)
            }
            if current.state == state { return }
            let next = current.with(state: state, at: date)
            try await perform(.writeRecord, path) { store throws(StorageError) in
                try Self.replaceRecord(store: store, next)
            }
            index.put(next)
        }
    }

    /// Writes `record` for a directory that exists and has none: migration of volumes
    /// made before records existed. `false` when a record is already there (it wins) or
    /// the directory is missing (nothing to record).
    package func importRecord(_ record: OwnershipRecord) async throws(StorageError) -> Bool {
        try checkVolumePath(record.path, .writeRecord)
        let name = self.name
        let directoryMode = configuration.reservedDirectoryMode
        let index = records
        let path = record.path
        return try await withPathLock(path) { () throws(StorageError) -> Bool in
            let result = try await perform(.writeRecord, path) { store throws(StorageError) -> OwnershipRecord? in
                if let existing = try Self.readRecord(store: store, path: path, member: name) { return existing }
                guard let info = try store.stat(path), info.kind == .directory else { return nil }
                return try Self.createRecord(store: store, record, directoryMode: directoryMode)
                    ? record : try Self.readRecord(store: store, path: path, member: name)
            }
            guard let result else { return false }
            index.put(result)
            return result == record
        }
    }

    /// What ``removeOrphan(relativePath:claimUID:)`` did.
    package enum OrphanOutcome: Sendable, Hashable {
        /// The directory (empty or missing) and its record are gone.
        case removed
        /// The directory holds something: reported, never removed.
        case keptNotEmpty
        /// The record changed meanwhile (another state or claim): nothing done.
        case changed
    }

    /// Removes a volume whose record stayed `creating` for a claim that no longer exists
    /// and got no PV (the provisioner was killed between the record and the PV, and the
    /// claim was deleted meanwhile) — only if its directory is empty or missing. A
    /// directory holding anything is kept (``OrphanOutcome/keptNotEmpty``), its record too.
    package func removeOrphan(relativePath path: RelativePath, claimUID: String) async throws(StorageError) -> OrphanOutcome {
        try checkVolumePath(path, .deleteVolume)
        let name = self.name
        let index = records
        return try await withPathLock(path) { () throws(StorageError) -> OrphanOutcome in
            let outcome = try await perform(.deleteVolume, path) { store throws(StorageError) -> OrphanOutcome in
                guard let record = try Self.readRecord(store: store, path: path, member: name),
                      record.kind == .volume, record.state == .creating, record.claimUID == claimUID else { return .changed }
                // One entry is enough to know it is not empty (more is `tooManyEntries`).
                do throws(StorageError) {
                    if let entries = try store.listDirectory(path, maxEntries: 1), !entries.isEmpty { return .keptNotEmpty }
                } catch {
                    if case .tooManyEntries = error { return .keptNotEmpty }
                    throw error
                }
                _ = try store.removeTree(path, budget: nil)
                try Self.removeRecord(store: store, path: path)
                return .removed
            }
            if outcome == .removed { index.remove(path) }
            return outcome
        }
    }

    /// The record of `path`, read from the export now (not the index).
    package func readRecord(relativePath path: RelativePath) async throws(StorageError) -> OwnershipRecord? {
        let name = self.name
        return try await perform(.readRecord, path) { store throws(StorageError) in
            try Self.readRecord(store: store, path: path, member: name)
        }
    }

    /// Moves the volume into the archive area (``ReservedNames/archiveDirectory``) by
    /// rename: O(1), never a copy (the Go original ran `cp -r`). The name is `archiveName`
    /// (see ``ArchiveNaming``), or `archiveName-1`, `-2`... if taken: archiving never
    /// overwrites or nests into an earlier archive.
    ///
    /// Guarantees: archives only a directory whose ownership record names
    /// `expectedClaimUID` (another uid: `.ownedByAnotherClaim`; no record:
    /// `.unrecordedDirectory`, data kept; an unreadable record: `.invalidRecord`); never one
    /// that contains other volumes (`.overlapsVolume`). The record is removed once the
    /// directory is in the archive.
    package func archiveVolume(
        relativePath path: RelativePath, archiveName: String, expectedClaimUID: String
    ) async throws(StorageError) -> ArchiveOutcome {
        try checkVolumePath(path, .archiveVolume)
        try checkNoOverlap(path, .archiveVolume)
        try RelativePath.validate(component: archiveName)
        let name = self.name
        let mode = configuration.reservedDirectoryMode
        let index = records
        let stamp = wallClock()
        return try await withPathLock(path) { () throws(StorageError) -> ArchiveOutcome in
            let outcome = try await perform(.archiveVolume, path) { store throws(StorageError) -> ArchiveOutcome in
                guard try Self.startReclaim(store: store, path: path, claimUID: expectedClaimUID, member: name, .archiveVolume, at: stamp)
                else { return .alreadyGone }
                _ = try store.makeDirectory(ReservedNames.archiveDirectory, mode: mode, parentMode: mode)
                let attempts = 100
                for attempt in 0..<attempts {
                    let candidate = attempt == 0 ? archiveName : "\(archiveName)-\(attempt)"
                    let target = try ReservedNames.archiveDirectory.appending(candidate)
                    do throws(StorageError) {
                        try store.rename(path, to: target)
                        try Self.removeRecord(store: store, path: path)
                        return .archived(target)
                    } catch {
                        guard case .alreadyExists = error else { throw error }
                    }
                }
                throw .archiveNameTaken(member: name, path: path.description, attempts: attempts)
            }
            index.remove(path)
            return outcome
        }
    }

    /// Deletes the volume: checks ownership, renames the directory into
    /// ``ReservedNames/trashDirectory`` under the claim uid (so the path is free at once),
    /// then removes that tree in chunks of ``Configuration/removeChunkBudget``. A retry
    /// after a failure or a timeout finishes what an earlier attempt left in the trash.
    ///
    /// Guarantees: removes only a directory whose ownership record names
    /// `expectedClaimUID` (another uid: `.ownedByAnotherClaim`, a claim re-created while
    /// this PV was being deleted reused it; no record: `.unrecordedDirectory`, the data is
    /// kept; an unreadable record: `.invalidRecord`); never one that contains other volumes;
    /// never follows a symlink; never removes anything outside `path`; refuses the export
    /// root and the reserved area. Nothing inside the volume is read to decide.
    package func deleteVolume(
        relativePath path: RelativePath, expectedClaimUID: String
    ) async throws(StorageError) -> DeleteOutcome {
        try checkVolumePath(path, .deleteVolume)
        try checkNoOverlap(path, .deleteVolume)
        let trash = try ReservedNames.trashDirectory.appending(expectedClaimUID)
        let index = records
        let deadline = now() + configuration.deleteBudget
        let stamp = wallClock()
        let name = self.name
        let mode = configuration.reservedDirectoryMode
        let leftover = try await emptyTrash(trash, deadline: deadline, volume: path)
        let moved = try await withPathLock(path) { () throws(StorageError) -> Bool in
            try await perform(.deleteVolume, path) { store throws(StorageError) -> Bool in
                guard try Self.startReclaim(store: store, path: path, claimUID: expectedClaimUID, member: name, .deleteVolume, at: stamp)
                else { return false }
                _ = try store.makeDirectory(ReservedNames.trashDirectory, mode: mode, parentMode: mode)
                try store.rename(path, to: trash)
                try Self.removeRecord(store: store, path: path)
                return true
            }
        }
        index.remove(path)
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

    /// Refuses what the index knows to be in the way of a new volume at `path` for `uid`.
    private func checkNoConflict(_ path: RelativePath, for uid: String, _ operation: StorageOperation) throws(StorageError) {
        switch records.conflict(at: path, forClaimUID: uid) {
        case nil: return
        case .held(let r): throw .pathTaken(member: name, path: path.description, holder: Self.holder(r))
        case .insideVolume(let r): throw .overlapsVolume(member: name, path: path.description, other: r.path.description, inside: true)
        case .containsVolumes(let n): throw .overlapsVolume(member: name, path: path.description, other: "\(n) other volume(s)", inside: false)
        case .unrecordedDirectory: throw .unrecordedDirectory(member: name, path: path.description, operation: operation)
        }
    }

    /// Refuses to act on a directory that lies inside a volume or holds volumes.
    private func checkNoOverlap(_ path: RelativePath, _ operation: StorageOperation) throws(StorageError) {
        switch records.conflict(at: path) {
        case .insideVolume(let r): throw .overlapsVolume(member: name, path: path.description, other: r.path.description, inside: true)
        case .containsVolumes(let n): throw .overlapsVolume(member: name, path: path.description, other: "\(n) other volume(s)", inside: false)
        case nil, .held, .unrecordedDirectory: return
        }
    }

    /// `record` if it is the volume of the claim `claimUID`; otherwise the path is taken.
    static func requireOwnVolume(_ record: OwnershipRecord, claimUID: String, member: String) throws(StorageError) -> OwnershipRecord {
        guard record.kind == .volume, record.claimUID == claimUID else {
            throw .pathTaken(member: member, path: record.path.description, holder: holder(record))
        }
        return record
    }

    /// Who holds a path, for messages.
    static func holder(_ record: OwnershipRecord) -> String {
        switch record.kind {
        case .parent: return "a parent directory of other volumes"
        case .volume: return "claim \(record.claim.map { "\($0)" } ?? "?")"
        }
    }

    /// For archive and delete: reads the record and checks it names `claimUID`, then marks
    /// it ``OwnershipRecord/State/deleting``. False when there is nothing to reclaim (no
    /// record and no directory; or a record whose directory is gone, which is removed).
    static func startReclaim(
        store: any VolumeStore, path: RelativePath, claimUID: String, member: String, _ operation: StorageOperation, at date: Date
    ) throws(StorageError) -> Bool {
        guard let record = try readRecord(store: store, path: path, member: member) else {
            guard let info = try store.stat(path) else { return false }
            guard info.kind == .directory else {
                throw .unexpectedFileType(member: member, operation: operation, path: path.description, found: info.kind, expected: .directory)
            }
            throw .unrecordedDirectory(member: member, path: path.description, operation: operation)
        }
        guard record.kind == .volume, let owner = record.claim else {
            throw .overlapsVolume(member: member, path: path.description, other: "other volumes (it is recorded as their parent)", inside: false)
        }
        guard owner.uid == claimUID else {
            throw .ownedByAnotherClaim(member: member, path: path.description, owner: owner, expectedClaimUID: claimUID)
        }
        guard let info = try store.stat(path) else {
            try removeRecord(store: store, path: path)
            return false
        }
        guard info.kind == .directory else {
            throw .unexpectedFileType(member: member, operation: operation, path: path.description, found: info.kind, expected: .directory)
        }
        if record.state != .deleting {
            // Best effort: a full export must still be able to free space.
            do throws(StorageError) {
                try replaceRecord(store: store, record.with(state: .deleting, at: date))
            } catch {
                if !error.isOutOfSpace { throw error }
            }
        }
        return true
    }
}
