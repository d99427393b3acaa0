import Foundation
import Synchronization
import Testing
@testable import RingCore

@Suite("Ring publication")
struct RingPublisherTests {
    @Test("mutations publish new generations; a reader follows them")
    func reader_followsPublications() throws {
        let ring = try Ring(members: [Member("a"), Member("b")])
        var reader = ring.makeReader()
        #expect(ring.generation == 1)
        let key = try #require(claimKeys(count: 2000, seed: 3).first { key in
            // a key that moves to "c" once it exists
            (try? RingSnapshot(members: [Member("a"), Member("b"), Member("c")]).locate(key).name) == "c"
        })
        #expect(try reader.locate(key).name != "c")
        try ring.add(Member("c"))
        #expect(ring.generation == 2)
        #expect(try reader.locate(key).name == "c")
        #expect(reader.snapshot.generation == 2)
        try ring.setWeight(4, of: "a")
        #expect(ring.snapshot.members.first?.weight == 4)
        try ring.remove(named: "c")
        #expect(ring.generation == 4)
        #expect(try reader.locate(key).name != "c")
    }

    @Test("a failed change publishes nothing")
    func failedChange_keepsTheOldSnapshot() throws {
        let ring = try Ring(members: [Member("a")])
        #expect(throws: RingError.duplicateMemberName("a")) { try ring.add(Member("a")) }
        #expect(throws: RingError.unknownMember("zz")) { try ring.remove(named: "zz") }
        #expect(throws: RingError.invalidWeight(member: "a", weight: 0)) { try ring.setWeight(0, of: "a") }
        #expect(ring.generation == 1)
        #expect(ring.snapshot.members == [Member("a")])
        try ring.replace(members: [Member("x"), Member("y")], configuration: .stathatCompatible)
        #expect(ring.configuration == .stathatCompatible)
        #expect(ring.generation == 2)
    }

    @Test("readers on several threads always see a complete published snapshot")
    func concurrentReaders_seeOnlyPublishedSnapshots() throws {
        let sets: [[Member]] = [
            [Member("a"), Member("b")],
            [Member("a"), Member("b"), Member("c")],
            [Member("b"), Member("c"), Member("d", weight: 2)],
        ]
        let ring = try Ring(members: sets[0])
        let keys = claimKeys(count: 200, seed: 11)
        // For each member set, the expected placement of every key.
        let expected: [[String]] = try sets.map { set in
            let s = try RingSnapshot(members: set)
            return try keys.map { try s.locate($0).name }
        }
        let mismatches = Atomic<Int>(0)
        let checks = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let group = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                var reader = ring.makeReader()
                while !stop.load(ordering: .relaxed) {
                    reader.refresh()
                    let snapshot = reader.snapshot
                    let names = keys.map { (try? snapshot.locate($0).name) ?? "?" }
                    if !expected.contains(names) { mismatches.add(1, ordering: .relaxed) }
                    checks.add(1, ordering: .relaxed)
                }
            }
        }
        for round in 0..<60 { try ring.replace(members: sets[round % sets.count]) }
        while checks.load(ordering: .relaxed) < 50 { Thread.sleep(forTimeInterval: 0.001) }
        stop.store(true, ordering: .relaxed)
        group.wait()
        #expect(mismatches.load(ordering: .relaxed) == 0)
        #expect(ring.generation == 61)
    }

    @Test("remap report groups moves by source and target")
    func remapReport_groupsMoves() throws {
        let before = try RingSnapshot(members: ["a", "b", "c"].map { Member($0) })
        let after = try RingSnapshot(members: ["a", "b"].map { Member($0) })
        let keys = claimKeys(count: 3000, seed: 8)
        let report = try before.remap(to: after, keys: keys)
        #expect(report.totalKeys == 3000)
        #expect(Set(report.moves.map(\.from)) == ["c"])
        #expect(Set(report.moves.map(\.to)) == ["a", "b"])
        #expect(report.moves.reduce(0) { $0 + $1.count } == report.movedKeys)
        #expect(report.moves[0].count >= report.moves[1].count)
        #expect(report.movedKeyList.isEmpty)
        let same = try before.remap(to: before, keys: keys)
        #expect(same.movedKeys == 0 && same.fraction == 0)
        #expect(before.remapShare(to: before) == 0)
        let crc = try RingSnapshot(members: [Member("a")], configuration: .stathatCompatible)
        #expect(before.remapShare(to: crc) == nil)
    }
}
