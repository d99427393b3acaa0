// The provisioning and deletion flow the engine runs through the storage API (the example
// of the storage report), end to end on a temporary export.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import TestSupport
import Testing

/// What the engine does for one claim: render, create (or adopt, or disambiguate).
func provision(
    on member: MemberStorage, parameters: StorageClassParameters, values: PathPattern.Values
) async throws -> RelativePath {
    var path = try parameters.pathPattern.render(values)
    let marker = OwnershipMarker(
        provisioner: "example.com/nfs", claimNamespace: values.namespace, claimName: values.name,
        claimUID: values.uid, volumeName: values.volumeName, createdAt: Date())
    for _ in 0..<2 {
        switch try await member.createVolume(relativePath: path, mode: parameters.directoryMode, marker: marker) {
        case .created, .alreadyOurs:
            return path
        case .existsWithoutMarker:
            // The Go original's directory (or our own half-made one): name-based reuse.
            try await member.adoptVolume(relativePath: path, marker: marker, replacing: nil)
            return path
        case .existsWithMarker(let owner) where owner.isSameClaimName(as: marker):
            // A re-created StatefulSet claim: take its predecessor's data over.
            try await member.adoptVolume(relativePath: path, marker: marker, replacing: owner)
            return path
        case .existsWithMarker:
            // Another claim renders the same name (team-a/db vs team/a-db).
            path = PathPattern.disambiguated(path, namespace: values.namespace, name: values.name)
        }
    }
    throw StorageError.alreadyExists(member: member.name, operation: .createVolume, path: path.description)
}

@Suite("Storage engine flow")
struct StorageEngineFlowTests {
    @Test func provisionDeleteAndRecreate_underEachPolicy() async throws {
        let f = try MemberFixture()
        defer { f.member.shutdown() }
        let retain = try StorageClassParameters(parsing: [:])
        let first = PathPattern.Values(namespace: "team-a", name: "db", uid: "u1", volumeName: "pvc-u1")

        // Provision; the data is written by the workload.
        let path = try await provision(on: f.member, parameters: retain, values: first)
        #expect(path == (try rel("team-a-db")))
        try localWrite(f.local("team-a-db/data"), "v1")

        // A colliding claim gets its own directory.
        let collider = PathPattern.Values(namespace: "team", name: "a-db", uid: "u9", volumeName: "pvc-u9")
        let other = try await provision(on: f.member, parameters: retain, values: collider)
        #expect(other != path)
        #expect(other.description.hasPrefix("team-a-db-"))

        // Retain: the PV goes, the directory stays; the re-created claim finds its data.
        let recreated = PathPattern.Values(namespace: "team-a", name: "db", uid: "u2", volumeName: "pvc-u2")
        #expect(try await provision(on: f.member, parameters: retain, values: recreated) == path)
        #expect(localRead(f.local("team-a-db/data")) == "v1")

        // The old PV's delete (policy delete) must not remove the re-created claim's data.
        let refused = await memberError { () async throws(StorageError) in
            try await f.member.deleteVolume(relativePath: path, expectedClaimUID: "u1")
        }
        #expect({ if case .ownedByAnotherClaim = refused { true } else { false } }())

        // Archive for the current owner, then the name is free for a fresh directory.
        let archived = try await f.member.archiveVolume(
            relativePath: path, archiveName: ArchiveNaming.name(volumeName: "pvc-u2", at: Date()), expectedClaimUID: "u2")
        guard case .archived(let archive) = archived else {
            Issue.record("expected an archive, got \(archived)")
            return
        }
        #expect(localRead(f.local(archive.description + "/data")) == "v1")
        #expect(try await f.member.inspectVolume(relativePath: path) == .absent)

        // Delete the colliding claim's volume.
        #expect(try await f.member.deleteVolume(relativePath: other, expectedClaimUID: "u9") == .deleted)
        #expect(try await f.member.inspectVolume(relativePath: other) == .absent)
    }
}
