// Which members hold ownership records of a claim: the one question placement asks of
// every member, answered from one map.
import Synchronization

/// The members whose ownership records name a claim, by claim uid and by namespace and
/// name, kept up to date by the members' ``OwnershipIndex``es (``OwnershipIndex/attach(to:as:)``).
///
/// Placement needs the records of the claim it places wherever they are (a re-created
/// StatefulSet claim's data may be on any member). Asking every member's index costs a
/// lookup per member per claim; this answers with the few members that hold any, so the
/// cost of placing a claim does not grow with the number of members.
package final class ClaimLocator: Sendable {
    /// One index announcing as one member.
    package struct Holder: Sendable {
        let locator: ClaimLocator
        let index: ObjectIdentifier
        let member: String
    }

    private struct Key: Hashable {
        let index: ObjectIdentifier
        let member: String
    }

    private struct State {
        var byUID: [String: Set<Key>] = [:]
        var byName: [String: Set<Key>] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// The members holding volume records of the claim `uid`, or of any claim named
    /// `namespace`/`name`; sorted, without repeats.
    package func members(claimUID uid: String, namespace: String, name: String) -> [String] {
        state.withLock { s in
            let keys = (s.byUID[uid] ?? []).union(s.byName[OwnershipIndex.nameKey(namespace, name)] ?? [])
            return Set(keys.map(\.member)).sorted()
        }
    }

    /// How many claim uids are announced (for tests and metrics).
    package var claimCount: Int { state.withLock { $0.byUID.count } }

    /// Called by an index, under its own lock (the locator never calls back into an index).
    func update(_ holder: Holder, uids: [String], names: [String], present: Bool) {
        guard !uids.isEmpty || !names.isEmpty else { return }
        let key = Key(index: holder.index, member: holder.member)
        state.withLock { s in
            for uid in uids { Self.set(key, present, in: &s.byUID, at: uid) }
            for name in names { Self.set(key, present, in: &s.byName, at: name) }
        }
    }

    private static func set(_ key: Key, _ present: Bool, in map: inout [String: Set<Key>], at entry: String) {
        if present {
            map[entry, default: []].insert(key)
        } else {
            map[entry]?.remove(key)
            if map[entry]?.isEmpty == true { map[entry] = nil }
        }
    }
}
