// Drives `WatcherStateMachine` against a `KubeClient`: list, watch, resume, relist. Pull
// based: each `next()` does only the I/O needed for the next element, so the consumer's
// pace bounds everything between the network and it (no task, no buffer of events).

/// Settings of a ``Watcher``.
public struct WatcherConfiguration: Sendable, Hashable {
    /// Namespace to watch; nil watches a namespaced type across all namespaces.
    public var namespace: String?
    package var labelSelector: String?
    package var fieldSelector: String?
    /// Page size of (re)lists. Default 500 (client-go's pager); nil lists in one request.
    package var pageSize: Int?
    /// Range of the random `timeoutSeconds` of each watch. Default 300...600 s, as
    /// client-go's reflector (reflector.go:54-58, 588-593): finite so connections are
    /// recycled, random so many watchers do not reconnect at once.
    package var watchTimeoutSeconds: ClosedRange<Int>
    /// A watch ending sooner than this without any event counts as a failure and is
    /// backed off (client-go "very short watch", reflector.go:1092-1095). Default 1 s.
    package var shortWatchThreshold: Duration

    /// - Precondition: `watchTimeoutSeconds.lowerBound >= 1`, `pageSize` nil or >= 1.
    public init(namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
                pageSize: Int? = 500, watchTimeoutSeconds: ClosedRange<Int> = 300...600,
                shortWatchThreshold: Duration = .seconds(1)) {
        precondition(watchTimeoutSeconds.lowerBound >= 1, "watch timeouts must be at least 1 s")
        precondition(pageSize.map { $0 >= 1 } ?? true, "pageSize must be at least 1")
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.pageSize = pageSize
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.shortWatchThreshold = shortWatchThreshold
    }

    /// All namespaces, no selectors, 500-item pages, 300-600 s watches.
    public static let `default` = WatcherConfiguration()
}

/// An endless sequence of ``WatcherEvent``s for one resource type: an initial list
/// (`.restarted`), then changes (`.applied`, `.deleted`), resuming after clean ends and
/// relisting after 410s, with every failure as an `.error` element.
///
/// It lists, then watches (LIST+WATCH, what client-go did before 1.35). Watch-list
/// (`sendInitialEvents`) is not used, so there is no end-of-initial-events bookmark to wait
/// for and no fallback when a server rejects it; every server supports this path.
///
/// A raw watcher retries at once after a failure; apply ``backoff(_:)`` (or use a
/// ``Reflector``) so failures are spaced out. The sequence ends only when the consuming task
/// is cancelled.
///
/// ```swift
/// let store = Store<PersistentVolumeClaim>()
/// for await event in Watcher<PersistentVolumeClaim>(client: client).backoff() {
///     store.apply(event)
/// }
/// ```
public struct Watcher<Object: KubeResource>: AsyncSequence, Sendable {
    public typealias Element = WatcherEvent<Object>

    let client: KubeClient
    let configuration: WatcherConfiguration

    public init(client: KubeClient, configuration: WatcherConfiguration = WatcherConfiguration()) {
        self.client = client
        self.configuration = configuration
    }

    /// This watcher with `backoff` applied after each error element, reset after each
    /// success; clock and jitter come from the client.
    public func backoff(_ backoff: JitteredBackoff = JitteredBackoff()) -> BackoffSequence<Self> {
        BackoffSequence(base: self, backoff: backoff, clock: client.clock, jitter: client.jitter)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(client: client, configuration: configuration,
                      machine: WatcherStateMachine(shortWatchThreshold: configuration.shortWatchThreshold))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: KubeClient
        let configuration: WatcherConfiguration
        var machine: WatcherStateMachine<Object>
        var stream: WatchEventStream<Object>.AsyncIterator?
        var pending: [WatcherEvent<Object>] = []
        var pendingIndex = 0

        /// The next element; nil only when the task is cancelled.
        public mutating func next() async -> WatcherEvent<Object>? {
            while true {
                if pendingIndex < pending.count {
                    defer { pendingIndex += 1 }
                    return pending[pendingIndex]
                }
                pending.removeAll(keepingCapacity: true)
                pendingIndex = 0
                if Task.isCancelled { return nil }
                do {
                    try await step()
                } catch {
                    // Only cancellation reaches here: every KubeError became an element.
                    return nil
                }
            }
        }

        private mutating func step() async throws {
            switch machine.nextAction() {
            case .list(let rv):
                var options = ListOptions(labelSelector: configuration.labelSelector,
                                          fieldSelector: configuration.fieldSelector, resourceVersion: rv)
                if let rv, rv != "0" { options.resourceVersionMatch = "NotOlderThan" }
                do {
                    let list = try await client.listAll(Object.self, namespace: configuration.namespace,
                                                        options: options, pageSize: configuration.pageSize)
                    pending = machine.listSucceeded(list)
                } catch let error as KubeError {
                    pending = machine.listFailed(error)
                }
            case .startWatch(let rv):
                let range = configuration.watchTimeoutSeconds
                let timeout = range.lowerBound + Int(client.jitter.next() * Double(range.count))
                let options = WatchOptions(resourceVersion: rv, timeoutSeconds: Swift.min(timeout, range.upperBound),
                                           allowWatchBookmarks: true, labelSelector: configuration.labelSelector,
                                           fieldSelector: configuration.fieldSelector)
                do {
                    let events = try await client.watch(Object.self, namespace: configuration.namespace, options: options)
                    stream = events.makeAsyncIterator()
                    machine.watchStarted(at: client.clock.now)
                } catch let error as KubeError {
                    pending = machine.watchStartFailed(error)
                }
            case .readEvent:
                guard var events = stream else {
                    pending = machine.streamFailed(.invalidRequest("watch stream missing while watching"))
                    return
                }
                stream = nil  // keep the iterator's buffer uniquely owned while it is mutated
                do {
                    if let item = try await events.next() {
                        pending = machine.eventReceived(item)
                        if machine.isWatching { stream = events }
                    } else {
                        pending = machine.streamEnded(at: client.clock.now)
                    }
                } catch let error as KubeError {
                    pending = machine.streamFailed(error)
                }
            }
        }
    }
}
