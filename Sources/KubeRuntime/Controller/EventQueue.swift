// The EventRecorder's buffer: bounded, oldest dropped first, and an outcome event replaces
// the progress event of the same object still waiting to be written.

/// Events waiting to be written, in order. At most `capacity`; a new event when full drops
/// the oldest. An event whose ``EventRequest/supersedes`` names a reason removes the
/// event of that reason about the same object if it is still waiting (e.g.
/// `ProvisioningSucceeded` replaces the `Provisioning` no one has seen yet: in a burst
/// the buffer then holds one event per claim, not two, and `kubectl describe` still shows
/// the outcome).
struct EventQueue {
    private struct PendingKey: Hashable {
        var object: String
        var reason: String
    }

    let capacity: Int
    private var order: [UInt64] = []
    private var head = 0
    private var events: [UInt64: EventRequest] = [:]
    private var byReason: [PendingKey: UInt64] = [:]
    private var next: UInt64 = 0
    /// Dropped because the buffer was full.
    private(set) var dropped = 0
    /// Removed because a later event about the same object superseded them.
    private(set) var superseded = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { events.count }
    var isEmpty: Bool { events.isEmpty }

    mutating func append(_ event: EventRequest) {
        let object = event.objectKey
        for reason in event.supersedes {
            if let seq = byReason.removeValue(forKey: PendingKey(object: object, reason: reason)), events.removeValue(forKey: seq) != nil {
                superseded += 1
            }
        }
        while events.count >= capacity, popFirst() != nil { dropped += 1 }
        let seq = next
        next += 1
        order.append(seq)
        events[seq] = event
        byReason[PendingKey(object: object, reason: event.reason)] = seq
    }

    /// Takes up to `limit` events, oldest first, stopping before an event equal to one
    /// already taken (identical events are aggregated into one Event, one after the other).
    mutating func take(_ limit: Int) -> [EventRequest] {
        var taken: [EventRequest] = []
        while taken.count < max(1, limit), let seq = firstSequence() {
            guard let event = events[seq], !taken.contains(event) else { break }
            _ = popFirst()
            taken.append(event)
        }
        return taken
    }

    /// The oldest live entry's sequence number (skipping superseded ones).
    private mutating func firstSequence() -> UInt64? {
        while head < order.count, events[order[head]] == nil { head += 1 }
        compact()
        return head < order.count ? order[head] : nil
    }

    private mutating func popFirst() -> EventRequest? {
        guard let seq = firstSequence(), let event = events.removeValue(forKey: seq) else { return nil }
        head += 1
        let key = PendingKey(object: event.objectKey, reason: event.reason)
        if byReason[key] == seq { byReason[key] = nil }
        compact()
        return event
    }

    /// Drops the consumed prefix of `order` once it is as long as the rest.
    private mutating func compact() {
        if head > 64 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
