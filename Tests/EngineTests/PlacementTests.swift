import Foundation
import Testing
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

@Suite("Placement decisions")
struct PlacementTests {
    let claim = Placement.Claim(namespace: "team-a", name: "db", uid: "uid-new")
    let gib: UInt64 = 1 << 30

    func marker(ns: String = "team-a", name: String = "db", uid: String) -> OwnershipMarker {
        OwnershipMarker(provisioner: "example.com/nfs", claimNamespace: ns, claimName: name, claimUID: uid,
                        volumeName: "pvc-\(uid)", createdAt: Date(timeIntervalSince1970: 0))
    }

    func view(_ name: String, active: Bool = true, available: Bool = true, free: UInt64? = nil) -> Placement.MemberView {
        Placement.MemberView(name: name, active: active, available: available, unavailableReason: available ? nil : "timed out", freeBytes: free)
    }

    func empty(_ name: String) -> Placement.Inspection {
        Placement.Inspection(member: name, primary: .absent, alternative: .absent)
    }

    func decide(_ views: [Placement.MemberView], _ inspections: [Placement.Inspection], previous: String? = nil) -> Placement.Decision {
        Placement.decide(claim: claim, candidates: views, inspections: inspections, previousMember: previous, minFreeBytes: gib)
    }

    @Test("empty members: the ring's first choice")
    func fresh_goesToRingOwner() {
        #expect(decide([view("a"), view("b")], [empty("a"), empty("b")]) == .place(member: "a", path: .primary, action: .create, reason: .ring))
    }

    @Test("a directory of this claim's uid on any member wins (crash between mkdir and PV)")
    func ownDirectory_winsAnywhere() {
        let d = decide([view("a"), view("b"), view("c")],
                       [empty("a"), empty("b"), Placement.Inspection(member: "c", primary: .present(marker(uid: "uid-new")), alternative: .absent)])
        #expect(d == .place(member: "c", path: .primary, action: .alreadyOurs, reason: .reuse))
    }

    @Test("a re-created claim finds its predecessor's directory even on a draining member after the ring changed")
    func recreatedClaim_findsItsData() {
        let old = marker(uid: "uid-old")
        let d = decide([view("new-member"), view("b", active: false)],
                       [empty("new-member"), Placement.Inspection(member: "b", primary: .present(old), alternative: .absent)])
        #expect(d == .place(member: "b", path: .primary, action: .adopt(replacing: old), reason: .reuse))
    }

    @Test("the original's marker-less directory is adopted")
    func legacyDirectory_isAdopted() {
        let d = decide([view("a"), view("b")], [empty("a"), Placement.Inspection(member: "b", primary: .presentWithoutMarker, alternative: .absent)])
        #expect(d == .place(member: "b", path: .primary, action: .adopt(replacing: nil), reason: .reuse))
    }

    @Test("another claim's directory at the same path (team/a-db vs team-a/db): the alternative path, never shared")
    func collision_usesAlternativePath() {
        let other = marker(ns: "team", name: "a-db", uid: "uid-other")
        let d = decide([view("a")], [Placement.Inspection(member: "a", primary: .present(other), alternative: .absent)])
        #expect(d == .place(member: "a", path: .alternative, action: .create, reason: .ring))
        // And a claim that already got the alternative path finds it again.
        let again = decide([view("a")], [Placement.Inspection(member: "a", primary: .present(other), alternative: .present(marker(uid: "uid-new")))])
        #expect(again == .place(member: "a", path: .alternative, action: .alreadyOurs, reason: .reuse))
    }

    @Test("draining, unavailable and full members are skipped, each with its reason")
    func spillOver_namesSkippedMembers() {
        let d = decide([view("a", active: false), view("b", available: false), view("c", free: gib / 2), view("d", free: 10 * gib)],
                       [empty("a"), empty("c"), empty("d")])
        guard case .place(let member, .primary, .create, .spillOver(let skipped)) = d else {
            Issue.record("unexpected \(d)"); return
        }
        #expect(member == "d")
        #expect(skipped.count == 3)
        #expect(skipped[0].contains("a: draining"))
        #expect(skipped[1].contains("b: timed out"))
        #expect(skipped[2].contains("c: 512.0 MiB free"))
    }

    @Test("previous data on an unreachable member: wait, do not create an empty directory elsewhere")
    func previousOnUnreachable_waits() {
        let d = decide([view("a"), view("b", available: false)], [empty("a")], previous: "b")
        guard case .wait(let member, let why) = d else { Issue.record("unexpected \(d)"); return }
        #expect(member == "b" && why.contains("unreachable"))
        // Reachable previous member without the directory: normal placement.
        #expect(decide([view("a"), view("b")], [empty("a"), empty("b")], previous: "b") == .place(member: "a", path: .primary, action: .create, reason: .ring))
    }

    @Test("no member can take it: fail with every reason")
    func noMember_fails() {
        let d = decide([view("a", active: false), view("b", available: false)], [])
        guard case .fail(let why) = d else { Issue.record("unexpected \(d)"); return }
        #expect(why.contains("a: draining") && why.contains("b: timed out"))
        #expect(decide([], []) == .fail(why: "no NFS servers are configured"))
    }
}
