// The file inside each volume directory that says which claim owns it.
public import Foundation

/// The ownership marker: a small JSON file (``ReservedNames/markerFileName``) inside each
/// volume directory, naming the claim and the PV that use the directory.
///
/// It is what makes name-based reuse safe (the Go original shared directories between
/// colliding names and reused them whatever the uid: bugs 3-4 in
/// docs/original-provisioner.md):
/// - provisioning reuses an existing directory only for the same claim (same uid:
///   ``MemberStorage/CreateOutcome/alreadyOurs``) or, on purpose, for a re-created claim with
///   the same namespace and name (``isSameClaimName(as:)``); a directory whose marker names
///   another namespace/name (`team-a`/`db` vs `team`/`a-db`) is never shared;
/// - deleting or archiving an old PV's directory is refused when the marker names another
///   claim uid: a claim re-created meanwhile has taken the directory over.
///
/// The file lives inside the volume, so a workload can rewrite or remove it. That can only
/// hurt the workload's own volume (its deletion is refused, or proceeds without the check):
/// the path to delete always comes from the PV, never from the marker.
///
/// Format (version 1), keys sorted, unknown keys ignored when reading:
/// ```json
/// {"claimName":"db","claimNamespace":"team-a","claimUID":"6f1c…","createdAt":"2026-05-01T10:00:00Z",
///  "provisioner":"example.com/nfs","version":1,"volumeName":"pvc-6f1c…"}
/// ```
public struct OwnershipMarker: Sendable, Hashable, Codable {
    /// The format this code writes; it reads this version and older.
    public static let currentVersion = 1
    /// Markers are tiny; anything larger was not written by us.
    public static let maxBytes = 64 * 1024

    /// Format version.
    public var version: Int
    /// The provisioner name (`PROVISIONER_NAME`) that created the directory.
    public var provisioner: String
    public var claimNamespace: String
    public var claimName: String
    /// The claim's `metadata.uid`: the identity that ownership checks compare.
    public var claimUID: String
    /// The PersistentVolume name (`pvc-<claim uid>`).
    public var volumeName: String
    /// When the marker was written (whole seconds, UTC).
    public var createdAt: Date

    /// Creates a version-``currentVersion`` marker; `createdAt` is cut to whole seconds so
    /// that it survives the JSON round trip unchanged.
    public init(
        provisioner: String, claimNamespace: String, claimName: String, claimUID: String,
        volumeName: String, createdAt: Date
    ) {
        self.version = Self.currentVersion
        self.provisioner = provisioner
        self.claimNamespace = claimNamespace
        self.claimName = claimName
        self.claimUID = claimUID
        self.volumeName = volumeName
        self.createdAt = Date(timeIntervalSince1970: createdAt.timeIntervalSince1970.rounded(.down))
    }

    /// True when both markers name the same namespace and claim name (a StatefulSet claim
    /// deleted and re-created has a new uid but the same name).
    public func isSameClaimName(as other: OwnershipMarker) -> Bool {
        claimNamespace == other.claimNamespace && claimName == other.claimName
    }

    /// The marker with another claim uid and PV name: what a re-created claim writes when it
    /// takes over its predecessor's directory.
    public func reassigned(claimUID: String, volumeName: String, at date: Date) -> OwnershipMarker {
        OwnershipMarker(
            provisioner: provisioner, claimNamespace: claimNamespace, claimName: claimName,
            claimUID: claimUID, volumeName: volumeName, createdAt: date)
    }

    /// The JSON bytes (sorted keys, trailing newline).
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
        } catch {
            // Encoding strings, an Int and a Date cannot fail; keep a readable fallback
            // rather than a trap.
            return Array("{\"version\":\(version),\"claimUID\":\"\(claimUID)\"}\n".utf8)
        }
    }

    /// Decodes a marker; every problem is a ``MarkerProblem`` that says what is wrong,
    /// never a crash. Unknown keys are ignored (a newer minor writer may add some).
    public static func decode(_ bytes: [UInt8]) throws(MarkerProblem) -> OwnershipMarker {
        if bytes.count > maxBytes {
            throw .tooLarge(bytes: bytes.count)
        }
        let decoder = JSONDecoder()
        let data = Data(bytes)
        let version: Int
        do {
            version = try decoder.decode(VersionOnly.self, from: data).version
        } catch {
            throw Self.problem(from: error)
        }
        if version < 1 || version > currentVersion {
            throw .unsupportedVersion(version)
        }
        let marker: OwnershipMarker
        do {
            marker = try decoder.decode(OwnershipMarker.self, from: data)
        } catch {
            throw Self.problem(from: error)
        }
        for (key, value) in [("claimUID", marker.claimUID), ("claimNamespace", marker.claimNamespace),
                             ("claimName", marker.claimName), ("volumeName", marker.volumeName)]
        where value.isEmpty {
            throw .emptyField(key)
        }
        return marker
    }

    private enum CodingKeys: String, CodingKey {
        case version, provisioner, claimNamespace, claimName, claimUID, volumeName, createdAt
    }

    /// Decodes every field; `createdAt` is an RFC 3339 UTC time (`2026-05-01T10:00:00Z`),
    /// and a malformed one is reported as that field's problem.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        provisioner = try container.decode(String.self, forKey: .provisioner)
        claimNamespace = try container.decode(String.self, forKey: .claimNamespace)
        claimName = try container.decode(String.self, forKey: .claimName)
        claimUID = try container.decode(String.self, forKey: .claimUID)
        volumeName = try container.decode(String.self, forKey: .volumeName)
        let text = try container.decode(String.self, forKey: .createdAt)
        do {
            createdAt = try Date(text, strategy: .iso8601)
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: .createdAt, in: container, debugDescription: "'\(text)' is not an RFC 3339 UTC time")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(provisioner, forKey: .provisioner)
        try container.encode(claimNamespace, forKey: .claimNamespace)
        try container.encode(claimName, forKey: .claimName)
        try container.encode(claimUID, forKey: .claimUID)
        try container.encode(volumeName, forKey: .volumeName)
        try container.encode(createdAt.formatted(.iso8601), forKey: .createdAt)
    }

    private struct VersionOnly: Decodable {
        var version: Int
    }

    private static func problem(from error: any Error) -> MarkerProblem {
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

/// Why a marker file cannot be read as an ``OwnershipMarker``.
public enum MarkerProblem: Error, Sendable, Hashable, CustomStringConvertible {
    case tooLarge(bytes: Int)
    case notJSON(String)
    case missingField(String)
    case wrongType(field: String)
    case emptyField(String)
    case unsupportedVersion(Int)

    public var description: String {
        switch self {
        case .tooLarge(let bytes): "the marker is \(bytes) bytes (limit \(OwnershipMarker.maxBytes))"
        case .notJSON(let detail): "not a JSON object: \(detail)"
        case .missingField(let key): "required field '\(key)' is missing"
        case .wrongType(let field): "field '\(field)' has the wrong type or format"
        case .emptyField(let key): "required field '\(key)' is empty"
        case .unsupportedVersion(let v):
            "format version \(v) is not supported (this provisioner reads 1...\(OwnershipMarker.currentVersion))"
        }
    }
}
