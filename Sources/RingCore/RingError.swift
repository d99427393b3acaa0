/// Everything that can go wrong with a ring, each case naming what was wrong.
/// RingCore never traps on input: every bad configuration ends up here.
public enum RingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A lookup on a ring with no members.
    case emptyRing
    /// The member at this position of the list has an empty name.
    case emptyMemberName(position: Int)
    /// Two members share a name; names are ring identities and must be unique.
    case duplicateMemberName(String)
    /// Virtual nodes per member must be at least 1.
    case invalidVirtualNodeCount(Int)
    /// A member's weight must be at least 1.
    case invalidWeight(member: String, weight: Int)
    /// members × weights × virtual nodes exceeds ``RingConfiguration/maximumPoints``.
    case tooManyPoints(requested: Int, limit: Int)
    /// An operation named a member the ring does not have.
    case unknownMember(String)

    public var description: String {
        switch self {
        case .emptyRing:
            return "the ring has no members: add at least one server before placing volumes"
        case .emptyMemberName(let position):
            return "member #\(position + 1) has an empty name: every server needs a non-empty name"
        case .duplicateMemberName(let name):
            return "member \"\(name)\" is listed more than once: names identify servers on the ring and must be unique"
        case .invalidVirtualNodeCount(let count):
            return "virtual nodes per member must be at least 1, got \(count)"
        case .invalidWeight(let member, let weight):
            return "member \"\(member)\" has weight \(weight): weights must be integers of at least 1"
        case .tooManyPoints(let requested, let limit):
            return "the ring would need \(requested) points (members × weight × virtual nodes), more than the limit of \(limit): lower the virtual nodes or the weights"
        case .unknownMember(let name):
            return "the ring has no member named \"\(name)\""
        }
    }
}
