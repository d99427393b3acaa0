// Registering watchers: the initial events and the live stream are computed under the same
// lock, so nothing is lost or duplicated between them.

extension ObjectStore {
    /// Where a watch starts (DOC api-concepts "Semantics for watch"; AS storage/cacher).
    enum WatchStart: Sendable {
        /// `resourceVersion` unset or "0": synthetic ADDED for every current object, then changes.
        case currentState
        /// `resourceVersion=N`: only changes after N, no synthetic events.
        case after(Int64)
        /// `resourceVersion` unset with `sendInitialEvents=false`: changes from now on.
        case now
        /// `sendInitialEvents=true`: ADDED for the current state, then a BOOKMARK annotated
        /// `k8s.io/initial-events-end: "true"` at the snapshot revision (AM types.go:443-509).
        case watchList
    }

    struct Registration {
        let id: Int
        let initialEvents: [WatchEvent]
        let stream: AsyncStream<WatchSignal>
        let continuation: AsyncStream<WatchSignal>.Continuation
    }

    /// Registers a watcher. Fails with 410 Expired when `start` is older than the history
    /// (the caller reports it as an ERROR event inside a 200 stream, as the cacher does).
    ///
    /// - Parameter bufferSize: events buffered for this watcher; when a slow reader lets it
    ///   fill up, its stream is finished (the reader then sees a clean end).
    func subscribe(_ filter: ObjectFilter, start: WatchStart, bufferSize: Int) -> Result<Registration, APIStatus> {
        let (stream, continuation) = AsyncStream<WatchSignal>.makeStream(bufferingPolicy: .bufferingOldest(max(1, bufferSize)))
        return state.withLock { state -> Result<Registration, APIStatus> in
            var initial: [WatchEvent] = []
            var minRevision = state.revision
            switch start {
            case .currentState, .watchList:
                let objects = (state.objects[filter.resource] ?? [:]).filter { filter.matches($0.value) }
                for (_, object) in objects.sorted(by: { $0.key < $1.key }) {
                    initial.append(WatchEvent(type: .added, object: object))
                }
                if case .watchList = start {
                    var bookmark = Self.bookmarkObject(filter.resource, revision: state.revision)
                    bookmark[path: ["metadata", "annotations"]] = ["k8s.io/initial-events-end": "true"]
                    initial.append(WatchEvent(type: .bookmark, object: bookmark))
                }
            case .now:
                break
            case .after(let revision):
                if revision < state.compactedRevision {
                    // AS storage/cacher/watch_cache.go getAllEventsSinceLocked.
                    return .failure(.expired("too old resource version: \(revision) (\(state.compactedRevision))"))
                }
                if revision >= state.revision {
                    // A revision the store has not reached yet: wait for the changes after it.
                    minRevision = revision
                } else {
                    // The history is in revision order: start at the first newer entry.
                    var low = 0
                    var high = state.history.count
                    while low < high {
                        let middle = (low + high) / 2
                        if state.history[middle].revision > revision { high = middle } else { low = middle + 1 }
                    }
                    for entry in state.history[low...] where entry.resource == filter.resource {
                        if let event = Self.event(for: entry, filter: filter) { initial.append(event) }
                    }
                }
            }
            let id = state.nextID
            state.nextID += 1
            state.subscriptions[id] = Subscription(filter: filter, minRevision: minRevision, continuation: continuation)
            return .success(Registration(id: id, initialEvents: initial, stream: stream, continuation: continuation))
        }
    }

    func unsubscribe(_ id: Int) {
        let subscription = state.withLock { $0.subscriptions.removeValue(forKey: id) }
        subscription?.continuation.finish()
    }

    /// Queues a BOOKMARK at the current revision on a watcher's stream, behind every event it
    /// has been sent so far. Returns false when the watcher is gone.
    @discardableResult
    func enqueueBookmark(_ id: Int) -> Bool {
        state.withLock { state in
            guard let subscription = state.subscriptions[id] else { return false }
            let revision = max(state.revision, subscription.minRevision)
            let event = WatchEvent(type: .bookmark, object: Self.bookmarkObject(subscription.filter.resource, revision: revision))
            if case .dropped = subscription.continuation.yield(.event(event)) {
                state.subscriptions.removeValue(forKey: id)?.continuation.finish()
                return false
            }
            return true
        }
    }

    /// A bookmark's object: the watched kind with only `metadata.resourceVersion` meaningful.
    static func bookmarkObject(_ resource: ResourceType, revision: Int64) -> JSONValue {
        [
            "kind": .string(resource.info.kind), "apiVersion": .string(resource.info.apiVersion),
            "metadata": ["resourceVersion": .string(String(revision))],
        ]
    }
}
