// Short forms of the member's volume calls for tests.
import Foundation
package import VolumeStorage
package import Fixtures

extension MemberStorage {
    /// ``createVolume(relativePath:mode:claim:volumeName:provisioner:at:)`` for `owner`,
    /// with the PV name `pvc-<uid>` and the provisioner `example.com/nfs`.
    package func createVolume(relativePath path: RelativePath, mode: FileMode, owner: ClaimIdentity) async throws(StorageError) -> CreateOutcome {
        try await createVolume(relativePath: path, mode: mode, claim: owner, volumeName: "pvc-\(owner.uid)",
                               provisioner: "example.com/nfs", at: Date(timeIntervalSince1970: 1_780_000_000))
    }
}

extension MemberStorage.CreateOutcome {
    /// True for ``created(_:)``.
    package var isCreated: Bool {
        if case .created = self { return true }
        return false
    }
}

/// A test claim: `team-a/db` with the given uid unless told otherwise.
package func testClaim(ns: String = "team-a", name: String = "db", uid: String = "uid-1") -> ClaimIdentity {
    ClaimIdentity(namespace: ns, name: name, uid: uid)
}

/// A volume record of `claim` at `path` (PV `pvc-<uid>`, provisioner `example.com/nfs`,
/// state creating), as the member writes one.
package func testVolumeRecord(_ path: String, _ claim: ClaimIdentity = testClaim()) throws -> OwnershipRecord {
    OwnershipRecord(provisioner: "example.com/nfs", path: try RelativePath(path), claim: claim,
                    volumeName: "pvc-\(claim.uid)", at: Date(timeIntervalSince1970: 1_800_000_000))
}

extension EngineTestBed {
    /// What a kill between a volume's record and its PV leaves on a mounted member: for each
    /// claim, its directory and a record still `creating` (written at the fixed time of
    /// ``MemberStorage/createVolume(relativePath:mode:owner:)``), and no PV.
    package func leaveCrashLeftovers(on member: String, _ leftovers: [(path: String, claim: ClaimIdentity)]) async throws {
        let store = try MountedVolumeStore(configuration: .init(member: member, mountPath: export(member), requireMountPoint: false))
        let crashed = MemberStorage(store: store)
        defer { crashed.shutdown() }
        for leftover in leftovers {
            _ = try await crashed.createVolume(relativePath: try RelativePath(leftover.path), mode: .defaultDirectory, owner: leftover.claim)
        }
    }
}
