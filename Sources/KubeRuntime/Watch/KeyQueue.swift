// A coalescing FIFO of keys with one async consumer: the bounded buffer between a Store
// and a work queue. A key is queued at most once until it is taken, so the buffer size is
// bounded by the number of distinct keys no matter how many events arrive.
import Synchronization

final class KeyQueue: Sendable {
    fileprivate struct State {
        var order: [ObjectKey] = []
        var head = 0
        var queued: Set<ObjectKey> = []
        var waiter: CheckedContinuation<ObjectKey?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    var pendingCount: Int {
        state.withLock { $0.queued.count }
    }

    /// Queues the keys not already queued; wakes the consumer.
    func push(_ keys: [ObjectKey]) {
        guard !keys.isEmpty else { return }
        let wake = state.withLock { state -> (CheckedContinuation<ObjectKey?, Never>, ObjectKey)? in
            guard !state.finished else { return nil }
            for key in keys where state.queued.insert(key).inserted {
                state.order.append(key)
            }
            guard let waiter = state.waiter, let key = state.popFirst() else { return nil }
            state.waiter = nil
            return (waiter, key)
        }
        if let (waiter, key) = wake { waiter.resume(returning: key) }
    }

    /// Stops the queue: the consumer gets the keys still queued, then nil.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            // A waiter exists only while nothing is queued.
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next key; nil once finished and drained, or when the task is cancelled.
    func next() async -> ObjectKey? {
        if let ready = state.withLock({ state -> ObjectKey?? in
            if let key = state.popFirst() { return .some(key) }
            return state.finished ? .some(nil) : .none
        }) {
            return ready
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ObjectKey?, Never>) in
                let (immediate, previous) = state.withLock { state -> (ObjectKey??, CheckedContinuation<ObjectKey?, Never>?) in
                    if let key = state.popFirst() { return (.some(key), nil) }
                    if state.finished || Task.isCancelled { return (.some(nil), nil) }
                    // One consumer: a previous waiter (misuse) is released with nil.
                    let previous = state.waiter
                    state.waiter = continuation
                    return (.none, previous)
                }
                previous?.resume(returning: nil)
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}

extension KeyQueue.State {
    fileprivate mutating func popFirst() -> ObjectKey? {
        guard head < order.count else { return nil }
        let key = order[head]
        head += 1
        queued.remove(key)
        if head > 64, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        return key
    }
}
