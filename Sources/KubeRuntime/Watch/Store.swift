// The reflector cache: objects keyed by namespace/name, fed by watcher elements. A relist
// replaces the contents wholesale and reports the objects that vanished as deletions
// (client-go DeltaFIFO `Replace`); readers take snapshots; consumers learn which keys
// changed through coalescing change streams (`StoreChanges`).
import Synchronization

/// What one ``Store/apply(_:)`` changed.
package struct StoreUpdate<Object: KubeResource>: Sendable {
    /// Objects added or replaced.
    package var applied: [Object] = []
    /// Objects removed: deleted by an event, or missing from a relist.
    package var deleted: [Object] = []
}

/// A thread-safe cache of one resource type, kept current by applying ``WatcherEvent``s.
public final class Store<Object: KubeResource>: Sendable {
    private struct State {
        var objects: [ObjectKey: Object] = [:]
        var synced = false
        var nextWaiterID = 0
        var syncWaiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var subscribers: [KeyQueue] = []
        var finished = false
        /// Secondary indexes: index name → index key → object keys.
        var indexed: [String: [String: Set<ObjectKey>]] = [:]
    }

    /// Computes the index keys of an object for one secondary index (client-go's
    /// `IndexFunc`): e.g. a PV's claim `namespace/name`.
    public typealias IndexFunction = @Sendable (Object) -> [String]

    private let state = Mutex(State())
    private let indexers: [String: IndexFunction]

    /// - Parameter indexers: secondary indexes kept current with every change, so that a
    ///   lookup by them (``objects(index:key:)``) costs the matches, not a scan.
    public init(indexers: [String: IndexFunction] = [:]) {
        self.indexers = indexers
    }

    /// The cached objects whose index `index` yields `key`; empty for an unknown index.
    package func objects(index: String, key: String) -> [Object] {
        state.withLock { state in
            (state.indexed[index]?[key] ?? []).compactMap { state.objects[$0] }
        }
    }

    private func unindex(_ object: Object, _ state: inout State) {
        for (name, function) in indexers {
            for indexKey in function(object) {
                state.indexed[name]?[indexKey]?.remove(object.key)
                if state.indexed[name]?[indexKey]?.isEmpty == true { state.indexed[name]?[indexKey] = nil }
            }
        }
    }

    private func index(_ object: Object, _ state: inout State) {
        for (name, function) in indexers {
            for indexKey in function(object) { state.indexed[name, default: [:]][indexKey, default: []].insert(object.key) }
        }
    }

    /// Applies one watcher element and notifies subscribers of the keys it changed.
    ///
    /// - `.restarted(objects)`: the contents become exactly `objects`; objects no longer
    ///   present are reported in `deleted`; the store is synced from then on.
    /// - `.applied`/`.deleted`: upsert/remove by key.
    /// - `.error`: nothing changes.
    @discardableResult
    package func apply(_ event: WatcherEvent<Object>) -> StoreUpdate<Object> {
        var update = StoreUpdate<Object>()
        var changedKeys: [ObjectKey] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        let subscribers: [KeyQueue] = state.withLock { state in
            switch event {
            case .restarted(let objects):
                var fresh: [ObjectKey: Object] = [:]
                fresh.reserveCapacity(objects.count)
                for object in objects { fresh[object.key] = object }
                for (key, old) in state.objects where fresh[key] == nil {
                    update.deleted.append(old)
                    changedKeys.append(key)
                }
                update.applied = Array(fresh.values)
                changedKeys.append(contentsOf: fresh.keys)
                state.objects = fresh
                if !indexers.isEmpty {
                    state.indexed = [:]
                    for object in fresh.values { index(object, &state) }
                }
                if !state.synced {
                    state.synced = true
                    waiters = Array(state.syncWaiters.values)
                    state.syncWaiters.removeAll()
                }
            case .applied(let object):
                if let old = state.objects[object.key] { unindex(old, &state) }
                state.objects[object.key] = object
                index(object, &state)
                update.applied = [object]
                changedKeys = [object.key]
            case .deleted(let object):
                let removed = state.objects.removeValue(forKey: object.key)
                if let removed { unindex(removed, &state) }
                update.deleted = [removed ?? object]
                changedKeys = [object.key]
            case .error:
                break
            }
            return changedKeys.isEmpty ? [] : state.subscribers
        }
        // Resume and notify outside the lock.
        for waiter in waiters { waiter.resume() }
        for subscriber in subscribers { subscriber.push(changedKeys) }
        return update
    }

    /// The object with `key`, if cached.
    public func get(_ key: ObjectKey) -> Object? {
        state.withLock { $0.objects[key] }
    }

    /// The object named `name` in `namespace` (empty for cluster-scoped), if cached.
    public func get(name: String, namespace: String = "") -> Object? {
        get(ObjectKey(namespace: namespace, name: name))
    }

    /// All cached objects, keyed. A copy: later changes do not affect it.
    package var snapshot: [ObjectKey: Object] {
        state.withLock { $0.objects }
    }

    /// All cached objects, in no particular order.
    package var objects: [Object] {
        state.withLock { Array($0.objects.values) }
    }

    package var count: Int {
        state.withLock { $0.objects.count }
    }

    /// True once the first (re)list has been applied.
    package var hasSynced: Bool {
        state.withLock { $0.synced }
    }

    /// Returns once the store has synced (at once if it has).
    ///
    /// - Throws: `CancellationError` if the task is cancelled first.
    package func waitUntilSynced() async throws {
        let id = state.withLock { state -> Int? in
            if state.synced { return nil }
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if state.synced { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.syncWaiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.syncWaiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// A stream of keys whose objects changed (added, modified, deleted, or touched by a
    /// relist), for a work queue.
    ///
    /// Keys are coalesced: a key already waiting to be taken is not queued again, so the
    /// buffer never holds more entries than there are distinct keys (bounded by the cache
    /// size plus pending deletions), however fast events arrive. The consumer reads the
    /// current object from the store (level-triggered): a key whose object is gone means
    /// "deleted". One consumer per stream; the stream ends when ``finish()`` is called or
    /// the consuming task is cancelled.
    ///
    /// - Parameter includeExisting: also queue every key cached now (so a consumer that
    ///   subscribes late still sees every object once).
    public func changes(includeExisting: Bool = true) -> StoreChanges {
        let queue = KeyQueue()
        let existing: [ObjectKey] = state.withLock { state in
            if state.finished {
                queue.finish()
                return []
            }
            state.subscribers.append(queue)
            return includeExisting ? Array(state.objects.keys) : []
        }
        queue.push(existing)
        return StoreChanges(queue: queue)
    }

    /// Ends every change stream (shutdown).
    public func finish() {
        let subscribers = state.withLock { state in
            state.finished = true
            defer { state.subscribers.removeAll() }
            return state.subscribers
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}

/// Keys of changed objects, coalesced; see ``Store/changes(includeExisting:)``.
public struct StoreChanges: AsyncSequence, Sendable {
    public typealias Element = ObjectKey

    let queue: KeyQueue

    /// Keys waiting to be taken (diagnostics, metrics).
    package var pendingCount: Int { queue.pendingCount }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(queue: queue)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: KeyQueue

        public mutating func next() async -> ObjectKey? {
            await queue.next()
        }
    }
}
