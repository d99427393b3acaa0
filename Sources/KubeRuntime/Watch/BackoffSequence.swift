// Backoff as a separate stage of the watch pipeline (like kube-rs `StreamBackoff`): after
// an error element the next pull waits for the backoff delay; any successful element
// resets the backoff. The watcher itself stays free of timing policy.

/// Wraps a sequence of ``WatcherEvent``s, sleeping after each error element.
public struct BackoffSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable
where Base.Element: BackoffClassifiable, Base.Failure == Never {
    public typealias Element = Base.Element

    let base: Base
    let backoff: JitteredBackoff
    let clock: any EngineClock
    let jitter: JitterSource

    package init(base: Base, backoff: JitteredBackoff, clock: any EngineClock, jitter: JitterSource) {
        self.base = base
        self.backoff = backoff
        self.clock = clock
        self.jitter = jitter
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), backoff: backoff, clock: clock, jitter: jitter)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var backoff: JitteredBackoff
        let clock: any EngineClock
        let jitter: JitterSource
        var delayBeforeNext: Duration?

        /// The next element; nil when the base ends or the task is cancelled while waiting.
        public mutating func next() async -> Element? {
            if let delay = delayBeforeNext {
                delayBeforeNext = nil
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    return nil  // cancelled
                }
            }
            guard let element = await base.next(isolation: nil) else { return nil }
            if element.isFailure {
                delayBeforeNext = backoff.next(jitter)
            } else {
                backoff.reset()
            }
            return element
        }
    }
}

/// An element that is either a success or a failure (for ``BackoffSequence``).
public protocol BackoffClassifiable {
    var isFailure: Bool { get }
}

extension WatcherEvent: BackoffClassifiable {
    public var isFailure: Bool { isError }
}
