import Foundation
import Testing
import TestSupport
@testable import VolumeStorage

@Suite("Ownership records")
struct OwnershipRecordTests {
    let date = Date(timeIntervalSince1970: 1_780_000_000.75)

    func record(_ path: String = "team-a-db", uid: String = "6f1c") throws -> OwnershipRecord {
        OwnershipRecord(provisioner: "example.com/nfs", path: try RelativePath(path),
                        claim: ClaimIdentity(namespace: "team-a", name: "db", uid: uid), volumeName: "pvc-\(uid)", at: date)
    }

    @Test func encodeDecode_roundTrips_withWholeSeconds() throws {
        let r = try record().with(state: .bound, at: date.addingTimeInterval(5))
        let decoded = try OwnershipRecord.decode(r.encoded())
        #expect(decoded == r)
        #expect(decoded.createdAt == Date(timeIntervalSince1970: 1_780_000_000))
        let parent = OwnershipRecord(provisioner: "example.com/nfs", parent: try RelativePath("team-a"), at: date)
        #expect(try OwnershipRecord.decode(parent.encoded()) == parent)
        #expect(!String(decoding: parent.encoded(), as: UTF8.self).contains("claimUID"))
    }

    @Test(arguments: [
        ("not json", "not a JSON object"),
        ("{\"version\":2}", "format version 2"),
        ("{\"version\":1}", "'provisioner' is missing"),
        ("{\"version\":1,\"provisioner\":\"p\",\"path\":\"../x\",\"kind\":\"volume\",\"state\":\"bound\",\"createdAt\":\"2026-01-01T00:00:00Z\",\"updatedAt\":\"2026-01-01T00:00:00Z\",\"origin\":\"created\"}", "field 'path'"),
        ("{\"version\":1,\"provisioner\":\"p\",\"path\":\".nfs-cluster-provisioner/x\",\"kind\":\"volume\",\"state\":\"bound\",\"createdAt\":\"2026-01-01T00:00:00Z\",\"updatedAt\":\"2026-01-01T00:00:00Z\",\"origin\":\"created\"}", "not a volume path"),
        ("{\"version\":1,\"provisioner\":\"p\",\"path\":\"a\",\"kind\":\"volume\",\"state\":\"bound\",\"createdAt\":\"2026-01-01T00:00:00Z\",\"updatedAt\":\"2026-01-01T00:00:00Z\",\"origin\":\"created\"}", "'claimUID' is empty"),
        ("{\"version\":1,\"provisioner\":\"p\",\"path\":\"a\",\"kind\":\"weird\",\"state\":\"bound\",\"createdAt\":\"x\",\"updatedAt\":\"x\",\"origin\":\"created\"}", "field 'kind'"),
    ])
    func decode_badInput_namesTheProblem(_ input: String, _ expected: String) {
        do {
            _ = try OwnershipRecord.decode(Array(input.utf8))
            Issue.record("decoded \(input)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test func decode_refusesOversizedInput() {
        let big = Array(repeating: UInt8(ascii: " "), count: OwnershipRecord.maxBytes + 1)
        #expect(throws: RecordProblem.tooLarge(bytes: big.count)) { try OwnershipRecord.decode(big) }
    }

    @Test func fileNames_areFlatReadableAndDistinct() throws {
        #expect(OwnershipRecord.fileName(for: try RelativePath("team-a-db")) == "team-a-db.json")
        #expect(OwnershipRecord.fileName(for: try RelativePath("team-a/db")) == "team-a+db.json")
        // `team-a/db` and `team/a-db`, `a+b` and `a/b`: all different files.
        let names = try ["team-a/db", "team/a-db", "team-a-db", "a+b", "a/b", "a b", "é"].map { OwnershipRecord.fileName(for: try RelativePath($0)) }
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { !$0.contains("/") && $0.hasSuffix(".json") })
        let long = try RelativePath(components: (0..<5).map { _ in String(repeating: "x", count: 60) })
        let hashed = OwnershipRecord.fileName(for: long)
        #expect(hashed.hasPrefix("~") && hashed.utf8.count < 60)
    }

    @Test func index_answersByPathUidNameAndStructure() throws {
        let index = OwnershipIndex()
        index.put(try record("team-a-db", uid: "u1"))
        index.put(OwnershipRecord(provisioner: "p", parent: try RelativePath("team"), at: date))
        index.put(try record("team/db", uid: "u2"))
        #expect(index.records(claimUID: "u1").map(\.path.description) == ["team-a-db"])
        #expect(Set(index.records(namespace: "team-a", name: "db").map(\.claimUID)) == ["u1", "u2"])
        #expect(index.conflict(at: try RelativePath("team-a-db")) == .held(try record("team-a-db", uid: "u1")))
        #expect(index.conflict(at: try RelativePath("team-a-db/x")) == .insideVolume(try record("team-a-db", uid: "u1")))
        #expect(index.conflict(at: try RelativePath("team-a-db"), forClaimUID: "u1") == nil, "its own volume: a retry")
        #expect(index.conflict(at: try RelativePath("team-a-db"), forClaimUID: "u9") == .held(try record("team-a-db", uid: "u1")))
        if case .held(let r)? = index.conflict(at: try RelativePath("team")) { #expect(r.kind == .parent) } else { Issue.record("parent not held") }
        #expect(index.conflict(at: try RelativePath("team/other")) == nil, "a recorded parent is no conflict")
        #expect(index.volumes(inside: try RelativePath("team")).count == 1)
        index.remove(try RelativePath("team/db"))
        #expect(index.volumes(inside: try RelativePath("team")).isEmpty)
        #expect(index.records(claimUID: "u2").isEmpty)
        index.markUnrecorded(try RelativePath("hand-made"))
        #expect(index.conflict(at: try RelativePath("hand-made")) == .unrecordedDirectory)
    }

    @Test func identity_sameMemberIgnoresTheAddress() {
        let a = MemberIdentity(name: "a", address: "10.0.0.1", export: "/srv")
        #expect(a.isSameMember(as: MemberIdentity(name: "a", address: "10.0.0.2", export: "/srv")))
        #expect(!a.isSameMember(as: MemberIdentity(name: "b", address: "10.0.0.1", export: "/srv")))
        #expect(!a.isSameMember(as: MemberIdentity(name: "a", address: "10.0.0.1", export: "/other")))
        #expect(MemberIdentity.decode(a.encoded()) == a)
        #expect(MemberIdentity.decode(Array("garbage".utf8)) == nil)
    }
}
