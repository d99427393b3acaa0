// The PV binder's indexes and work queue, kept in step with the store.
//
// kube-controller-manager's binder works from informer caches with indexes and a work
// queue of the claims and volumes that changed (KK pkg/controller/volume/persistentvolume/
// pv_controller_base.go: claimQueue/volumeQueue; index.go: the volume index by access
// modes). Here the store calls `BinderIndex.apply` under its lock for every PVC, PV and
// StorageClass write, so the indexes are never behind the store, and every change queues
// the objects whose sync could now come out differently.

/// What the binder must look at again.
struct BinderWork: Hashable, Sendable {
    var resource: ResourceType
    var key: ObjectKey

    static func claim(_ key: ObjectKey) -> BinderWork { BinderWork(resource: .persistentVolumeClaims, key: key) }
    static func volume(_ name: String) -> BinderWork { BinderWork(resource: .persistentVolumes, key: ObjectKey(namespace: "", name: name)) }
}

/// Indexes over claims and volumes, and the queue of objects to sync, in first-changed order.
struct BinderIndex {
    /// An unclaimed volume as the matcher orders them: smallest first, then by name (the
    /// order a full scan in name order keeping the strictly smallest fit would choose).
    struct Sized: Comparable, Hashable {
        var capacity: Quantity
        var name: String

        static func < (a: Sized, b: Sized) -> Bool {
            a.capacity != b.capacity ? a.capacity < b.capacity : a.name < b.name
        }
    }

    /// Volume names by the claim their `spec.claimRef` names (namespace/name; any uid).
    private(set) var volumesByClaim: [ObjectKey: Set<String>] = [:]
    /// Volumes without a claimRef, by class, sorted by ``Sized``. Volumes whose capacity
    /// does not parse are left out (they never match).
    private(set) var unclaimedByClass: [String: [Sized]] = [:]
    /// Claim keys by `spec.volumeName`.
    private(set) var claimsByVolume: [String: Set<ObjectKey>] = [:]
    /// Claims without `bind-completed`, by class: what a new volume or a class change may unblock.
    private(set) var unboundClaimsByClass: [String: Set<ObjectKey>] = [:]

    /// Queued work in order, without duplicates.
    private(set) var queue: [BinderWork] = []
    private var queued: Set<BinderWork> = []
    /// Whether changes queue work (only while the controller loop runs; a full pass covers
    /// everything otherwise).
    var queuesWork = false

    // MARK: Queue

    mutating func enqueue(_ work: BinderWork) {
        guard queuesWork, queued.insert(work).inserted else { return }
        queue.append(work)
    }

    /// Takes everything queued so far.
    mutating func takeQueue() -> [BinderWork] {
        defer {
            queue.removeAll(keepingCapacity: true)
            queued.removeAll(keepingCapacity: true)
        }
        return queue
    }

    // MARK: Lookups

    /// Volumes whose claimRef names the claim, in name order.
    func volumes(namingClaim key: ObjectKey) -> [String] {
        (volumesByClaim[key] ?? []).sorted()
    }

    /// Unclaimed volumes of a class with at least `capacity`, smallest first.
    func unclaimedVolumes(className: String, atLeast capacity: Quantity) -> ArraySlice<Sized> {
        guard let sorted = unclaimedByClass[className] else { return [] }
        return sorted[Self.firstIndex(in: sorted) { $0.capacity >= capacity }...]
    }

    // MARK: Changes

    /// Records a change of a PVC, PV or StorageClass (`old` nil: created; `new` nil:
    /// deleted) and queues what it affects.
    mutating func apply(_ resource: ResourceType, _ key: ObjectKey, old: JSONValue?, new: JSONValue?) {
        switch resource {
        case .persistentVolumeClaims:
            if let old { removeClaim(key, old) }
            if let new { addClaim(key, new) }
            enqueue(.claim(key))
            for claim in [old, new].compactMap(\.self) {
                if let volumeName = claim.string(at: "spec", "volumeName"), !volumeName.isEmpty { enqueue(.volume(volumeName)) }
            }
            // A deleted or re-created claim: the volumes naming it are Released (or not).
            for name in volumes(namingClaim: key) { enqueue(.volume(name)) }
        case .persistentVolumes:
            if let old { removeVolume(key.name, old) }
            if let new { addVolume(key.name, new) }
            enqueue(.volume(key.name))
            for volume in [old, new].compactMap(\.self) {
                if let ref = Self.claimRefKey(volume) { enqueue(.claim(ref)) }
                if Self.claimRefKey(volume) == nil {
                    // An unclaimed volume may now fit a pending claim of its class.
                    for claim in (unboundClaimsByClass[VolumeMatching.volumeClass(volume)] ?? []).sorted() { enqueue(.claim(claim)) }
                }
            }
            // Claims bound to it (it may be gone: Lost).
            for claim in (claimsByVolume[key.name] ?? []).sorted() { enqueue(.claim(claim)) }
        case .storageClasses:
            for claim in (unboundClaimsByClass[key.name] ?? []).sorted() { enqueue(.claim(claim)) }
        case .leases, .events, .eventsV1, .pods:
            break
        }
    }

    /// The claim `spec.claimRef` names, when it names one (a null or absent ref does not).
    static func claimRefKey(_ volume: JSONValue) -> ObjectKey? {
        guard let ref = volume[path: ["spec", "claimRef"]], ref.objectValue != nil else { return nil }
        return ObjectKey(namespace: ref["namespace"]?.stringValue ?? "", name: ref["name"]?.stringValue ?? "")
    }

    /// Whether the volume has no claimRef at all (null counts as none).
    static func isUnclaimed(_ volume: JSONValue) -> Bool {
        guard let ref = volume[path: ["spec", "claimRef"]] else { return true }
        return ref.isNull
    }

    private mutating func addClaim(_ key: ObjectKey, _ claim: JSONValue) {
        if let volumeName = claim.string(at: "spec", "volumeName"), !volumeName.isEmpty {
            claimsByVolume[volumeName, default: []].insert(key)
        }
        if claim.annotations[Annotations.bindCompleted] == nil {
            unboundClaimsByClass[VolumeMatching.claimClass(claim), default: []].insert(key)
        }
    }

    private mutating func removeClaim(_ key: ObjectKey, _ claim: JSONValue) {
        if let volumeName = claim.string(at: "spec", "volumeName"), !volumeName.isEmpty {
            Self.remove(key, at: volumeName, from: &claimsByVolume)
        }
        if claim.annotations[Annotations.bindCompleted] == nil {
            Self.remove(key, at: VolumeMatching.claimClass(claim), from: &unboundClaimsByClass)
        }
    }

    private mutating func addVolume(_ name: String, _ volume: JSONValue) {
        if let ref = Self.claimRefKey(volume) {
            volumesByClaim[ref, default: []].insert(name)
        } else if Self.isUnclaimed(volume), let capacity = VolumeMatching.capacity(volume) {
            let entry = Sized(capacity: capacity, name: name)
            var sorted = unclaimedByClass[VolumeMatching.volumeClass(volume)] ?? []
            sorted.insert(entry, at: Self.firstIndex(in: sorted) { $0 >= entry })
            unclaimedByClass[VolumeMatching.volumeClass(volume)] = sorted
        }
    }

    private mutating func removeVolume(_ name: String, _ volume: JSONValue) {
        if let ref = Self.claimRefKey(volume) {
            Self.remove(name, at: ref, from: &volumesByClaim)
        } else if Self.isUnclaimed(volume), let capacity = VolumeMatching.capacity(volume) {
            let className = VolumeMatching.volumeClass(volume)
            guard var sorted = unclaimedByClass[className] else { return }
            let entry = Sized(capacity: capacity, name: name)
            let index = Self.firstIndex(in: sorted) { $0 >= entry }
            if index < sorted.endIndex, sorted[index] == entry { sorted.remove(at: index) }
            unclaimedByClass[className] = sorted.isEmpty ? nil : sorted
        }
    }

    private static func remove<K: Hashable, V: Hashable>(_ value: V, at key: K, from index: inout [K: Set<V>]) {
        guard var set = index[key] else { return }
        set.remove(value)
        index[key] = set.isEmpty ? nil : set
    }

    /// The first index whose element satisfies `predicate` (false for a prefix, then true).
    private static func firstIndex(in sorted: [Sized], where predicate: (Sized) -> Bool) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if predicate(sorted[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
