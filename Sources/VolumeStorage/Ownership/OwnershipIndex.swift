// One member's ownership records, in memory: what placement and deletion consult.
import Synchronization

/// The ownership records of one member, kept in memory so that placing a claim reads no
/// member's filesystem but the chosen one.
///
/// Filled by one listing when the member joins (``MemberStorage/loadRecords()``), kept
/// current by the member's own writes, and re-listed on a resync period. A listing that
/// runs while the member writes keeps the writes made meanwhile (``beginLoad()``,
/// ``finishLoad(_:)``), so a refresh never forgets a record just written.
///
/// It is an index, not the truth: the record files are. Every write on the member checks
/// the file under the path lock, so a stale index can make a decision fail and be made
/// again, never make a wrong one.
package final class OwnershipIndex: Sendable {
    /// What stands in the way of a new volume at a path.
    package enum Conflict: Sendable, Hashable {
        /// A record holds the path itself.
        case held(OwnershipRecord)
        /// The path lies inside this volume.
        case insideVolume(OwnershipRecord)
        /// Volumes (this many) lie inside the path.
        case containsVolumes(Int)
        /// A directory is there that no record names (made by hand, or by someone else):
        /// never adopted.
        case unrecordedDirectory
    }

    private struct State {
        var records: [RelativePath: OwnershipRecord] = [:]
        /// Records strictly below each directory that has any.
        var beneath: [RelativePath: Int] = [:]
        var byUID: [String: Set<RelativePath>] = [:]
        var byName: [String: Set<RelativePath>] = [:]
        /// Paths a create found occupied without a record.
        var unrecorded: Set<RelativePath> = []
        var loaded = false
        var loading = false
        var loadError: StorageError?
        /// Paths written while a listing ran.
        var touched: Set<RelativePath> = []
        /// Where the claims this index holds records of are announced (see ``attach(to:as:)``).
        var attachment: ClaimLocator.Holder?
    }

    private let state = Mutex(State())

    package init() {}

    /// True once a listing has completed.
    package var isLoaded: Bool { state.withLock { $0.loaded } }

    package var count: Int { state.withLock { $0.records.count } }

    /// Why the last listing failed, until one succeeds.
    package var loadError: StorageError? { state.withLock { $0.loadError } }

    /// Every record (a copy).
    package var all: [OwnershipRecord] { state.withLock { Array($0.records.values) } }

    package func record(at path: RelativePath) -> OwnershipRecord? {
        state.withLock { $0.records[path] }
    }

    /// The volume records of this claim uid.
    package func records(claimUID uid: String) -> [OwnershipRecord] {
        state.withLock { s in (s.byUID[uid] ?? []).compactMap { s.records[$0] } }
    }

    /// The volume records of claims with this namespace and name (any uid).
    package func records(namespace: String, name: String) -> [OwnershipRecord] {
        state.withLock { s in (s.byName[Self.nameKey(namespace, name)] ?? []).compactMap { s.records[$0] } }
    }

    /// Why a new volume of the claim `claimUID` cannot go to `path`, or `nil` when nothing
    /// known is in the way: a record of that claim's own volume at the path is no conflict
    /// (a retry), nor are parents of `path` recorded as ``OwnershipRecord/Kind/parent``.
    package func conflict(at path: RelativePath, forClaimUID claimUID: String) -> Conflict? {
        let found = conflict(at: path)
        if case .held(let r)? = found, r.kind == .volume, r.claimUID == claimUID { return nil }
        return found
    }

    /// What is known to be in the way at `path`, or `nil`. Parents of `path` recorded as
    /// ``OwnershipRecord/Kind/parent`` are no conflict.
    package func conflict(at path: RelativePath) -> Conflict? {
        state.withLock { s in
            if let held = s.records[path] { return .held(held) }
            var ancestor = path.parent
            while let a = ancestor, !a.isRoot {
                if let r = s.records[a], r.kind == .volume { return .insideVolume(r) }
                ancestor = a.parent
            }
            let inside = Self.volumes(inside: path, s).count
            if inside > 0 { return .containsVolumes(inside) }
            if s.unrecorded.contains(path) { return .unrecordedDirectory }
            return nil
        }
    }

    /// Volume records strictly inside `path`.
    package func volumes(inside path: RelativePath) -> [OwnershipRecord] {
        state.withLock { Self.volumes(inside: path, $0) }
    }

    /// The scan runs only for a directory some record lies below (``State/beneath``).
    private static func volumes(inside path: RelativePath, _ s: State) -> [OwnershipRecord] {
        guard let n = s.beneath[path], n > 0 else { return [] }
        return s.records.values.filter { $0.kind == .volume && $0.path != path && $0.path.isWithin(path) }
    }

    /// Announces to `locator`, as `member`, every claim this index holds volume records of,
    /// now and as records come and go, until ``detach()``: placement then asks the locator
    /// which members to consult for a claim instead of asking every member.
    package func attach(to locator: ClaimLocator, as member: String) {
        state.withLock { s in
            if let previous = s.attachment { Self.announce(s, to: previous, present: false) }
            let holder = ClaimLocator.Holder(locator: locator, index: ObjectIdentifier(self), member: member)
            s.attachment = holder
            Self.announce(s, to: holder, present: true)
        }
    }

    /// Withdraws everything announced (the member was removed or replaced).
    package func detach() {
        state.withLock { s in
            if let holder = s.attachment { Self.announce(s, to: holder, present: false) }
            s.attachment = nil
        }
    }

    private static func announce(_ s: State, to holder: ClaimLocator.Holder, present: Bool) {
        holder.locator.update(holder, uids: Array(s.byUID.keys), names: Array(s.byName.keys), present: present)
    }

    /// Adds or replaces a record.
    package func put(_ record: OwnershipRecord) {
        state.withLock { s in
            Self.insert(record, into: &s)
            if s.loading { s.touched.insert(record.path) }
        }
    }

    /// Forgets the record at `path`.
    package func remove(_ path: RelativePath) {
        state.withLock { s in
            Self.delete(path, from: &s)
            if s.loading { s.touched.insert(path) }
        }
    }

    /// Remembers that `path` is occupied by a directory without record (or forgets it).
    package func markUnrecorded(_ path: RelativePath, _ occupied: Bool = true) {
        state.withLock { s in
            if occupied { s.unrecorded.insert(path) } else { s.unrecorded.remove(path) }
        }
    }

    /// A listing starts: writes from now on are kept over what it finds.
    package func beginLoad() {
        state.withLock { s in
            s.loading = true
            s.touched = []
        }
    }

    /// A listing finished with `records`: they replace the index, except for the paths
    /// written since ``beginLoad()``, whose current state is kept.
    package func finishLoad(_ records: [OwnershipRecord]) {
        state.withLock { s in
            var next = State()
            for record in records where !s.touched.contains(record.path) { Self.insert(record, into: &next) }
            for path in s.touched { if let current = s.records[path] { Self.insert(current, into: &next) } }
            if let holder = s.attachment {
                // Announce only what the listing changed.
                let uids = (old: Set(s.byUID.keys), new: Set(next.byUID.keys))
                let names = (old: Set(s.byName.keys), new: Set(next.byName.keys))
                holder.locator.update(holder, uids: Array(uids.old.subtracting(uids.new)),
                                      names: Array(names.old.subtracting(names.new)), present: false)
                holder.locator.update(holder, uids: Array(uids.new.subtracting(uids.old)),
                                      names: Array(names.new.subtracting(names.old)), present: true)
                next.attachment = holder
            }
            next.unrecorded = s.unrecorded
            next.loaded = true
            next.loadError = nil
            s = next
        }
    }

    /// A listing failed: the index keeps what it had.
    package func abandonLoad(_ error: StorageError) {
        state.withLock { s in
            s.loadError = error
            s.loading = false
            s.touched = []
        }
    }

    static func nameKey(_ namespace: String, _ name: String) -> String { namespace + "/" + name }

    private static func insert(_ record: OwnershipRecord, into s: inout State) {
        if s.records[record.path] != nil { delete(record.path, from: &s) }
        s.records[record.path] = record
        s.unrecorded.remove(record.path)
        var ancestor = record.path.parent
        while let a = ancestor, !a.isRoot {
            s.beneath[a, default: 0] += 1
            ancestor = a.parent
        }
        if let claim = record.claim, record.kind == .volume {
            let key = nameKey(claim.namespace, claim.name)
            let newUID = s.byUID[claim.uid] == nil, newName = s.byName[key] == nil
            s.byUID[claim.uid, default: []].insert(record.path)
            s.byName[key, default: []].insert(record.path)
            if let holder = s.attachment, newUID || newName {
                holder.locator.update(holder, uids: newUID ? [claim.uid] : [], names: newName ? [key] : [], present: true)
            }
        }
    }

    private static func delete(_ path: RelativePath, from s: inout State) {
        guard let old = s.records.removeValue(forKey: path) else { return }
        var ancestor = path.parent
        while let a = ancestor, !a.isRoot {
            s.beneath[a, default: 1] -= 1
            if s.beneath[a] ?? 0 <= 0 { s.beneath[a] = nil }
            ancestor = a.parent
        }
        if let claim = old.claim, old.kind == .volume {
            s.byUID[claim.uid]?.remove(path)
            let goneUID = s.byUID[claim.uid]?.isEmpty == true
            if goneUID { s.byUID[claim.uid] = nil }
            let key = nameKey(claim.namespace, claim.name)
            s.byName[key]?.remove(path)
            let goneName = s.byName[key]?.isEmpty == true
            if goneName { s.byName[key] = nil }
            if let holder = s.attachment, goneUID || goneName {
                holder.locator.update(holder, uids: goneUID ? [claim.uid] : [], names: goneName ? [key] : [], present: false)
            }
        }
    }
}
