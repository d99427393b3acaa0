// Ownership records on one member: the blocking reads and writes, and the index load.
import Foundation

extension MemberStorage {
    /// At most this many record files on one member; more is refused with an error naming
    /// the directory (every input is bounded). 1,000,000 records are about 400 MB of index.
    package static let maxRecords = 1_000_000
    /// Record files read per blocking call while loading, so that a large member never
    /// looks like a hung one.
    static let recordsPerLoadCall = 256

    /// Lists the member's records into ``records`` (the in-memory index): one listing, then
    /// the files in batches. Writes made meanwhile are kept (``OwnershipIndex/finishLoad(_:)``).
    /// A file that cannot be read as a record is reported and its path kept as taken, so a
    /// damaged record can never free a directory for another claim.
    ///
    /// - Returns: the problems found (invalid files), for the caller to log.
    @discardableResult
    package func loadRecords() async throws(StorageError) -> [StorageError] {
        let mode = configuration.reservedDirectoryMode
        records.beginLoad()
        do throws(StorageError) {
            let names = try await perform(.loadRecords, ReservedNames.volumesDirectory) { store throws(StorageError) -> [String] in
                _ = try store.makeDirectory(ReservedNames.volumesDirectory, mode: mode, parentMode: mode)
                return try store.listDirectory(ReservedNames.volumesDirectory, maxEntries: Self.maxRecords) ?? []
            }
            let files = names.filter { $0.hasSuffix(OwnershipRecord.fileSuffix) }.sorted()
            var loaded: [OwnershipRecord] = []
            var problems: [StorageError] = []
            var start = 0
            let name = self.name
            while start < files.count {
                let batch = Array(files[start..<min(files.count, start + Self.recordsPerLoadCall)])
                start += batch.count
                let results = try await perform(.loadRecords, ReservedNames.volumesDirectory) { store throws(StorageError) -> [Result<OwnershipRecord, StorageError>] in
                    batch.map { file in
                        let path = RelativePath(unchecked: ReservedNames.volumesDirectory.components + [file])
                        do throws(StorageError) {
                            guard let record = try Self.readRecordFile(store: store, file: path, member: name) else {
                                throw .notFound(member: name, operation: .loadRecords, path: path.description)
                            }
                            guard OwnershipRecord.fileName(for: record.path) == file else {
                                throw .invalidRecord(member: name, path: path.description,
                                                     problem: "it names '\(record.path)', whose record file is \(OwnershipRecord.fileName(for: record.path))")
                            }
                            return .success(record)
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                for result in results {
                    switch result {
                    case .success(let record): loaded.append(record)
                    case .failure(.notFound): continue  // removed since the listing
                    case .failure(let error): problems.append(error)
                    }
                }
            }
            records.finishLoad(loaded)
            for problem in problems { logger.error("ownership record unusable; its directory is left alone", metadata: ["error": "\(problem)"]) }
            return problems
        } catch {
            records.abandonLoad(error)
            throw error
        }
    }

    // MARK: - Blocking helpers (run inside `perform`)

    /// Reads the record of `path`; `nil` when there is none. An unreadable one throws
    /// ``StorageError/invalidRecord(member:path:problem:)``.
    static func readRecord(store: any VolumeStore, path: RelativePath, member: String) throws(StorageError) -> OwnershipRecord? {
        guard let record = try readRecordFile(store: store, file: OwnershipRecord.recordPath(for: path), member: member) else { return nil }
        guard record.path == path else {
            // Two long paths whose hashed file names clash: the path stays the other's.
            throw .pathTaken(member: member, path: path.description, holder: "the record of '\(record.path)' (same record file name)")
        }
        return record
    }

    /// Reads and decodes one record file; `nil` when it does not exist. A file too large,
    /// not a regular file, or not a valid record is ``StorageError/invalidRecord(member:path:problem:)``.
    static func readRecordFile(store: any VolumeStore, file: RelativePath, member: String) throws(StorageError) -> OwnershipRecord? {
        let bytes: [UInt8]
        do throws(StorageError) {
            guard let read = try store.readFile(file, maxBytes: OwnershipRecord.maxBytes) else { return nil }
            bytes = read
        } catch {
            switch error {
            case .fileTooLarge:
                throw .invalidRecord(member: member, path: file.description, problem: "larger than \(OwnershipRecord.maxBytes) bytes")
            case .unexpectedFileType(_, _, _, let found, _):
                throw .invalidRecord(member: member, path: file.description, problem: "it is a \(found), not a regular file")
            default:
                throw error
            }
        }
        do throws(RecordProblem) {
            return try OwnershipRecord.decode(bytes)
        } catch {
            throw .invalidRecord(member: member, path: file.description, problem: error.description)
        }
    }

    /// Writes a new record, never replacing one: a temporary file, then a rename that
    /// refuses an existing name. `false` when a record file is already there.
    static func createRecord(store: any VolumeStore, _ record: OwnershipRecord, directoryMode: FileMode) throws(StorageError) -> Bool {
        let file = OwnershipRecord.recordPath(for: record.path)
        let temporary = RelativePath(unchecked: ReservedNames.volumesDirectory.components
            + [OwnershipRecord.fileName(for: record.path) + ".new-" + UUID().uuidString.prefix(8).lowercased()])
        do throws(StorageError) {
            try store.writeFile(temporary, contents: record.encoded(), mode: .record)
        } catch {
            guard case .notFound = error else { throw error }
            _ = try store.makeDirectory(ReservedNames.volumesDirectory, mode: directoryMode, parentMode: directoryMode)
            try store.writeFile(temporary, contents: record.encoded(), mode: .record)
        }
        do throws(StorageError) {
            try store.rename(temporary, to: file)
            return true
        } catch {
            _ = try? store.removeTree(temporary, budget: nil)
            if case .alreadyExists = error { return false }
            throw error
        }
    }

    /// Replaces an existing record atomically (temporary file and rename).
    static func replaceRecord(store: any VolumeStore, _ record: OwnershipRecord) throws(StorageError) {
        try store.writeFile(OwnershipRecord.recordPath(for: record.path), contents: record.encoded(), mode: .record)
    }

    /// Removes the record of `path` (absent is fine).
    static func removeRecord(store: any VolumeStore, path: RelativePath) throws(StorageError) {
        _ = try store.removeTree(OwnershipRecord.recordPath(for: path), budget: nil)
    }

    /// Compares the export's identity file with `expected`, writing it when absent and
    /// updating a changed address. Returns a note for the log when it changed something.
    static func checkIdentity(store: any VolumeStore, expected: MemberIdentity, directoryMode: FileMode) throws(StorageError) -> String? {
        let bytes: [UInt8]?
        do throws(StorageError) {
            bytes = try store.readFile(ReservedNames.identityFile, maxBytes: MemberIdentity.maxBytes)
        } catch {
            switch error {
            case .fileTooLarge, .unexpectedFileType:
                throw .identityMismatch(member: expected.name, expected: "\(expected)", found: "an unreadable file (\(error))")
            default:
                throw error
            }
        }
        guard let bytes else {
            _ = try store.makeDirectory(ReservedNames.directory, mode: directoryMode, parentMode: directoryMode)
            try store.writeFile(ReservedNames.identityFile, contents: expected.encoded(), mode: .record)
            return "wrote the export's identity file"
        }
        guard let found = MemberIdentity.decode(bytes) else {
            throw .identityMismatch(member: expected.name, expected: "\(expected)", found: "an unreadable file")
        }
        guard found.isSameMember(as: expected) else {
            throw .identityMismatch(member: expected.name, expected: "\(expected)", found: "\(found)")
        }
        if found.address != expected.address {
            try store.writeFile(ReservedNames.identityFile, contents: expected.encoded(), mode: .record)
            return "the member's address changed from \(found.address) to \(expected.address); identity file updated"
        }
        return nil
    }
}
