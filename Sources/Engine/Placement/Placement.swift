/// Where a new claim's directory goes: a pure decision over what the members reported,
/// so every rule is a unit test without I/O.
///
/// The rules, in order (issue 4, "Placement"):
/// 1. **An existing directory for this claim wins**, on any member, whatever the ring says:
///    a directory whose marker names this claim's uid (a crash between mkdir and saving
///    the PV), then one whose marker names the same namespace and claim name (a
///    re-created StatefulSet claim: it finds its data even after the ring changed), then a
///    marker-less directory at the claim's own path (data of the original Go provisioner,
///    which wrote no markers). Draining or full members still win here: the data is there.
/// 2. If a previous volume of this claim name is recorded on a member that cannot be
///    reached now, **wait** for it rather than create an empty directory elsewhere.
/// 3. Otherwise walk the ring's candidates: the first member that is active (not
///    draining), healthy and above the free-space threshold takes it ("ring" when it is
///    the first candidate, "spill-over" when earlier ones were skipped, each with why).
///    On that member the claim's path is used, or the collision-free alternative when the
///    path holds another claim's directory (`team-a`/`db` vs `team`/`a-db`).
/// 4. No member can: fail, naming each member's reason.
import KubeRuntime
public import VolumeStorage
public enum Placement {
    /// What placement knows about one member.
    public struct MemberView: Sendable, Hashable {
        public var name: String
        /// Not draining.
        public var active: Bool
        /// Healthy enough to take calls; false = unreachable, not inspected.
        public var available: Bool
        /// Why it is unavailable (for events), if it is.
        public var unavailableReason: String?
        /// Free bytes, if known.
        public var freeBytes: UInt64?

        public init(name: String, active: Bool, available: Bool, unavailableReason: String? = nil, freeBytes: UInt64? = nil) {
            self.name = name
            self.active = active
            self.available = available
            self.unavailableReason = unavailableReason
            self.freeBytes = freeBytes
        }
    }

    /// What one available member holds at the claim's path and at its alternative path.
    public struct Inspection: Sendable, Hashable {
        public var member: String
        public var primary: MemberStorage.VolumeState
        public var alternative: MemberStorage.VolumeState

        public init(member: String, primary: MemberStorage.VolumeState, alternative: MemberStorage.VolumeState) {
            self.member = member
            self.primary = primary
            self.alternative = alternative
        }
    }

    /// The claim being placed.
    public struct Claim: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var uid: String

        public init(namespace: String, name: String, uid: String) {
            self.namespace = namespace
            self.name = name
            self.uid = uid
        }
    }

    public enum PathChoice: Sendable, Hashable {
        /// The path the StorageClass's pattern renders.
        case primary
        /// The collision-free alternative (another claim holds the primary path).
        case alternative
    }

    public enum Action: Sendable, Hashable {
        /// The directory is already this claim's (marker with its uid).
        case alreadyOurs
        /// Take over an existing directory, replacing its marker (nil = it had none).
        case adopt(replacing: OwnershipMarker?)
        /// Make a new directory.
        case create
    }

    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// An existing directory of this claim (see the type's rule 1).
        case reuse
        /// The ring's first choice.
        case ring
        /// Earlier candidates could not take it; each with why.
        case spillOver(skipped: [String])

        public var description: String {
            switch self {
            case .reuse: return "reuse of this claim's existing directory"
            case .ring: return "ring"
            case .spillOver(let skipped): return "spill-over (\(skipped.joined(separator: "; ")))"
            }
        }
    }

    public enum Decision: Sendable, Hashable {
        case place(member: String, path: PathChoice, action: Action, reason: Reason)
        /// Retry later: the claim's previous data is on a member that cannot be reached.
        case wait(member: String, why: String)
        /// No member can take the claim now; each member's reason.
        case fail(why: String)
    }

    /// Decides. `candidates` in ring order (all members); `inspections` for the members that
    /// were available; `previousMember` = the member recorded on an existing PV of a claim
    /// with the same namespace and name, if any.
    public static func decide(
        claim: Claim, candidates: [MemberView], inspections: [Inspection],
        previousMember: String?, minFreeBytes: UInt64
    ) -> Decision {
        let byMember = Dictionary(inspections.map { ($0.member, $0) }, uniquingKeysWith: { a, _ in a })
        let ordered = candidates.compactMap { byMember[$0.name] }

        // Rule 1: existing directories, strongest evidence first.
        for choice in [PathChoice.primary, .alternative] {
            for i in ordered {
                if case .present(let m) = state(i, choice), m.claimUID == claim.uid {
                    return .place(member: i.member, path: choice, action: .alreadyOurs, reason: .reuse)
                }
            }
        }
        for choice in [PathChoice.primary, .alternative] {
            for i in ordered {
                if case .present(let m) = state(i, choice), m.claimNamespace == claim.namespace, m.claimName == claim.name {
                    return .place(member: i.member, path: choice, action: .adopt(replacing: m), reason: .reuse)
                }
            }
        }
        for i in ordered where i.primary == .presentWithoutMarker {
            return .place(member: i.member, path: .primary, action: .adopt(replacing: nil), reason: .reuse)
        }

        // Rule 2: the previous data's member is unreachable: wait for it.
        if let previous = previousMember, let view = candidates.first(where: { $0.name == previous }), !view.available {
            return .wait(member: previous, why: "the previous volume of \(claim.namespace)/\(claim.name) is on member \(previous), which is unreachable (\(view.unavailableReason ?? "unhealthy")); waiting for it rather than creating an empty directory elsewhere")
        }

        // Rule 3: the ring's candidates.
        var skipped: [String] = []
        for member in candidates {
            if !member.active {
                skipped.append("\(member.name): draining")
                continue
            }
            guard member.available, let inspection = byMember[member.name] else {
                skipped.append("\(member.name): \(member.unavailableReason ?? "unavailable")")
                continue
            }
            if let free = member.freeBytes, free < minFreeBytes {
                skipped.append("\(member.name): \(formatBytes(free)) free, below the \(formatBytes(minFreeBytes)) threshold")
                continue
            }
            let reason: Reason = skipped.isEmpty ? .ring : .spillOver(skipped: skipped)
            if inspection.primary == .absent {
                return .place(member: member.name, path: .primary, action: .create, reason: reason)
            }
            if inspection.alternative == .absent {
                return .place(member: member.name, path: .alternative, action: .create, reason: reason)
            }
            skipped.append("\(member.name): both the path and its alternative hold other claims' directories")
        }
        if candidates.isEmpty { return .fail(why: "no NFS servers are configured") }
        return .fail(why: "no member can take new volumes: " + skipped.joined(separator: "; "))
    }

    private static func state(_ i: Inspection, _ choice: PathChoice) -> MemberStorage.VolumeState {
        choice == .primary ? i.primary : i.alternative
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
