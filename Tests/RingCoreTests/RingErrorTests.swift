import Testing
@testable import RingCore

@Suite("Ring input errors")
struct RingErrorTests {
    @Test("an empty ring is allowed but every lookup throws emptyRing")
    func emptyRing_lookupsThrow() throws {
        for hash in RingHash.allCases {
            let empty = try RingSnapshot(members: [], configuration: RingConfiguration(hash: hash))
            #expect(empty.isEmpty)
            #expect(throws: RingError.emptyRing) { try empty.locate("a") }
            #expect(throws: RingError.emptyRing) { try empty.locateIndex("a") }
            #expect(throws: RingError.emptyRing) { try empty.candidates("a", count: 2) }
            #expect(empty.ownership().isEmpty)
            #expect(empty.remapShare(to: empty) == nil)
        }
    }

    @Test("bad member lists are rejected with the problem named")
    func badMembers_areRejected() {
        #expect(throws: RingError.emptyMemberName(position: 1)) {
            try RingSnapshot(members: [Member("a"), Member("")])
        }
        #expect(throws: RingError.duplicateMemberName("a")) {
            try RingSnapshot(members: [Member("a"), Member("b"), Member("a")])
        }
        #expect(throws: RingError.invalidWeight(member: "b", weight: 0)) {
            try RingSnapshot(members: [Member("a"), Member("b", weight: 0)])
        }
        #expect(throws: RingError.invalidWeight(member: "b", weight: -3)) {
            try RingSnapshot(members: [Member("b", weight: -3)])
        }
        #expect(throws: RingError.invalidVirtualNodeCount(0)) {
            try RingSnapshot(members: [Member("a")], configuration: RingConfiguration(virtualNodesPerMember: 0))
        }
        #expect(throws: RingError.invalidVirtualNodeCount(-1)) {
            try RingSnapshot(members: [Member("a")], configuration: RingConfiguration(virtualNodesPerMember: -1))
        }
    }

    @Test("huge weights or virtual node counts are refused, not allocated or overflowed")
    func hugeRings_areRefused() {
        #expect(throws: RingError.tooManyPoints(requested: Int.max, limit: RingConfiguration.maximumPoints)) {
            try RingSnapshot(members: [Member("a", weight: Int.max)])
        }
        #expect(throws: RingError.tooManyPoints(requested: Int.max, limit: RingConfiguration.maximumPoints)) {
            try RingSnapshot(members: [Member("a", weight: 2)], configuration: RingConfiguration(virtualNodesPerMember: Int.max))
        }
        #expect(throws: RingError.tooManyPoints(requested: 20_000_000, limit: RingConfiguration.maximumPoints)) {
            try RingSnapshot(members: [Member("a", weight: 20)], configuration: RingConfiguration(virtualNodesPerMember: 1_000_000))
        }
    }

    @Test("unicode, IPv6 and odd names are ordinary identities")
    func unusualNames_work() throws {
        let names = ["fd00::1", "[2001:db8::1]:2049", "数据", "café", "e\u{301}", "a\u{0}b", " ", "🙂"]
        let snapshot = try RingSnapshot(members: names.map { Member($0) })
        #expect(snapshot.members.count == names.count)
        // "é" precomposed and decomposed are different byte strings: different members.
        #expect(snapshot.index(of: "café") != nil)
        for key in ["", "🙂", "a\u{0}"] { _ = try snapshot.locate(key) }
        #expect(Set(snapshot.ownership().map(\.member.name)) == Set(names))
    }

    @Test("error messages name the problem")
    func errorMessages_nameTheProblem() {
        #expect(RingError.duplicateMemberName("10.0.0.1").description.contains("\"10.0.0.1\" is listed more than once"))
        #expect(RingError.invalidWeight(member: "x", weight: 0).description.contains("weight 0"))
        #expect(RingError.emptyMemberName(position: 2).description.contains("member #3"))
        #expect(RingError.emptyRing.description.contains("no members"))
    }
}
