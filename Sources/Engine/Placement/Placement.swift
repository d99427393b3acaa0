package import VolumeStorage

/// Where a new claim's directory goes: a pure decision over what the engine keeps in
/// memory (the members' ownership records, health and free space), so every rule is a
/// unit test without I/O, and placing a claim reads no member's filesystem.
///
/// The rules, in order:
/// 1. **An existing directory for this claim wins**, on any member, whatever the ring says:
///    one whose ownership record names this claim's uid (a crash between the record and
///    the PV), then one whose record names the same namespace and claim name (a re-created
///    StatefulSet claim finds its data even after the ring changed) at the path this claim
///    renders or its alternative. Draining or full members still win here: the data is
///    there. If that member cannot be reached now: **wait**.
/// 2. If a previous volume of this claim name is recorded (by a PV) on a member that cannot
///    be reached now, **wait** for it rather than create an empty directory elsewhere.
/// 3. Otherwise walk the ring's candidates: the first member that is active (not
///    draining), healthy, has its records loaded, and has a known free space above the
///    threshold takes it ("ring" when it is the first candidate, "spill-over" when earlier
///    ones were skipped, each with why). On that member the claim's path is used, or the
///    collision-free alternative when the path is taken (another claim's record, a parent
///    of nested volumes, a directory no record names, or it would nest into a volume):
///    `team-a/db` and `team/a-db` are kept apart.
/// 4. No member can: fail, naming each member's reason.
///
/// Only records count as evidence: nothing inside a volume directory (which its tenant
/// controls) can steer a decision.
public enum Placement {
    /// What placement knows about one member (from memory, never from its export).
    package struct MemberView: Sendable, Hashable {
        package var name: String
        /// Not draining.
        package var active: Bool
        /// Healthy enough to take calls, with its ownership records loaded.
        package var available: Bool
        /// Why it is unavailable (for events), if it is.
        package var unavailableReason: String?
        /// Free bytes, if known.
        package var freeBytes: UInt64?
        /// Why the free space is not known (the last reading's error, or "not measured yet").
        package var freeSpaceProblem: String?

        package init(name: String, active: Bool, available: Bool, unavailableReason: String? = nil,
                    freeBytes: UInt64? = nil, freeSpaceProblem: String? = nil) {
            self.name = name
            self.active = active
            self.available = available
            self.unavailableReason = unavailableReason
            self.freeBytes = freeBytes
            self.freeSpaceProblem = freeSpaceProblem
        }
    }

    /// A record of this claim (same uid) or of an earlier claim with its namespace and
    /// name, and the member holding it.
    package struct Existing: Sendable, Hashable {
        package var member: String
        package var record: OwnershipRecord

        package init(member: String, record: OwnershipRecord) {
            self.member = member
            self.record = record
        }
    }

    /// The claim being placed and the paths its class renders.
    package struct Claim: Sendable, Hashable {
        package var namespace: String
        package var name: String
        package var uid: String
        package var primary: RelativePath
        package var alternative: RelativePath

        package init(namespace: String, name: String, uid: String, primary: RelativePath, alternative: RelativePath) {
            self.namespace = namespace
            self.name = name
            self.uid = uid
            self.primary = primary
            self.alternative = alternative
        }
    }

    package enum Action: Sendable, Hashable {
        /// The record already names this claim.
        case alreadyOurs
        /// Take over an earlier claim's volume of the same namespace and name.
        case adopt(previousUID: String)
        /// Make a new record and directory.
        case create
    }

    package enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// An existing directory of this claim (see the type's rule 1).
        case reuse
        /// The ring's first choice.
        case ring
        /// Earlier candidates could not take it; each with why.
        case spillOver(skipped: [String])

        package var description: String {
            switch self {
            case .reuse: return "reuse of this claim's existing directory"
            case .ring: return "ring"
            case .spillOver(let skipped): return "spill-over (\(skipped.joined(separator: "; ")))"
            }
        }
    }

    package enum Decision: Sendable, Hashable {
        case place(member: String, path: RelativePath, action: Action, reason: Reason)
        /// Retry later: the claim's data is on a member that cannot be reached.
        case wait(member: String, why: String)
        /// No member can take the claim now; each member's reason.
        case fail(why: String)
    }

    /// Decides.
    /// - Parameters:
    ///   - candidates: members in ring order (the first few, or all).
    ///   - existing: records naming this claim's uid or its namespace and name, on any
    ///     member.
    ///   - views: what is known of the members `existing` and `previousMember` name, when
    ///     they are not among `candidates`.
    ///   - isTaken: whether the member's records say a path cannot take a new volume.
    ///   - previousMember: the member recorded on another PV of a claim with the same
    ///     namespace and name, if any.
    package static func decide(
        claim: Claim, candidates: [MemberView], existing: [Existing], views: [MemberView] = [],
        isTaken: (_ member: String, _ path: RelativePath) -> Bool,
        previousMember: String?, minFreeBytes: UInt64
    ) -> Decision {
        var known: [String: MemberView] = [:]
        for view in views + candidates { known[view.name] = view }
        func reachable(_ member: String) -> (Bool, String) {
            guard let view = known[member] else { return (false, "not configured") }
            return (view.available, view.unavailableReason ?? "unhealthy")
        }

        // Rule 1: this claim's own record, then an earlier claim's of the same name.
        let own = existing.filter { $0.record.kind == .volume && $0.record.claimUID == claim.uid }
        let earlier = existing.filter {
            guard $0.record.kind == .volume, let owner = $0.record.claim, owner.uid != claim.uid else { return false }
            return owner.namespace == claim.namespace && owner.name == claim.name
                && ($0.record.path == claim.primary || $0.record.path == claim.alternative)
        }.sorted { ($0.record.path == claim.primary ? 0 : 1, $0.record.updatedAt) < ($1.record.path == claim.primary ? 0 : 1, $1.record.updatedAt) }
        for (found, action) in own.map({ ($0, Action.alreadyOurs) }) + earlier.map({ ($0, Action.adopt(previousUID: $0.record.claimUID)) }) {
            let (ok, why) = reachable(found.member)
            guard ok else {
                return .wait(member: found.member, why: "the volume \(found.record.path) of \(claim.namespace)/\(claim.name) is on member \(found.member), which is unreachable (\(why)); waiting for it rather than creating an empty directory elsewhere")
            }
            return .place(member: found.member, path: found.record.path, action: action, reason: .reuse)
        }

        // Rule 2: the previous data's member (from the PVs) is unreachable: wait for it.
        if let previous = previousMember, known[previous] != nil, case (false, let why) = reachable(previous) {
            return .wait(member: previous, why: "the previous volume of \(claim.namespace)/\(claim.name) is on member \(previous), which is unreachable (\(why)); waiting for it rather than creating an empty directory elsewhere")
        }

        // Rule 3: the ring's candidates.
        var skipped: [String] = []
        for member in candidates {
            if !member.active {
                skipped.append("\(member.name): draining")
                continue
            }
            guard member.available else {
                skipped.append("\(member.name): \(member.unavailableReason ?? "unavailable")")
                continue
            }
            guard let free = member.freeBytes else {
                skipped.append("\(member.name): free space unknown (\(member.freeSpaceProblem ?? "not measured yet"))")
                continue
            }
            if free < minFreeBytes {
                skipped.append("\(member.name): \(formatBytes(free)) free, below the \(formatBytes(minFreeBytes)) threshold")
                continue
            }
            let reason: Reason = skipped.isEmpty ? .ring : .spillOver(skipped: skipped)
            if !isTaken(member.name, claim.primary) {
                return .place(member: member.name, path: claim.primary, action: .create, reason: reason)
            }
            if !isTaken(member.name, claim.alternative) {
                return .place(member: member.name, path: claim.alternative, action: .create, reason: reason)
            }
            skipped.append("\(member.name): both the path and its alternative are taken")
        }
        if candidates.isEmpty { return .fail(why: "no NFS servers are configured") }
        return .fail(why: "no member can take new volumes: " + skipped.joined(separator: "; "))
    }

    /// Bytes for people: "512.0 MiB".
    public static func formatBytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(n)
        var u = 0
        while value >= 1024 && u < units.count - 1 {
            value /= 1024
            u += 1
        }
        return u == 0 ? "\(n) B" : String(format: "%.1f", value) + " " + units[u]
    }
}
