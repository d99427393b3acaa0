// Which member an export belongs to, written in its reserved area and checked by probes.
import Foundation

/// The member an export belongs to: `<export>/.nfs-cluster-provisioner/member.json`
/// (``ReservedNames/identityFile``).
///
/// Written the first time the member is probed; every later probe compares it with the
/// configuration. A different member name or export means the mount (or the server behind
/// an address) is not the one configured: the member turns unhealthy at once
/// (``StorageError/identityMismatch(member:expected:found:)``), so nothing is created,
/// deleted or archived there until an operator fixes it. A changed address alone (the
/// server was renumbered) is accepted: the file is updated and a warning logged.
package struct MemberIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    package static let maxBytes = 4 * 1024

    package var name: String
    package var address: String
    package var export: String

    package init(name: String, address: String, export: String) {
        self.name = name
        self.address = address
        self.export = export
    }

    package var description: String { "member \(name) (\(address):\(export))" }

    /// True when both name the same member and export (the address may differ).
    package func isSameMember(as other: MemberIdentity) -> Bool {
        name == other.name && export == other.export
    }

    package func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)).map(Array.init) ?? Array("{}".utf8)) + [UInt8(ascii: "\n")]
    }

    /// `nil` for bytes that are not an identity.
    package static func decode(_ bytes: [UInt8]) -> MemberIdentity? {
        guard bytes.count <= maxBytes else { return nil }
        return try? JSONDecoder().decode(MemberIdentity.self, from: Data(bytes))
    }
}
