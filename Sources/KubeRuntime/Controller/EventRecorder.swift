package import Foundation
package import Logging
import Synchronization

/// One event to record about an object.
package struct EventRequest: Sendable, Hashable {
    package enum Kind: String, Sendable, Hashable { case normal = "Normal", warning = "Warning" }

    /// The object the event is about (kind, namespace, name, uid, apiVersion).
    package var involved: ObjectReference
    package var type: Kind
    /// CamelCase, e.g. `ProvisioningSucceeded`.
    package var reason: String
    package var message: String
    /// Reasons of events about the same object that this one makes pointless if they are
    /// still waiting to be written (an outcome supersedes "in progress"): those are
    /// removed from the buffer, never written.
    package var supersedes: Set<String>

    package init(involved: ObjectReference, type: Kind, reason: String, message: String, supersedes: Set<String> = []) {
        self.involved = involved
        self.type = type
        self.reason = reason
        self.message = message
        self.supersedes = supersedes
    }

    /// The object the event is about, as one key: its uid, else namespace/name (the
    /// per-object rate limit and superseding both go by it).
    var objectKey: String {
        involved.uid ?? "\(involved.namespace ?? "")/\(involved.name ?? "")"
    }

    package static func about(_ claim: PersistentVolumeClaim, _ type: Kind, _ reason: String, _ message: String,
                             supersedes: Set<String> = []) -> EventRequest {
        EventRequest(involved: ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: claim.metadata.namespace,
                                               name: claim.metadata.name, uid: claim.metadata.uid,
                                               resourceVersion: claim.metadata.resourceVersion),
                     type: type, reason: reason, message: message, supersedes: supersedes)
    }

    package static func about(_ volume: PersistentVolume, _ type: Kind, _ reason: String, _ message: String,
                             supersedes: Set<String> = []) -> EventRequest {
        EventRequest(involved: ObjectReference(apiVersion: "v1", kind: "PersistentVolume", name: volume.metadata.name,
                                               uid: volume.metadata.uid, resourceVersion: volume.metadata.resourceVersion),
                     type: type, reason: reason, message: message, supersedes: supersedes)
    }
}

/// Records core/v1 Events without ever slowing or failing a reconcile:
/// ``record(_:)`` only enqueues into a bounded buffer (the oldest are dropped when it is
/// full, and counted; an event that ``EventRequest/supersedes`` a waiting one about the
/// same object replaces it); ``run()`` writes them in the background,
/// ``Configuration/writers`` at a time, at background rate-limit priority
/// (``RequestPriority``).
///
/// Like client-go's recorder (tools/record/events_cache.go): identical events about an
/// object within ``Configuration/aggregationWindow`` update one Event's `count` and
/// `lastTimestamp` (PATCH) instead of creating new ones; a per-object token bucket (burst
/// 25, one token per 5 minutes) stops a flapping object from flooding the API; events of
/// cluster-scoped objects (PVs) go to namespace `default`; a failed write is logged and
/// dropped, never retried forever.
package actor EventRecorder {
    public struct Configuration: Sendable {
        /// Events waiting to be written; more are dropped (oldest first). Default 1000.
        package var bufferSize: Int = 1000
        /// Events written at the same time (each a request of its own, under the client's
        /// rate limit at background priority). Default 2.
        package var writers: Int = 2
        /// How long an Event waits for a token no other request wants before it queues for
        /// one like every request (``RequestPriority/background(maxWait:)``): under a backlog
        /// each writer still gets about one token per this interval. Default 1 s.
        package var maxPriorityWait: Duration = .seconds(1)
        package var burst: Double = 25
        package var refillInterval: Duration = .seconds(300)
        package var aggregationWindow: Duration = .seconds(600)
        /// `source.component` / `reportingComponent`.
        package var component: String = "nfs-cluster-provisioner"
        /// `source.host` / `reportingInstance`: the process identity.
        package var instance: String = ProcessInfo.processInfo.hostName

        package init() {}
        package static let `default` = Configuration()
    }

    private struct Aggregate {
        var eventName: String
        var namespace: String
        var count: Int32
        var first: Date
        var lastSeen: Duration
    }

    private struct Bucket {
        var tokens: Double
        var updated: Duration
    }

    package nonisolated let configuration: Configuration
    private let client: KubeClient
    private let logger: Logger
    private let clock: any EngineClock
    private let wallClock: @Sendable () -> Date
    private struct Pending {
        var queue: EventQueue
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private nonisolated let pending: Mutex<Pending>
    private var aggregates: [EventRequest: Aggregate] = [:]
    private var buckets: [String: Bucket] = [:]
    private var failedOrLimited = 0
    /// Events dropped (buffer full, rate-limited, or failed writes).
    package var dropped: Int { failedOrLimited + pending.withLock { $0.queue.dropped } }
    /// Events removed from the buffer unwritten because a later one about the same object
    /// superseded them.
    package nonisolated var superseded: Int { pending.withLock { $0.queue.superseded } }
    /// Events written (created or aggregated).
    package private(set) var written = 0

    /// - Parameters:
    ///   - clock: measures the rate limit's refill and the aggregation window.
    ///   - wallClock: the Events' timestamps.
    package init(client: KubeClient, configuration: Configuration = .default, clock: any EngineClock = SystemEngineClock(),
                 wallClock: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.client = client
        self.clock = clock
        self.wallClock = wallClock
        self.configuration = configuration
        self.logger = logger
        pending = Mutex(Pending(queue: EventQueue(capacity: configuration.bufferSize)))
    }

    /// Queues an event; never blocks (beyond a short lock), never fails.
    package nonisolated func record(_ event: EventRequest) {
        let waiter = pending.withLock { p -> CheckedContinuation<Void, Never>? in
            guard !p.finished else { return nil }
            p.queue.append(event)
            defer { p.waiter = nil }
            return p.waiter
        }
        waiter?.resume()
    }

    /// Stops accepting events; ``run()`` returns once the queue is written.
    package nonisolated func finish() {
        pending.withLock { p -> CheckedContinuation<Void, Never>? in
            p.finished = true
            defer { p.waiter = nil }
            return p.waiter
        }?.resume()
    }

    /// Writes queued events, ``Configuration/writers`` at a time, until ``finish()`` (once
    /// the queue is empty) or cancellation.
    package func run() async {
        while true {
            let batch = await nextBatch()
            if batch.isEmpty { return }
            // Background priority: an Event takes a token no PV or claim update is
            // waiting for, or queues for one after `maxPriorityWait`.
            await KubeClient.$requestPriority.withValue(.background(maxWait: configuration.maxPriorityWait)) {
                await withTaskGroup(of: Void.self) { group in
                    for event in batch { group.addTask { await self.write(event) } }
                }
            }
        }
    }

    /// The next events to write; empty once finished and written, or when cancelled.
    private nonisolated func nextBatch() async -> [EventRequest] {
        let limit = max(1, configuration.writers)
        while !Task.isCancelled {
            let taken = pending.withLock { p -> [EventRequest]? in
                let batch = p.queue.take(limit)
                if !batch.isEmpty { return batch }
                return p.finished ? [] : nil
            }
            if let taken { return taken }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = pending.withLock { p -> Bool in
                        // Checked under the lock the cancellation handler takes too.
                        if !p.queue.isEmpty || p.finished || Task.isCancelled { return true }
                        p.waiter = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            } onCancel: {
                pending.withLock { p -> CheckedContinuation<Void, Never>? in
                    defer { p.waiter = nil }
                    return p.waiter
                }?.resume()
            }
        }
        return []
    }

    private func allow(_ event: EventRequest, now: Duration) -> Bool {
        let key = event.objectKey
        var bucket = buckets[key] ?? Bucket(tokens: configuration.burst, updated: now)
        let elapsed = now - bucket.updated
        let refill = Double(elapsed.components.seconds) / Double(max(1, configuration.refillInterval.components.seconds))
        bucket.tokens = min(configuration.burst, bucket.tokens + refill)
        bucket.updated = now
        guard bucket.tokens >= 1 else {
            buckets[key] = bucket
            return false
        }
        bucket.tokens -= 1
        buckets[key] = bucket
        if buckets.count > 10_000 { buckets = buckets.filter { $0.value.tokens < configuration.burst } }
        return true
    }

    private func write(_ event: EventRequest) async {
        let now = clock.now
        guard allow(event, now: now) else {
            failedOrLimited += 1
            return
        }
        let wallNow = wallClock()
        if var aggregate = aggregates[event], now - aggregate.lastSeen < configuration.aggregationWindow {
            aggregate.count += 1
            aggregate.lastSeen = now
            let patch = JSONValue.object(["count": .int(Int64(aggregate.count)), "lastTimestamp": .string(KubeTime(wallNow).description)])
            do {
                _ = try await client.mergePatch(Event.self, name: aggregate.eventName, namespace: aggregate.namespace, patch: patch)
                aggregates[event] = aggregate
                written += 1
                return
            } catch {
                // Gone (expired) or not patchable: create a fresh one below.
                aggregates[event] = nil
            }
        }
        let namespace = (event.involved.namespace ?? "").isEmpty ? "default" : event.involved.namespace!
        let stamp = String(UInt64(wallNow.timeIntervalSince1970 * 1e9), radix: 16)
        let name = "\(event.involved.name ?? "object").\(stamp)"
        let object = Event(
            metadata: ObjectMeta(name: NameValidation.isDNS1123Subdomain(name) ? name : "event.\(stamp)", namespace: namespace),
            involvedObject: event.involved, reason: event.reason, message: String(event.message.prefix(1024)),
            type: event.type.rawValue,
            source: EventSource(component: configuration.component, host: configuration.instance),
            reportingComponent: configuration.component, reportingInstance: String(configuration.instance.prefix(128)),
            firstTimestamp: KubeTime(wallNow), lastTimestamp: KubeTime(wallNow), count: 1)
        do {
            let created = try await client.create(object)
            aggregates[event] = Aggregate(eventName: created.metadata.name, namespace: namespace, count: 1, first: wallNow, lastSeen: now)
            if aggregates.count > 10_000 {
                aggregates = aggregates.filter { now - $0.value.lastSeen < configuration.aggregationWindow }
            }
            written += 1
        } catch {
            failedOrLimited += 1
            logger.warning("could not record event", metadata: [
                "reason": "\(event.reason)", "object": "\(event.involved.kind ?? "")/\(event.involved.namespace ?? "")/\(event.involved.name ?? "")",
                "error": "\(error)",
            ])
        }
    }
}
