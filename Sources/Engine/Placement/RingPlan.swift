public import RingCore
import KubeRuntime
import VolumeStorage

/// What a proposed ring change does to a set of claims: the planning tool behind
/// `nfs-cluster-provisioner ring plan`. Computed before anything changes.
public struct RingPlan: Sendable {
    /// Per member: claims now, claims after, and the flows.
    public struct MemberChange: Sendable, Hashable {
        public var member: String
        public var claimsBefore: Int
        public var claimsAfter: Int
        public var movingOut: Int
        public var movingIn: Int
        /// Exact share of the hash space before and after (nil if not on that ring).
        public var shareBefore: Double?
        public var shareAfter: Double?
    }

    public var report: RemapReport
    public var members: [MemberChange]
    /// Exact fraction of the hash space that changes member (nil across hashes).
    public var hashSpaceMoved: Double?

    /// Plans moving from `current` to `proposed` for claims given by their ring keys.
    public init(current: RingSnapshot, proposed: RingSnapshot, keys: [String]) throws(RingError) {
        report = try current.remap(to: proposed, keys: keys, keepKeys: true)
        var before: [String: Int] = [:], after: [String: Int] = [:], out: [String: Int] = [:], into: [String: Int] = [:]
        for key in keys {
            before[try current.locate(key).name, default: 0] += 1
            after[try proposed.locate(key).name, default: 0] += 1
        }
        for move in report.moves {
            out[move.from, default: 0] += move.count
            into[move.to, default: 0] += move.count
        }
        let sharesBefore = Dictionary(uniqueKeysWithValues: current.ownership().map { ($0.member.name, $0.share) })
        let sharesAfter = Dictionary(uniqueKeysWithValues: proposed.ownership().map { ($0.member.name, $0.share) })
        var names = current.members.map(\.name)
        for m in proposed.members where current.index(of: m.name) == nil { names.append(m.name) }
        members = names.map { name in
            MemberChange(member: name, claimsBefore: before[name] ?? 0, claimsAfter: after[name] ?? 0,
                         movingOut: out[name] ?? 0, movingIn: into[name] ?? 0,
                         shareBefore: sharesBefore[name], shareAfter: sharesAfter[name])
        }
        hashSpaceMoved = current.remapShare(to: proposed)
    }
}
