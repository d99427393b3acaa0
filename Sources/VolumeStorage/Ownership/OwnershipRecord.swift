// The provisioner's record of which claim owns a directory, kept outside every volume.
package import Foundation

/// The claim a record names: what ownership checks compare.
public struct ClaimIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    /// The claim's `metadata.uid`.
    public var uid: String

    package init(namespace: String, name: String, uid: String) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// True for the same namespace and claim name (a StatefulSet claim deleted and
    /// re-created has a new uid but the same name).
    package func isSameName(as other: ClaimIdentity) -> Bool {
        namespace == other.namespace && name == other.name
    }

    public var description: String { "\(namespace)/\(name) (uid \(uid))" }
}

/// The ownership record of one directory on one member: a small JSON file in the member's
/// reserved area, `<export>/.nfs-cluster-provisioner/volumes/<name>.json`
/// (``ReservedNames/volumesDirectory``, ``fileName(for:)``).
///
/// **Why outside the volume.** A tenant's pods can write anything inside their own
/// directory, so nothing found there can be trusted. The reserved area is writable only by
/// the provisioner (0755 directories, 0644 files) and no PV ever points at it, so a tenant
/// cannot reach it. Every decision that used to read a marker inside the volume (reuse,
/// adoption, delete, archive) reads this record instead, through the member's in-memory
/// ``OwnershipIndex``; the volume's own content never matters.
///
/// Records are written create-exclusive before the directory is made (a temporary file,
/// then a rename that never replaces), replaced atomically when their state changes, and
/// removed once the directory is gone. So after a crash at any point the record says what
/// may exist, never less.
///
/// Format (version 1), keys sorted, unknown keys ignored when reading:
/// ```json
/// {"claimName":"db","claimNamespace":"team-a","claimUID":"6f1c…","createdAt":"2026-05-01T10:00:00Z",
///  "kind":"volume","origin":"created","path":"team-a-db","provisioner":"example.com/nfs",
///  "state":"bound","updatedAt":"2026-05-01T10:00:01Z","version":1,"volumeName":"pvc-6f1c…"}
/// ```
public struct OwnershipRecord: Sendable, Hashable {
    /// The format this code writes; it reads this version and older.
    package static let currentVersion = 1
    /// Records are tiny; anything larger was not written by us.
    package static let maxBytes = 16 * 1024

    /// What the directory is.
    package enum Kind: String, Sendable, Hashable, Codable {
        /// A claim's volume.
        case volume
        /// A parent directory the provisioner made (or found) for nested volumes, e.g.
        /// `team-a/` of `team-a/db`: never handed out, never deleted as a volume.
        case parent
    }

    /// Where the volume is in its life.
    public enum State: String, Sendable, Hashable, Codable {
        /// The record is written, the directory may exist, the PV may not yet.
        case creating
        /// The PV exists.
        case bound
        /// The PV was released and the data retained (`onDelete: retain`).
        case released
        /// A delete or archive has started.
        case deleting
    }

    /// How the record came to be.
    package enum Origin: String, Sendable, Hashable, Codable {
        /// This provisioner created the directory.
        case created
        /// Written at start-up for a directory an earlier version of this provisioner made
        /// (its PV records it in annotations).
        case migrated
        /// Written at start-up for a directory the original Go provisioner made (its PV's
        /// `spec.nfs.path` names it).
        case legacy
    }

    public var version: Int
    /// The provisioner name (`PROVISIONER_NAME`) that wrote the record.
    package var provisioner: String
    /// The directory, relative to the export.
    public var path: RelativePath
    package var kind: Kind
    public var state: State
    /// The owning claim; `nil` for a parent.
    package var claim: ClaimIdentity?
    /// The PV name (`pvc-<claim uid>`); empty for a parent.
    package var volumeName: String
    package var createdAt: Date
    package var updatedAt: Date
    package var origin: Origin

    /// A record of a claim's volume.
    package init(provisioner: String, path: RelativePath, claim: ClaimIdentity, volumeName: String,
                state: State = .creating, origin: Origin = .created, at date: Date) {
        self.version = Self.currentVersion
        self.provisioner = provisioner
        self.path = path
        self.kind = .volume
        self.state = state
        self.claim = claim
        self.volumeName = volumeName
        self.createdAt = Self.wholeSeconds(date)
        self.updatedAt = self.createdAt
        self.origin = origin
    }

    /// A record of a parent directory.
    package init(provisioner: String, parent path: RelativePath, origin: Origin = .created, at date: Date) {
        self.version = Self.currentVersion
        self.provisioner = provisioner
        self.path = path
        self.kind = .parent
        self.state = .bound
        self.claim = nil
        self.volumeName = ""
        self.createdAt = Self.wholeSeconds(date)
        self.updatedAt = self.createdAt
        self.origin = origin
    }

    /// The owning claim's uid, or "" for a parent.
    public var claimUID: String { claim?.uid ?? "" }

    /// This record with another state (and `updatedAt`).
    package func with(state: State, at date: Date) -> OwnershipRecord {
        var copy = self
        copy.state = state
        copy.updatedAt = Self.wholeSeconds(date)
        return copy
    }

    /// This record handed to a re-created claim of the same name.
    package func reassigned(to claim: ClaimIdentity, volumeName: String, at date: Date) -> OwnershipRecord {
        var copy = self
        copy.claim = claim
        copy.volumeName = volumeName
        copy.state = .creating
        copy.updatedAt = Self.wholeSeconds(date)
        return copy
    }

    static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }

    // MARK: - File names

    /// The record's file name in ``ReservedNames/volumesDirectory``: the path with every
    /// byte outside `[A-Za-z0-9._-]` written as `%XX` and components joined by `+`, then
    /// `.json` (`team-a/db` → `team-a+db.json`). Readable with `ls`, and one flat directory
    /// however deep the volumes are. A name that would exceed 200 bytes becomes
    /// `~<hash of the path>.json`; the path inside the file is what counts, so a clash of
    /// two such names can only make a create refuse, never share a directory.
    package static func fileName(for path: RelativePath) -> String {
        var encoded = ""
        for (i, component) in path.components.enumerated() {
            if i > 0 { encoded += "+" }
            for byte in component.utf8 {
                if isSafe(byte) {
                    encoded.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
                }
            }
        }
        if encoded.utf8.count <= 200 { return encoded + fileSuffix }
        return "~" + String(fnv1a64(path.description.utf8), radix: 16).leftPadded(to: 16)
            + String(fnv1a64(path.description.utf8.reversed()), radix: 16).leftPadded(to: 16) + fileSuffix
    }

    /// The suffix of record files; other names in the directory (temporary files of an
    /// interrupted write) are not records.
    package static let fileSuffix = ".json"

    /// The path of the record file for `path`.
    public static func recordPath(for path: RelativePath) -> RelativePath {
        RelativePath(unchecked: ReservedNames.volumesDirectory.components + [fileName(for: path)])
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == 0x2E || byte == 0x5F || byte == 0x2D
    }

    private static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    // MARK: - Encoding

    /// The JSON bytes (sorted keys, trailing newline).
    package func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(Wire(self))) + [UInt8(ascii: "\n")]
        } catch {
            // Encoding strings, Ints and dates cannot fail; keep a record that reads as
            // invalid (so the path stays taken) rather than a trap.
            return Array("{\"version\":\(version),\"path\":\"?\"}\n".utf8)
        }
    }

    /// Decodes a record; every problem is a ``RecordProblem`` saying what is wrong, never
    /// a crash. Unknown keys are ignored (a newer minor writer may add some).
    public static func decode(_ bytes: [UInt8]) throws(RecordProblem) -> OwnershipRecord {
        if bytes.count > maxBytes { throw .tooLarge(bytes: bytes.count) }
        let decoder = JSONDecoder()
        let data = Data(bytes)
        let version: Int
        do {
            version = try decoder.decode(VersionOnly.self, from: data).version
        } catch {
            throw problem(from: error)
        }
        if version < 1 || version > currentVersion { throw .unsupportedVersion(version) }
        let wire: Wire
        do {
            wire = try decoder.decode(Wire.self, from: data)
        } catch {
            throw problem(from: error)
        }
        let path: RelativePath
        do throws(StorageError) {
            path = try RelativePath(wire.path)
        } catch {
            throw .invalidPath("\(error)")
        }
        if path.isRoot || ReservedNames.contains(path) { throw .invalidPath("'\(wire.path)' is not a volume path") }
        guard let createdAt = parseTime(wire.createdAt) else { throw .wrongType(field: "createdAt") }
        guard let updatedAt = parseTime(wire.updatedAt) else { throw .wrongType(field: "updatedAt") }
        var record: OwnershipRecord
        switch wire.kind {
        case .volume:
            for (key, value) in [("claimUID", wire.claimUID), ("claimNamespace", wire.claimNamespace),
                                 ("claimName", wire.claimName), ("volumeName", wire.volumeName)]
            where (value ?? "").isEmpty {
                throw .emptyField(key)
            }
            record = OwnershipRecord(
                provisioner: wire.provisioner, path: path,
                claim: ClaimIdentity(namespace: wire.claimNamespace ?? "", name: wire.claimName ?? "", uid: wire.claimUID ?? ""),
                volumeName: wire.volumeName ?? "", state: wire.state, origin: wire.origin, at: createdAt)
        case .parent:
            record = OwnershipRecord(provisioner: wire.provisioner, parent: path, origin: wire.origin, at: createdAt)
            record.state = wire.state
        }
        record.version = version
        record.updatedAt = updatedAt
        return record
    }

    private static func parseTime(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }

    /// The JSON shape: flat, claim fields absent for a parent.
    private struct Wire: Codable {
        var version: Int
        var provisioner: String
        var path: String
        var kind: Kind
        var state: State
        var claimNamespace: String?
        var claimName: String?
        var claimUID: String?
        var volumeName: String?
        var createdAt: String
        var updatedAt: String
        var origin: Origin

        init(_ r: OwnershipRecord) {
            version = r.version
            provisioner = r.provisioner
            path = r.path.description
            kind = r.kind
            state = r.state
            claimNamespace = r.claim?.namespace
            claimName = r.claim?.name
            claimUID = r.claim?.uid
            volumeName = r.kind == .volume ? r.volumeName : nil
            createdAt = r.createdAt.formatted(.iso8601)
            updatedAt = r.updatedAt.formatted(.iso8601)
            origin = r.origin
        }
    }

    private struct VersionOnly: Decodable {
        var version: Int
    }

    private static func problem(from error: any Error) -> RecordProblem {
        guard let decoding = error as? DecodingError else {
            return .notJSON(String(describing: error))
        }
        switch decoding {
        case .keyNotFound(let key, _):
            return .missingField(key.stringValue)
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return .wrongType(field: context.codingPath.map(\.stringValue).joined(separator: "."))
        case .dataCorrupted(let context):
            if let field = context.codingPath.last?.stringValue {
                return .wrongType(field: field)
            }
            return .notJSON(context.debugDescription)
        @unknown default:
            return .notJSON(String(describing: decoding))
        }
    }
}

/// Why a record file cannot be read as an ``OwnershipRecord``.
public enum RecordProblem: Error, Sendable, Hashable, CustomStringConvertible {
    case tooLarge(bytes: Int)
    case notJSON(String)
    case missingField(String)
    case wrongType(field: String)
    case emptyField(String)
    case invalidPath(String)
    case unsupportedVersion(Int)

    public var description: String {
        switch self {
        case .tooLarge(let bytes): "the record is \(bytes) bytes (limit \(OwnershipRecord.maxBytes))"
        case .notJSON(let detail): "not a JSON object: \(detail)"
        case .missingField(let key): "required field '\(key)' is missing"
        case .wrongType(let field): "field '\(field)' has the wrong type or format"
        case .emptyField(let key): "required field '\(key)' is empty"
        case .invalidPath(let problem): "field 'path': \(problem)"
        case .unsupportedVersion(let v):
            "format version \(v) is not supported (this provisioner reads 1...\(OwnershipRecord.currentVersion))"
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
