// The object store: one global revision counter, the objects, a bounded history, the watch
// subscribers. Everything that writes goes through `write`, under one lock, so revisions
// are assigned in order and every subscriber sees events in revision order.
//
// It models etcd as the apiserver sees it: `resourceVersion` is the global mod revision
// (CONV api-conventions "resourceVersion"), a no-op write keeps the revision and emits no
// event (AS storage/etcd3/store.go GuaranteedUpdate), the history is compacted (etcd keeps
// ~5 min; here a number of events).

import Synchronization

/// Thrown inside a store write to abort it with an API error.
typealias StoreResult<T> = Result<T, APIStatus>

final class ObjectStore: Sendable {
    /// What a write decided after seeing the current object.
    enum Decision {
        /// Write nothing; answer with this object.
        case keep(JSONValue)
        /// Store this object (its resourceVersion is replaced by the new revision).
        case put(JSONValue)
        /// Remove the object.
        case delete
    }

    /// What a write did.
    enum Outcome {
        /// Nothing was written (no-op or `keep`); the current object.
        case unchanged(JSONValue)
        /// The stored object with its new resourceVersion (or what would be stored, in a dry run).
        case written(JSONValue)
        /// The removed object, its resourceVersion set to the deletion revision.
        case deleted(JSONValue)

        var object: JSONValue {
            switch self {
            case .unchanged(let o), .written(let o), .deleted(let o): o
            }
        }
    }

    struct Subscription {
        var filter: ObjectFilter
        /// Only events with a revision above this one are delivered.
        var minRevision: Int64
        var continuation: AsyncStream<WatchSignal>.Continuation
    }

    struct State {
        var revision: Int64
        var objects: [ResourceType: [ObjectKey: JSONValue]] = [:]
        /// The keys of `objects` in key order (what the watch cache's sorted store gives the
        /// real server): a list page is found by binary search, not by sorting everything.
        var sortedKeys: [ResourceType: [ObjectKey]] = [:]
        var history: [HistoryEntry] = []
        /// Every change at or below this revision has been dropped from the history.
        var compactedRevision: Int64
        var subscriptions: [Int: Subscription] = [:]
        var listeners: [Int: (Set<ResourceType>?, AsyncStream<Int64>.Continuation)] = [:]
        var observers: [(resources: Set<ResourceType>, observer: Observer)] = []
        var nextID = 1
    }

    /// Told of every change of the resources it observes, under the store's lock and in
    /// revision order: `(resource, key, old, new)`, old nil for a creation, new nil for a
    /// deletion. It must be quick and must not call back into the store.
    typealias Observer = @Sendable (ResourceType, ObjectKey, JSONValue?, JSONValue?) -> Void

    let state: Mutex<State>
    let historyLimit: Int

    init(historyLimit: Int, initialRevision: Int64 = 1) {
        self.historyLimit = max(1, historyLimit)
        state = Mutex(State(revision: initialRevision, compactedRevision: initialRevision))
    }

    var currentRevision: Int64 { state.withLock { $0.revision } }
    var compactedRevision: Int64 { state.withLock { $0.compactedRevision } }

    func object(_ resource: ResourceType, _ key: ObjectKey) -> JSONValue? {
        state.withLock { $0.objects[resource]?[key] }
    }

    /// All objects of a resource, in key order, with the revision they were read at.
    func snapshot(_ resource: ResourceType) -> (revision: Int64, objects: [(ObjectKey, JSONValue)]) {
        state.withLock { state in
            let objects = (state.objects[resource] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            return (state.revision, objects)
        }
    }

    // MARK: Writes

    /// Runs `decide` on the current object under the store lock and applies its decision.
    ///
    /// Guarantees: revisions are strictly increasing and gap-free across all resources; an
    /// object equal to the stored one is not written (no revision, no event); subscribers get
    /// the event before the lock is released, so their streams are in revision order.
    func write(
        _ resource: ResourceType, _ key: ObjectKey, dryRun: Bool,
        _ decide: (JSONValue?) throws(APIStatus) -> Decision
    ) throws(APIStatus) -> Outcome {
        let result: StoreResult<(Outcome, [AsyncStream<Int64>.Continuation], Int64)> = state.withLock { state in
            let current = state.objects[resource]?[key]
            let decision: Decision
            do throws(APIStatus) {
                decision = try decide(current)
            } catch {
                return .failure(error)
            }
            switch decision {
            case .keep(let object):
                return .success((.unchanged(object), [], state.revision))
            case .put(var object):
                if let current, let currentRevision = current.resourceVersionNumber,
                    object.withResourceVersion(currentRevision) == current
                {
                    return .success((.unchanged(current), [], state.revision))
                }
                if dryRun {
                    if let currentRevision = current?.resourceVersionNumber {
                        object = object.withResourceVersion(currentRevision)
                    }
                    return .success((.written(object), [], state.revision))
                }
                state.revision += 1
                object = object.withResourceVersion(state.revision)
                state.objects[resource, default: [:]][key] = object
                if current == nil { Self.insertKey(key, resource, in: &state) }
                let entry = HistoryEntry(revision: state.revision, resource: resource, key: key,
                                         type: current == nil ? .added : .modified, object: object, previous: current)
                let listeners = Self.record(entry, in: &state, historyLimit: historyLimit)
                return .success((.written(object), listeners, state.revision))
            case .delete:
                guard let current else {
                    return .failure(.notFound(resource: resource.info.plural, group: resource.info.group, name: key.name))
                }
                if dryRun { return .success((.deleted(current), [], state.revision)) }
                state.revision += 1
                let last = current.withResourceVersion(state.revision)
                state.objects[resource]?[key] = nil
                Self.removeKey(key, resource, in: &state)
                let entry = HistoryEntry(revision: state.revision, resource: resource, key: key,
                                         type: .deleted, object: last, previous: current)
                let listeners = Self.record(entry, in: &state, historyLimit: historyLimit)
                return .success((.deleted(last), listeners, state.revision))
            }
        }
        switch result {
        case .failure(let error):
            throw error
        case .success(let (outcome, listeners, revision)):
            for listener in listeners { listener.yield(revision) }
            return outcome
        }
    }

    /// The first index of `keys` (sorted) whose key is above `key`, or at or above it with `inclusive`.
    static func firstIndex(in keys: [ObjectKey], after key: ObjectKey, inclusive: Bool = false) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if inclusive ? keys[middle] >= key : keys[middle] > key { high = middle } else { low = middle + 1 }
        }
        return low
    }

    static func insertKey(_ key: ObjectKey, _ resource: ResourceType, in state: inout State) {
        var keys = state.sortedKeys.removeValue(forKey: resource) ?? []
        keys.insert(key, at: firstIndex(in: keys, after: key, inclusive: true))
        state.sortedKeys[resource] = keys
    }

    static func removeKey(_ key: ObjectKey, _ resource: ResourceType, in state: inout State) {
        guard var keys = state.sortedKeys.removeValue(forKey: resource) else { return }
        let index = firstIndex(in: keys, after: key, inclusive: true)
        if index < keys.count, keys[index] == key { keys.remove(at: index) }
        state.sortedKeys[resource] = keys
    }

    /// Appends to the history (compacting past the limit) and fans the change out to
    /// subscribers. Returns the change listeners to notify once the lock is released.
    static func record(_ entry: HistoryEntry, in state: inout State, historyLimit: Int) -> [AsyncStream<Int64>.Continuation] {
        for (resources, observer) in state.observers where resources.contains(entry.resource) {
            // (Spelled out: `cond ? nil : object` would make the nil a JSON null.)
            let new: JSONValue? = entry.type == .deleted ? .none : .some(entry.object)
            observer(entry.resource, entry.key, entry.previous, new)
        }
        state.history.append(entry)
        if state.history.count > historyLimit + historyLimit / 4 {
            let drop = state.history.count - historyLimit
            state.compactedRevision = state.history[drop - 1].revision
            state.history.removeFirst(drop)
        }
        var overflowed: [Int] = []
        for (id, subscription) in state.subscriptions where subscription.filter.resource == entry.resource {
            guard entry.revision > subscription.minRevision,
                let event = Self.event(for: entry, filter: subscription.filter)
            else { continue }
            if case .dropped = subscription.continuation.yield(.event(event)) {
                // A watcher that cannot keep up is closed, as the apiserver's cacher does
                // (cache_watcher.go: "Forcing watcher close due to unresponsiveness").
                overflowed.append(id)
            }
        }
        for id in overflowed {
            state.subscriptions.removeValue(forKey: id)?.continuation.finish()
        }
        return state.listeners.values.compactMap { resources, continuation in
            resources.map { $0.contains(entry.resource) } ?? true ? continuation : nil
        }
    }

    /// The event a subscriber with `filter` sees for a change, if any. An object that stops
    /// matching the selector is seen as DELETED (its previous state at the change's revision);
    /// one that starts matching as ADDED (AS storage/cacher/cache_watcher.go convertToWatchEvent).
    static func event(for entry: HistoryEntry, filter: ObjectFilter) -> WatchEvent? {
        let newMatches = entry.type != .deleted && filter.matches(entry.object)
        let oldMatches = entry.previous.map(filter.matches) ?? false
        switch entry.type {
        case .deleted:
            return filter.matches(entry.object) ? WatchEvent(type: .deleted, object: entry.object) : nil
        case .added, .modified:
            switch (oldMatches, newMatches) {
            case (true, true): return WatchEvent(type: .modified, object: entry.object)
            case (false, true): return WatchEvent(type: .added, object: entry.object)
            case (true, false):
                guard let previous = entry.previous else { return nil }
                return WatchEvent(type: .deleted, object: previous.withResourceVersion(entry.revision))
            case (false, false): return nil
            }
        }
    }

    // MARK: History

    /// Drops the whole history: every watch or exact list from an older revision gets 410.
    func compact() {
        state.withLock { state in
            state.compactedRevision = state.revision
            state.history.removeAll()
        }
    }

    /// The objects of `filter.resource` as they were at `revision`, rebuilt by undoing newer
    /// history entries; nil when that revision has been compacted.
    func objects(matching filter: ObjectFilter, at revision: Int64?) -> (revision: Int64, objects: [(ObjectKey, JSONValue)])? {
        state.withLock { state in
            var objects = state.objects[filter.resource] ?? [:]
            let at = revision ?? state.revision
            if at < state.revision {
                guard at >= state.compactedRevision else { return nil }
                for entry in state.history.reversed() {
                    guard entry.revision > at else { break }
                    guard entry.resource == filter.resource else { continue }
                    switch entry.type {
                    case .added: objects[entry.key] = nil
                    case .modified, .deleted: objects[entry.key] = entry.previous
                    }
                }
            }
            let selected = objects.filter { filter.matches($0.value) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            return (min(at, state.revision), selected)
        }
    }

    /// One page of a list: the objects of `filter` as they were at `revision` (nil: now),
    /// in key order, after `after`, at most `limit`. Costs a binary search, the page, and
    /// the changes since `revision` (a past revision is the current state with the newer
    /// history undone for the keys it touched), not the whole resource. nil when `revision`
    /// has been compacted.
    ///
    /// - Returns: the page, whether more objects match after it, and (only meaningful for a
    ///   filter that selects everything) how many objects come after it.
    func page(matching filter: ObjectFilter, at revision: Int64?, after: ObjectKey?, limit: Int)
        -> (revision: Int64, items: [(ObjectKey, JSONValue)], more: Bool, remaining: Int)?
    {
        state.withLock { state in
            let at = min(revision ?? state.revision, state.revision)
            if at < state.revision && at < state.compactedRevision { return nil }
            let current = state.objects[filter.resource] ?? [:]
            let keys = state.sortedKeys[filter.resource] ?? []
            // The state at `at` of every key written since: the `previous` of its first later entry.
            var then: [ObjectKey: JSONValue?] = [:]
            if at < state.revision {
                var low = 0
                var high = state.history.count
                while low < high {
                    let middle = (low + high) / 2
                    if state.history[middle].revision > at { high = middle } else { low = middle + 1 }
                }
                for entry in state.history[low...] where entry.resource == filter.resource && then[entry.key] == nil {
                    then[entry.key] = .some(entry.previous)
                }
            }
            // Keys that existed then but are gone now, in order, to merge with the current keys.
            let gone = then.compactMap { key, old in old != nil && current[key] == nil ? key : nil }.sorted()
            func object(_ key: ObjectKey) -> JSONValue? {
                if let old = then[key] { return old }
                return current[key]
            }
            // Where to start: after `after`, and not before the filter's namespace.
            var start = after
            if let namespace = filter.namespace, filter.resource.info.namespaced {
                let first = ObjectKey(namespace: namespace, name: "")
                if start.map({ $0 < first }) ?? true { start = first }
            }
            let inclusive = start != nil && start != after
            var i = start.map { Self.firstIndex(in: keys, after: $0, inclusive: inclusive) } ?? 0
            var j = start.map { Self.firstIndex(in: gone, after: $0, inclusive: inclusive) } ?? 0
            var items: [(ObjectKey, JSONValue)] = []
            var more = false
            while i < keys.count || j < gone.count {
                let key: ObjectKey
                if j >= gone.count || (i < keys.count && keys[i] < gone[j]) {
                    key = keys[i]
                    i += 1
                } else {
                    key = gone[j]
                    j += 1
                }
                if let namespace = filter.namespace, filter.resource.info.namespaced, key.namespace != namespace { break }
                guard let value = object(key), filter.matches(value) else { continue }
                if items.count >= limit {
                    more = true
                    break
                }
                items.append((key, value))
            }
            // How many objects come after the page (for remainingItemCount): the current keys
            // after it (within the namespace), corrected for the keys written since `at`.
            var remaining = 0
            if more {
                let boundary = items.last?.0 ?? after
                let namespace = filter.resource.info.namespaced ? filter.namespace : nil
                func inRange(_ key: ObjectKey) -> Bool {
                    (boundary.map { key > $0 } ?? true) && (namespace.map { key.namespace == $0 } ?? true)
                }
                var low = boundary.map { Self.firstIndex(in: keys, after: $0) } ?? 0
                if let namespace { low = max(low, Self.firstIndex(in: keys, after: ObjectKey(namespace: namespace, name: ""), inclusive: true)) }
                var high = keys.count
                if let namespace {
                    // The first key of a later namespace.
                    var a = low
                    var b = keys.count
                    while a < b {
                        let middle = (a + b) / 2
                        if keys[middle].namespace > namespace { b = middle } else { a = middle + 1 }
                    }
                    high = a
                }
                remaining = max(0, high - low)
                for (key, old) in then where inRange(key) {
                    remaining += (old != nil ? 1 : 0) - (current[key] != nil ? 1 : 0)
                }
            }
            return (at, items, more, remaining)
        }
    }

    // MARK: Change listeners

    /// Registers an observer (for good: the controllers live as long as the store). It is
    /// first told of every current object of `resources` as created, then of every change.
    func observe(_ resources: Set<ResourceType>, _ observer: @escaping Observer) {
        state.withLock { state in
            for resource in resources {
                for (key, object) in state.objects[resource] ?? [:] { observer(resource, key, nil, object) }
            }
            state.observers.append((resources, observer))
        }
    }

    /// A stream of revisions after writes to `resources` (nil = any). It holds only the latest
    /// revision, so a slow reader sees coalesced notifications, never an unbounded backlog.
    func changes(of resources: Set<ResourceType>?) -> AsyncStream<Int64> {
        let (stream, continuation) = AsyncStream<Int64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.listeners[id] = (resources, continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// Waits until the revision reaches `target` or `timeout` passes. Returns whether it did.
    func waitForRevision(_ target: Int64, timeout: Duration) async -> Bool {
        await waitUntil(timeout: timeout) { self.currentRevision >= target }
    }

    /// Waits until `condition` holds, checking it now and after every change, or until
    /// `timeout` passes. Returns whether it held (checked once more at the end).
    func waitUntil(timeout: Duration, _ condition: @escaping @Sendable () -> Bool) async -> Bool {
        let stream = changes(of: nil)
        if condition() { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in stream where condition() { return true }
                return false
            }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return false }
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || condition()
        }
    }

    /// Ends every change stream and watch (on shutdown).
    func finishAll() {
        let (subscriptions, listeners) = state.withLock { state in
            let result = (Array(state.subscriptions.values), Array(state.listeners.values))
            state.subscriptions.removeAll()
            state.listeners.removeAll()
            return result
        }
        for subscription in subscriptions { subscription.continuation.finish() }
        for (_, continuation) in listeners { continuation.finish() }
    }
}
