/// The controller's work queue, after client-go's `workqueue` (util/workqueue/queue.go,
/// delaying_queue.go, rate_limiting_queue.go), as one actor:
///
/// - **dedup**: a key waiting in the queue is not queued twice;
/// - **no two workers on one key**: a key being processed that is added again is marked
///   dirty and queued only when its worker calls ``done(_:)``;
/// - **delays**: ``add(_:after:)`` keeps the earliest deadline per key;
/// - **per-key backoff**: ``addRateLimited(_:)`` waits `backoff(failures)` and counts the
///   failure; ``forget(_:)`` resets it after a success;
/// - **bounded concurrency** comes from the number of workers calling ``next()``.
///
/// Delayed keys need ``runDelays()`` running (the controller runs it in its task group);
/// it sleeps on the injected clock until the earliest deadline or until a new, earlier
/// one arrives.
package actor WorkQueue<Key: Hashable & Sendable, C: Clock> where C.Duration == Duration {
    private var queue: [Key] = []
    private var head = 0
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var failures: [Key: Int] = [:]
    private var waiters: [(id: Int, continuation: CheckedContinuation<Key?, Never>)] = []
    private var nextWaiterID = 0
    private var delayed = DeadlineHeap<Key, C.Instant>()
    private var deadlines: [Key: C.Instant] = [:]
    private var shuttingDown = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    package let clock: C
    package let backoff: ExponentialBackoff

    package init(clock: C, backoff: ExponentialBackoff = .default) {
        self.clock = clock
        self.backoff = backoff
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Keys waiting to be processed (not counting delayed or in-process ones).
    package var depth: Int { queue.count - head }
    /// Keys waiting for a deadline.
    package var delayedCount: Int { deadlines.count }
    /// Keys being processed.
    package var processingCount: Int { processing.count }

    /// Queues a key now (deduplicated).
    package func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        if processing.contains(key) { return }  // queued again by done()
        if let waiter = waiters.first {
            waiters.removeFirst()
            dirty.remove(key)
            processing.insert(key)
            waiter.continuation.resume(returning: key)
        } else {
            queue.append(key)
        }
    }

    /// Queues a key once `delay` has passed; an earlier pending deadline wins.
    package func add(_ key: Key, after delay: Duration) {
        guard !shuttingDown else { return }
        guard delay > .zero else { return add(key) }
        let deadline = clock.now.advanced(by: delay)
        if let existing = deadlines[key], existing <= deadline { return }
        deadlines[key] = deadline
        delayed.push(key, deadline)
        wakeContinuation.yield()
    }

    /// Counts a failure of `key` and queues it after its backoff; returns the delay.
    @discardableResult
    package func addRateLimited(_ key: Key) -> Duration {
        let count = (failures[key] ?? 0) + 1
        failures[key] = count
        let delay = backoff.delay(afterFailures: count)
        add(key, after: delay)
        return delay
    }

    /// Clears a key's failure count (after a success).
    package func forget(_ key: Key) { failures[key] = nil }

    /// How many times in a row this key has failed.
    package func failureCount(_ key: Key) -> Int { failures[key] ?? 0 }

    /// The next key to process, waiting if there is none; nil once shut down and drained,
    /// or when the waiting task is cancelled. The caller must call ``done(_:)`` with it.
    package func next() async -> Key? {
        if head < queue.count {
            let key = queue[head]
            head += 1
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            dirty.remove(key)
            processing.insert(key)
            return key
        }
        if shuttingDown || Task.isCancelled { return nil }
        nextWaiterID += 1
        let id = nextWaiterID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: nil)
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: Int) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(returning: nil)
    }

    /// Marks a key's processing finished; if it was added meanwhile, it is queued again.
    package func done(_ key: Key) {
        processing.remove(key)
        if dirty.contains(key) {
            dirty.remove(key)
            add(key)
        }
        resumeIdleWaitersIfIdle()
    }

    /// True when nothing is queued and nothing is being processed (delayed keys, which
    /// wait for their time, do not count).
    package var isIdle: Bool { depth == 0 && processing.isEmpty }

    /// Returns once the queue is idle (``isIdle``), or at once if it is, or when the queue
    /// shuts down. What tests wait for instead of sleeping: "everything added so far has
    /// been handled".
    package func waitUntilIdle() async {
        if isIdle || shuttingDown { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func resumeIdleWaitersIfIdle() {
        guard isIdle, !idleWaiters.isEmpty else { return }
        let w = idleWaiters
        idleWaiters = []
        for waiter in w { waiter.resume() }
    }

    /// Stops accepting keys; waiting workers get nil once the queue is drained.
    package func shutDown() {
        shuttingDown = true
        delayed = DeadlineHeap()
        deadlines = [:]
        let w = waiters
        waiters = []
        for waiter in w { waiter.continuation.resume(returning: nil) }
        let idle = idleWaiters
        idleWaiters = []
        for waiter in idle { waiter.resume() }
        wakeContinuation.finish()
    }

    /// Moves due delayed keys into the queue; returns the next deadline, if any.
    private func promoteDue() -> C.Instant? {
        let now = clock.now
        while let (key, deadline) = delayed.peek(), deadline <= now {
            delayed.pop()
            // A stale heap entry (the key was re-scheduled earlier) is skipped.
            guard deadlines[key] == deadline else { continue }
            deadlines[key] = nil
            add(key)
        }
        while let (key, deadline) = delayed.peek(), deadlines[key] != deadline { _ = key; delayed.pop() }
        return delayed.peek()?.1
    }

    /// Delivers delayed keys when due. Runs until the queue shuts down or the task is
    /// cancelled; the controller runs it in its task group.
    ///
    /// One loop consumes wake-ups: from ``add(_:after:)`` (a new deadline, maybe earlier)
    /// and from timer child tasks that sleep on the injected clock until the earliest
    /// deadline. A timer made obsolete by an earlier deadline fires later, harmlessly.
    package func runDelays() async {
        wakeContinuation.yield()
        let clock = self.clock
        let wakeUp = wakeContinuation
        await withDiscardingTaskGroup { group in
            var timer: C.Instant?
            for await _ in wake {
                if shuttingDown { break }
                guard let next = promoteDue() else { continue }
                if let t = timer, t > clock.now, t <= next { continue }  // a timer already covers it
                timer = next
                group.addTask {
                    do { try await clock.sleep(until: next, tolerance: nil) } catch { return }
                    wakeUp.yield()
                }
            }
            group.cancelAll()
        }
    }
}

/// A binary min-heap of (key, deadline).
struct DeadlineHeap<Key, Instant: Comparable> {
    private var items: [(Key, Instant)] = []

    var isEmpty: Bool { items.isEmpty }

    func peek() -> (Key, Instant)? { items.first }

    mutating func push(_ key: Key, _ deadline: Instant) {
        items.append((key, deadline))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].1 < items[parent].1 else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    @discardableResult
    mutating func pop() -> (Key, Instant)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l].1 < items[m].1 { m = l }
            if r < items.count && items[r].1 < items[m].1 { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
