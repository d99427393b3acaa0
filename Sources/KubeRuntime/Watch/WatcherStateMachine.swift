// The watcher's logic as a value-type state machine: inputs in, actions and output
// elements out, no I/O. `Watcher` drives it; every `event x state` pair is a unit test.
//
//   empty(point) --nextAction--> listing(point) --listSucceeded--> listed(rv)
//   listed(rv) --nextAction--> startingWatch(rv) --watchStarted--> watching(rv, ...)
//   watching: events advance rv (bookmarks too); clean end or stream failure -> listed(rv)
//   (resume without relisting); 410 (HTTP at watch start or ERROR event in the stream)
//   -> empty(.notOlderThan(rv)) (relist); a relist at that rv failing with 410 or "too
//   large" -> empty(.latest) (client-go reflector.go:645-651, 718-729, 1111-1131).
// Resource versions are only stored and passed back, never ordered or parsed (they are
// opaque).

/// What a watcher yields (kube-rs `watcher::Event`): errors are elements, never the end.
public enum WatcherEvent<Object: KubeResource>: Sendable {
    /// A (re)list completed: the full current set. A cache replaces its contents with it.
    case restarted([Object])
    /// An object was added or modified.
    case applied(Object)
    /// An object was deleted (its last state).
    case deleted(Object)
    /// Something failed; the watcher recovers by itself (re-watch or relist).
    case error(KubeError)

    /// True for `.error`.
    package var isError: Bool {
        if case .error = self { return true }
        return false
    }
}

/// Where a (re)list reads from (docs/kubernetes-api-behaviour.md, "Lists and pagination").
enum ListPoint: Sendable, Hashable {
    /// `resourceVersion=0`: any recent state, may come from the watch cache (the initial
    /// list, client-go reflector.go:1126-1130).
    case any
    /// At least as new as the last seen revision (relist after a 410).
    case notOlderThan(String)
    /// `resourceVersion` unset: a consistent read of the latest state.
    case latest

    var resourceVersion: String? {
        switch self {
        case .any: return "0"
        case .notOlderThan(let rv): return rv
        case .latest: return nil
        }
    }
}

struct WatcherStateMachine<Object: KubeResource>: Sendable {
    struct Watching: Sendable, Hashable {
        /// The resume point: the list RV, then the RV of the latest event or bookmark.
        var resourceVersion: String
        var startedAt: Duration
        var events: Int
        /// Watching from ""/"0": synthetic ADDEDs come in no RV order, so the RV is not
        /// advanced until a non-ADDED event (client-go reflector.go:620-636).
        var inInitialBurst: Bool
    }

    enum State: Sendable, Hashable {
        case empty(ListPoint)
        case listing(ListPoint)
        case listed(resourceVersion: String)
        case startingWatch(resourceVersion: String)
        case watching(Watching)
    }

    enum Action: Sendable, Hashable {
        case list(resourceVersion: String?)
        case startWatch(resourceVersion: String)
        case readEvent
    }

    private(set) var state: State = .empty(.any)
    /// A watch ending cleanly sooner than this with no events counts as a failure.
    let shortWatchThreshold: Duration

    init(shortWatchThreshold: Duration = .seconds(1)) {
        self.shortWatchThreshold = shortWatchThreshold
    }

    var isWatching: Bool {
        if case .watching = state { return true }
        return false
    }

    /// What the driver must do next.
    mutating func nextAction() -> Action {
        switch state {
        case .empty(let point), .listing(let point):
            state = .listing(point)
            return .list(resourceVersion: point.resourceVersion)
        case .listed(let rv), .startingWatch(let rv):
            state = .startingWatch(resourceVersion: rv)
            return .startWatch(resourceVersion: rv)
        case .watching:
            return .readEvent
        }
    }

    mutating func listSucceeded(_ list: ObjectList<Object>) -> [WatcherEvent<Object>] {
        guard case .listing = state else { return [] }
        state = .listed(resourceVersion: list.metadata.resourceVersion ?? "")
        return [.restarted(list.items)] + list.failures.map { .error($0) }
    }

    mutating func listFailed(_ error: KubeError) -> [WatcherEvent<Object>] {
        guard case .listing(let point) = state else { return [.error(error)] }
        if case .notOlderThan = point, error.isExpired || error.isResourceVersionTooLarge {
            state = .empty(.latest)
        } else {
            state = .empty(point)
        }
        return [.error(error)]
    }

    mutating func watchStarted(at now: Duration) {
        guard case .startingWatch(let rv) = state else { return }
        state = .watching(Watching(resourceVersion: rv, startedAt: now, events: 0,
                                   inInitialBurst: rv.isEmpty || rv == "0"))
    }

    mutating func watchStartFailed(_ error: KubeError) -> [WatcherEvent<Object>] {
        guard case .startingWatch(let rv) = state else { return [.error(error)] }
        state = error.isExpired ? .empty(Self.relistPoint(rv)) : .listed(resourceVersion: rv)
        return [.error(error)]
    }

    mutating func eventReceived(_ item: Result<WatchEvent<Object>, KubeError>) -> [WatcherEvent<Object>] {
        guard case .watching(var watching) = state else { return [] }
        let event: WatchEvent<Object>
        switch item {
        case .failure(let error):
            // One undecodable event: report it and keep watching (the stream itself is fine).
            return [.error(error)]
        case .success(let value):
            event = value
        }
        watching.events += 1
        switch event {
        case .added(let object):
            if !watching.inInitialBurst { watching.advance(to: object.metadata.resourceVersion) }
            state = .watching(watching)
            return [.applied(object)]
        case .modified(let object):
            watching.inInitialBurst = false
            watching.advance(to: object.metadata.resourceVersion)
            state = .watching(watching)
            return [.applied(object)]
        case .deleted(let object):
            watching.inInitialBurst = false
            watching.advance(to: object.metadata.resourceVersion)
            state = .watching(watching)
            return [.deleted(object)]
        case .bookmark(let rv, _):
            watching.inInitialBurst = false
            watching.advance(to: rv)
            state = .watching(watching)
            return []
        case .error(let status):
            let error = KubeError.status(status, httpCode: status.code ?? 500,
                                         request: RequestSummary(method: "WATCH", path: Object.resource.qualifiedPlural + " (ERROR event)"),
                                         retryAfter: nil)
            state = error.isExpired ? .empty(Self.relistPoint(watching.resourceVersion))
                                    : .listed(resourceVersion: watching.resourceVersion)
            return [.error(error)]
        }
    }

    mutating func streamEnded(at now: Duration) -> [WatcherEvent<Object>] {
        guard case .watching(let watching) = state else { return [] }
        state = .listed(resourceVersion: watching.resourceVersion)
        let lasted = now - watching.startedAt
        if watching.events == 0, lasted < shortWatchThreshold {
            return [.error(.watchEndedEarly(resource: Object.resource, after: lasted))]
        }
        return []
    }

    mutating func streamFailed(_ error: KubeError) -> [WatcherEvent<Object>] {
        guard case .watching(let watching) = state else { return [.error(error)] }
        state = .listed(resourceVersion: watching.resourceVersion)
        return [.error(error)]
    }

    private static func relistPoint(_ rv: String) -> ListPoint {
        rv.isEmpty || rv == "0" ? .latest : .notOlderThan(rv)
    }
}

extension WatcherStateMachine.Watching {
    mutating func advance(to rv: String) {
        if !rv.isEmpty { resourceVersion = rv }
    }
}

extension KubeError {
    /// 504 `Timeout` with cause `ResourceVersionTooLarge` (apiserver storage/errors.go:229-243).
    var isResourceVersionTooLarge: Bool {
        code == 504 && (status?.details?.causes ?? []).contains { $0.reason == "ResourceVersionTooLarge" }
    }
}
