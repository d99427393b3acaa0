// ClaimLocator: which members' indexes hold records of a claim, kept current by the indexes.
import Foundation
import Testing
import TestSupport
import VolumeStorage

@Suite("ClaimLocator: the members holding a claim's records")
struct ClaimLocatorTests {
    private let date = Date(timeIntervalSince1970: 1_800_000_000)

    private func volume(_ path: String, _ namespace: String, _ name: String, uid: String) throws -> OwnershipRecord {
        try testVolumeRecord(path, testClaim(ns: namespace, name: name, uid: uid))
    }

    @Test func putAndRemove_announceAndWithdraw_byUIDAndByName() throws {
        let locator = ClaimLocator()
        let a = OwnershipIndex(), b = OwnershipIndex()
        a.attach(to: locator, as: "nfs-a")
        b.attach(to: locator, as: "nfs-b")
        #expect(locator.members(claimUID: "u1", namespace: "team", name: "db").isEmpty)

        a.put(try volume("team-db", "team", "db", uid: "u1"))
        #expect(locator.members(claimUID: "u1", namespace: "x", name: "y") == ["nfs-a"], "by uid")
        #expect(locator.members(claimUID: "other", namespace: "team", name: "db") == ["nfs-a"], "by name")
        // The same claim name re-created (new uid) with a record on another member.
        b.put(try volume("team-db", "team", "db", uid: "u2"))
        #expect(locator.members(claimUID: "u2", namespace: "team", name: "db") == ["nfs-a", "nfs-b"])
        #expect(locator.members(claimUID: "u2", namespace: "x", name: "y") == ["nfs-b"])

        // Two records of one claim on one member: the member stays until both are gone.
        a.put(try volume("team-db-2", "team", "db", uid: "u1"))
        a.remove(try RelativePath("team-db"))
        #expect(locator.members(claimUID: "u1", namespace: "x", name: "y") == ["nfs-a"])
        a.remove(try RelativePath("team-db-2"))
        #expect(locator.members(claimUID: "u1", namespace: "team", name: "db") == ["nfs-b"], "only b's name match is left")
        #expect(locator.claimCount == 1)
    }

    @Test func parentRecords_areNotAnnounced_andAReplacedRecordMovesItsClaim() throws {
        let locator = ClaimLocator()
        let index = OwnershipIndex()
        index.attach(to: locator, as: "m")
        index.put(OwnershipRecord(provisioner: "p", parent: try RelativePath("team"), at: date))
        #expect(locator.claimCount == 0)
        index.put(try volume("team/db", "team", "db", uid: "u1"))
        // Adopted by another claim: the record at the path now names u2.
        index.put(try volume("team/db", "team", "db2", uid: "u2"))
        #expect(locator.members(claimUID: "u1", namespace: "team", name: "db").isEmpty)
        #expect(locator.members(claimUID: "u2", namespace: "x", name: "y") == ["m"])
    }

    @Test func listing_announcesWhatItFound_andWithdrawsWhatIsGone() throws {
        let locator = ClaimLocator()
        let index = OwnershipIndex()
        index.put(try volume("before-attach", "ns", "early", uid: "u0"))
        index.attach(to: locator, as: "m")
        #expect(locator.members(claimUID: "u0", namespace: "", name: "") == ["m"], "attaching announces what is there")

        index.beginLoad()
        index.finishLoad([try volume("listed", "ns", "listed", uid: "u1")])
        #expect(locator.members(claimUID: "u0", namespace: "ns", name: "early").isEmpty, "not listed: withdrawn")
        #expect(locator.members(claimUID: "u1", namespace: "", name: "") == ["m"])

        index.beginLoad()
        index.put(try volume("written-during", "ns", "during", uid: "u2"))
        index.finishLoad([])
        #expect(locator.members(claimUID: "u2", namespace: "", name: "") == ["m"], "a write made during the listing is kept")
        #expect(locator.members(claimUID: "u1", namespace: "ns", name: "listed").isEmpty)
    }

    @Test func detach_withdrawsEverything_andLaterWritesAreNotAnnounced() throws {
        let locator = ClaimLocator()
        let index = OwnershipIndex()
        index.attach(to: locator, as: "m")
        index.put(try volume("a", "ns", "a", uid: "u1"))
        index.detach()
        #expect(locator.claimCount == 0)
        index.put(try volume("b", "ns", "b", uid: "u2"))
        #expect(locator.members(claimUID: "u2", namespace: "ns", name: "b").isEmpty)
        // Re-attached (under another name): announced again, under that name only.
        index.attach(to: locator, as: "m2")
        #expect(locator.members(claimUID: "u1", namespace: "", name: "") == ["m2"])
        #expect(locator.members(claimUID: "u2", namespace: "", name: "") == ["m2"])
    }
}
