// Feeds a Store from a watcher: the piece a controller runs per watched type, as a
// swift-service-lifecycle `Service`.
public import Logging
public import ServiceLifecycle

/// Applies every element of a watcher to a ``Store`` until cancelled or shut down.
///
/// Error elements are logged at warning level and passed to `onError` (for metrics); the
/// watcher recovers from them by itself.
///
/// ```swift
/// let claims = Store<PersistentVolumeClaim>()
/// let reflector = Reflector(source: Watcher<PersistentVolumeClaim>(client: client).backoff(),
///                           store: claims, logger: logger)
/// // run `reflector` in the ServiceGroup, then:
/// try await claims.waitUntilSynced()
/// for await key in claims.changes() { /* enqueue key */ }
/// ```
public struct Reflector<Object: KubeResource, Source: AsyncSequence & Sendable>: Service
where Source.Element == WatcherEvent<Object>, Source.Failure == Never {
    let source: Source
    let store: Store<Object>
    let logger: Logger
    let onError: @Sendable (KubeError) -> Void

    public init(source: Source, store: Store<Object>, logger: Logger,
                onError: @escaping @Sendable (KubeError) -> Void = { _ in }) {
        self.source = source
        self.store = store
        self.logger = logger
        self.onError = onError
    }

    /// Consumes the watcher until the task is cancelled or graceful shutdown begins.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.consume()
        }
    }

    /// Consumes the watcher until the task is cancelled (without service-lifecycle).
    public func consume() async {
        var iterator = source.makeAsyncIterator()
        while let event = await iterator.next(isolation: nil) {
            if case .error(let error) = event {
                logger.warning("watch error; recovering", metadata: [
                    "resource": "\(Object.resource)", "error": "\(error)",
                ])
                onError(error)
            }
            let update = store.apply(event)
            if case .restarted(let objects) = event {
                logger.debug("cache replaced after list", metadata: [
                    "resource": "\(Object.resource)", "objects": "\(objects.count)", "vanished": "\(update.deleted.count)",
                ])
            }
        }
    }
}
