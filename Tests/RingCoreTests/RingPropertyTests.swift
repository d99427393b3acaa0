import Testing
@testable import RingCore
import TestSupport

/// Properties of consistent hashing, checked on random server sets with fixed seeds.
/// Each failure message carries the seed, the hash and the members, so it can be replayed.
@Suite("Ring properties")
struct RingPropertyTests {
    static let seeds: [UInt64] = [1, 2, 3, 17, 2024]
    static let hashes = RingHash.allCases

    func ring(_ names: [String], _ hash: RingHash, vnodes: Int = 255) throws -> RingSnapshot {
        try RingSnapshot(members: names.map { Member($0) }, configuration: RingConfiguration(virtualNodesPerMember: vnodes, hash: hash))
    }

    @Test("adding a member moves keys only to it", arguments: hashes, seeds)
    func addMember_movesKeysOnlyToIt(hash: RingHash, seed: UInt64) throws {
        let names = randomServerNames(count: 3 + Int(seed % 7), seed: seed)
        let added = "added-\(seed)"
        let before = try ring(names, hash)
        let after = try ring(names + [added], hash)
        let keys = claimKeys(count: 5000, seed: seed &* 31)
        let report = try before.remap(to: after, keys: keys, keepKeys: true)
        let wrong = report.movedKeyList.filter { $0.to != added }
        #expect(wrong.isEmpty, "seed \(seed) \(hash) members \(names): keys moved elsewhere: \(wrong.prefix(5))")
        #expect(report.movedKeys > 0, "seed \(seed) \(hash): the new member got nothing")
    }

    @Test("removing a member moves only its keys, and exactly its ownership share", arguments: hashes, seeds)
    func removeMember_movesOnlyItsKeys_exactlyItsShare(hash: RingHash, seed: UInt64) throws {
        let names = randomServerNames(count: 4 + Int(seed % 6), seed: seed)
        let removed = names[Int(seed) % names.count]
        let before = try ring(names, hash)
        let after = try ring(names.filter { $0 != removed }, hash)
        let keys = claimKeys(count: 5000, seed: seed &+ 99)
        let report = try before.remap(to: after, keys: keys, keepKeys: true)
        let wrong = report.movedKeyList.filter { $0.from != removed }
        #expect(wrong.isEmpty, "seed \(seed) \(hash) members \(names) removed \(removed): other keys moved: \(wrong.prefix(5))")
        // Every key of the removed member must move.
        let itsKeys = try keys.filter { try before.locate($0).name == removed }.count
        #expect(report.movedKeys == itsKeys, "seed \(seed) \(hash)")
        // In hash space: what moves is exactly the removed member's share.
        let share = try #require(before.ownership().first { $0.member.name == removed }).share
        let moved = try #require(before.remapShare(to: after))
        #expect(abs(moved - share) < 1e-12, "seed \(seed) \(hash): moved \(moved) vs share \(share)")
    }

    @Test("the fraction of keys moved on add is close to the new member's share", arguments: hashes, seeds)
    func addMember_movedFractionMatchesNewShare(hash: RingHash, seed: UInt64) throws {
        let names = randomServerNames(count: 5, seed: seed)
        let before = try ring(names, hash)
        let after = try ring(names + ["new-\(seed)"], hash)
        let share = try #require(after.ownership().last).share
        let exact = try #require(before.remapShare(to: after))
        #expect(abs(exact - share) < 1e-12, "seed \(seed) \(hash): hash-space move \(exact) vs new share \(share)")
        let keys = claimKeys(count: 20000, seed: seed)
        let fraction = try before.remap(to: after, keys: keys).fraction
        // 20,000 keys: standard error sqrt(p(1-p)/n) ≈ 0.0027 for p ≈ 1/6; allow 5 sigma.
        #expect(abs(fraction - share) < 0.014, "seed \(seed) \(hash): moved \(fraction) of keys, share \(share)")
    }

    @Test("ownership shares sum to 1 and point counts to the ring's", arguments: hashes, seeds)
    func ownership_sumsToOne(hash: RingHash, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let names = randomServerNames(count: 1 + Int(rng.next() % 40), seed: seed)
        let members = names.map { Member($0, weight: 1 + Int(rng.next() % 3)) }
        let snapshot = try RingSnapshot(members: members, configuration: RingConfiguration(virtualNodesPerMember: 1 + Int(rng.next() % 300), hash: hash))
        let shares = snapshot.ownership()
        let total = shares.reduce(0) { $0 + $1.share }
        #expect(abs(total - 1) < 1e-9, "seed \(seed) \(hash) members \(members): total \(total)")
        #expect(shares.reduce(0) { $0 + $1.points } == snapshot.pointCount)
    }

    @Test("a single member owns the whole ring")
    func singleMember_ownsEverything() throws {
        for hash in RingHash.allCases {
            let one = try ring(["only"], hash, vnodes: 1)
            #expect(one.ownership().map(\.share) == [1.0])
            #expect(try one.locate("anything").name == "only")
        }
    }

    @Test("candidates are distinct members and start with locate", arguments: hashes, seeds)
    func candidates_distinct_startWithLocate(hash: RingHash, seed: UInt64) throws {
        let names = randomServerNames(count: 2 + Int(seed % 9), seed: seed)
        let snapshot = try ring(names, hash)
        for key in claimKeys(count: 300, seed: seed) {
            let all = try snapshot.candidates(key, count: names.count + 3)
            #expect(all.count == names.count, "seed \(seed) key \(key)")
            #expect(Set(all.map(\.name)).count == all.count, "seed \(seed) key \(key): \(all)")
            #expect(all.first == (try snapshot.locate(key)), "seed \(seed) key \(key)")
            let two = try snapshot.candidates(key, count: 2)
            #expect(Array(all.prefix(2)) == two)
        }
        #expect(try snapshot.candidates("k", count: 0).isEmpty)
        #expect(try snapshot.candidates("k", count: -1).isEmpty)
    }

    @Test("xxh3 placement does not depend on member order", arguments: seeds)
    func xxh3_placementIndependentOfOrder(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let names = randomServerNames(count: 12, seed: seed)
        let a = try ring(names, .xxh3)
        let b = try ring(names.shuffled(using: &rng), .xxh3)
        for key in claimKeys(count: 2000, seed: seed) {
            #expect(try a.locate(key).name == b.locate(key).name, "seed \(seed) key \(key)")
        }
    }

    @Test("equal points: xxh3 keeps the first (smallest name), crc32 the last of the run")
    func dedupe_keepsTheRuleWinner() {
        var points: [UInt64] = [1, 5, 5, 5, 9]
        var owners: [UInt32] = [0, 1, 2, 3, 4]
        RingSnapshot.dedupe(points: &points, owners: &owners, keepLast: false)
        #expect(points == [1, 5, 9])
        #expect(owners == [0, 1, 4])
        points = [5, 5, 7, 7]
        owners = [0, 1, 2, 3]
        RingSnapshot.dedupe(points: &points, owners: &owners, keepLast: true)
        #expect(points == [5, 7])
        #expect(owners == [1, 3])
    }

    @Test("the point sort orders by point, then by the tie key")
    func pointSort_ordersByPointThenTieKey() {
        var rng = SeededGenerator(seed: 5)
        for count in [0, 1, 2, 10, 1000, 70_000] {
            // Few distinct values so there are many ties and some big buckets; some
            // CRC-like (low half zero).
            var points = (0..<count).map { _ in rng.next() % 50 == 0 ? (rng.next() % 64) << 32 : rng.next() % 200 << 40 }
            var owners = (0..<count).map { _ in UInt32(rng.next() % 1000) }
            let tie: (UInt32) -> UInt32 = { 999 - $0 }
            let expected = zip(points, owners).sorted { ($0.0, tie($0.1)) < ($1.0, tie($1.1)) }
            PointSort.sort(points: &points, owners: &owners, tieKey: tie)
            #expect(points == expected.map(\.0), "count \(count)")
            #expect(owners == expected.map(\.1), "count \(count): ties out of order")
        }
    }

    @Test("weights scale a member's points and share")
    func weight_scalesShare() throws {
        let members = [Member("a"), Member("b", weight: 3), Member("c")]
        let snapshot = try RingSnapshot(members: members, configuration: RingConfiguration(virtualNodesPerMember: 1000, hash: .xxh3))
        let shares = Dictionary(uniqueKeysWithValues: snapshot.ownership().map { ($0.member.name, $0) })
        let b = try #require(shares["b"]), a = try #require(shares["a"])
        #expect(b.points == 3000)
        #expect(a.points == 1000)
        // b should own about 3/5; with 5000 random points the spread is ~1%.
        #expect(abs(b.share - 0.6) < 0.05)
    }
}

@Suite("Ring lookup structure")
struct RingLookupStructureTests {
    /// The bucket index and its fixed-window fast path must agree with the definition:
    /// the first point strictly greater than the position, wrapping to the first.
    @Test("successor and the owner slots equal a naive scan, at every point, its neighbours and the ends", arguments: RingHash.allCases)
    func successor_equalsNaiveScan(hash: RingHash) throws {
        var rng = SeededGenerator(seed: 77)
        var slotKinds: Set<String> = []
        for trial in 0..<12 {
            let n = 1 + Int(rng.next() % 30)
            let vnodes = 1 + Int(rng.next() % 200)
            let snapshot = try RingSnapshot(members: randomServerNames(count: n, seed: UInt64(trial)).map { Member($0) },
                                            configuration: RingConfiguration(virtualNodesPerMember: vnodes, hash: hash))
            let s = snapshot.storage
            for b in 0..<s.bucketCount {
                let slot = s.slots[b]
                slotKinds.insert(slot.below == OwnerSlot.crowded ? "crowded" : slot.below == slot.above && slot.point == 0 ? "empty or one" : "one")
            }
            let points = (0..<s.pointCount).map { s.point($0) }
            func naive(_ position: UInt64) -> Int { points.firstIndex { $0 > position } ?? 0 }
            var probes: [UInt64] = [0, 1, .max, .max - 1]
            for p in points { probes += [p, p &- 1, p &+ 1] }
            for _ in 0..<500 { probes.append(rng.next()) }
            for position in probes {
                #expect(s.successor(of: position) == naive(position), "trial \(trial) \(hash) n \(n) vnodes \(vnodes) position \(position)")
                #expect(s.ownerOfSuccessor(of: position) == s.owner(naive(position)),
                        "owner slot: trial \(trial) \(hash) n \(n) vnodes \(vnodes) position \(position)")
            }
        }
        #expect(slotKinds == ["crowded", "empty or one", "one"], "every kind of slot was exercised: \(slotKinds)")
    }
}
