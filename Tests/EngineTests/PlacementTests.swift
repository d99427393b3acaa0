import Foundation
import Testing
import TestSupport
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

@Suite("Placement decisions")
struct PlacementTests {
    let gib: UInt64 = 1 << 30
    let primary = try! RelativePath("team-a-db")
    let alternative = try! RelativePath("team-a-db-x")
    var claim: Placement.Claim { .init(namespace: "team-a", name: "db", uid: "uid-new", primary: primary, alternative: alternative) }

    func record(_ path: RelativePath, ns: String = "team-a", name: String = "db", uid: String) -> OwnershipRecord {
        OwnershipRecord(provisioner: "example.com/nfs", path: path, claim: ClaimIdentity(namespace: ns, name: name, uid: uid),
                        volumeName: "pvc-\(uid)", at: Date(timeIntervalSince1970: 0))
    }

    func view(_ name: String, active: Bool = true, available: Bool = true, free: UInt64? = 10 << 30, problem: String? = nil) -> Placement.MemberView {
        Placement.MemberView(name: name, active: active, available: available, unavailableReason: available ? nil : "timed out",
                             freeBytes: free, freeSpaceProblem: problem)
    }

    func decide(_ views: [Placement.MemberView], existing: [Placement.Existing] = [], extra: [Placement.MemberView] = [],
                taken: Set<String> = [], previous: String? = nil) -> Placement.Decision {
        Placement.decide(claim: claim, candidates: views, existing: existing, views: extra,
                         isTaken: { taken.contains("\($0):\($1)") }, previousMember: previous, minFreeBytes: gib)
    }

    @Test("empty members: the ring's first choice")
    func fresh_goesToRingOwner() {
        #expect(decide([view("a"), view("b")]) == .place(member: "a", path: primary, action: .create, reason: .ring))
    }

    @Test("a record of this claim's uid on any member wins (crash between record and PV), at the recorded path")
    func ownRecord_winsAnywhere() {
        let elsewhere = try! RelativePath("old-pattern/db")
        let d = decide([view("a"), view("b")], existing: [.init(member: "c", record: record(elsewhere, uid: "uid-new"))], extra: [view("c")])
        #expect(d == .place(member: "c", path: elsewhere, action: .alreadyOurs, reason: .reuse))
    }

    @Test("a re-created claim finds its predecessor's volume even on a draining member after the ring changed")
    func recreatedClaim_findsItsData() {
        let d = decide([view("new-member")], existing: [.init(member: "b", record: record(primary, uid: "uid-old"))],
                       extra: [view("b", active: false)])
        #expect(d == .place(member: "b", path: primary, action: .adopt(previousUID: "uid-old"), reason: .reuse))
    }

    @Test("a same-name record at a path this claim does not render is not adopted")
    func sameNameElsewhere_isNotAdopted() {
        let d = decide([view("a")], existing: [.init(member: "a", record: record(try! RelativePath("somewhere/else"), uid: "uid-old"))])
        #expect(d == .place(member: "a", path: primary, action: .create, reason: .ring))
    }

    @Test("the claim's volume on an unreachable member: wait")
    func ownRecordOnUnreachable_waits() {
        let d = decide([view("a")], existing: [.init(member: "b", record: record(primary, uid: "uid-new"))], extra: [view("b", available: false)])
        guard case .wait(let member, let why) = d else { Issue.record("unexpected \(d)"); return }
        #expect(member == "b" && why.contains("unreachable"))
    }

    @Test("a taken path (team/a-db vs team-a/db, a parent, a hand-made directory): the alternative, never shared")
    func takenPath_usesAlternative() {
        #expect(decide([view("a")], taken: ["a:team-a-db"]) == .place(member: "a", path: alternative, action: .create, reason: .ring))
        guard case .place(let member, _, _, .spillOver(let skipped)) = decide([view("a"), view("b")], taken: ["a:team-a-db", "a:team-a-db-x"]) else {
            Issue.record("expected spill-over"); return
        }
        #expect(member == "b" && skipped == ["a: both the path and its alternative are taken"])
    }

    @Test("another claim's record is no evidence for this one, even with the same rendered path")
    func otherClaimsRecord_isIgnored() {
        let d = decide([view("a")], existing: [.init(member: "a", record: record(primary, ns: "team", name: "a-db", uid: "u-other"))],
                       taken: ["a:team-a-db"])
        #expect(d == .place(member: "a", path: alternative, action: .create, reason: .ring))
    }

    @Test("draining, unavailable, full and unmeasured members are skipped, each with its reason")
    func spillOver_namesSkippedMembers() {
        let d = decide([view("a", active: false), view("b", available: false), view("c", free: gib / 2),
                        view("e", free: nil, problem: "statvfs: EIO"), view("d")])
        guard case .place(let member, _, .create, .spillOver(let skipped)) = d else {
            Issue.record("unexpected \(d)"); return
        }
        #expect(member == "d")
        #expect(skipped.count == 4)
        #expect(skipped[0].contains("a: draining"))
        #expect(skipped[1].contains("b: timed out"))
        #expect(skipped[2].contains("c: 512.0 MiB free"))
        #expect(skipped[3] == "e: free space unknown (statvfs: EIO)", "an unreadable free space is not room")
    }

    @Test("previous data (from the PVs) on an unreachable member: wait, do not create an empty directory elsewhere")
    func previousOnUnreachable_waits() {
        let d = decide([view("a")], extra: [view("b", available: false)], previous: "b")
        guard case .wait(let member, let why) = d else { Issue.record("unexpected \(d)"); return }
        #expect(member == "b" && why.contains("unreachable"))
        #expect(decide([view("a")], extra: [view("b")], previous: "b") == .place(member: "a", path: primary, action: .create, reason: .ring))
    }

    @Test("no member can take it: fail with every reason")
    func noMember_fails() {
        let d = decide([view("a", active: false), view("b", available: false)])
        guard case .fail(let why) = d else { Issue.record("unexpected \(d)"); return }
        #expect(why.contains("a: draining") && why.contains("b: timed out"))
        #expect(decide([]) == .fail(why: "no NFS servers are configured"))
    }
}
