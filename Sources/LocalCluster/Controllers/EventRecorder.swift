// core/v1 Events from the emulated controllers, written through the registry like any client.
//
// Shape as client-go's recorder writes them (CG tools/record/event.go makeEvent: name
// `<involved name>.<hex unix nanos>`, involvedObject reference, source.component, count,
// first/lastTimestamp); events about cluster-scoped objects (PVs) go to namespace "default".
// A repeat of the same event within `repeatInterval` is dropped; after that it bumps `count`
// (the recorder's correlator aggregates the same way, CG tools/record/events_cache.go).

import Logging
import Synchronization

final class EventRecorder: Sendable {
    struct Key: Hashable {
        var uid: String
        var type: String
        var reason: String
        var message: String
    }

    struct Record {
        var namespace: String
        var name: String
        var lastEmitted: Timestamp
        var count: Int64
    }

    /// Repeats remembered at most (bounded memory in a long-running demo).
    static let recordLimit = 10_000

    let registry: Registry
    let component: String
    let repeatInterval: Duration
    let logger: Logger
    let state = Mutex<(records: [Key: Record], sequence: Int64)>(([:], 0))

    init(registry: Registry, component: String, repeatInterval: Duration, logger: Logger) {
        self.registry = registry
        self.component = component
        self.repeatInterval = repeatInterval
        self.logger = logger
    }

    /// Records an event about `object` (a PV or PVC). Failures are logged, never thrown: a
    /// controller does not fail its sync because an event could not be written.
    func emit(_ object: JSONValue, type: String, reason: String, message: String) {
        guard let kind = object["kind"]?.stringValue, let name = object.string(at: "metadata", "name") else { return }
        let uid = object.string(at: "metadata", "uid") ?? ""
        let involvedNamespace = object.string(at: "metadata", "namespace") ?? ""
        let key = Key(uid: uid, type: type, reason: reason, message: message)
        let now = registry.clock()
        let interval = repeatInterval.components.seconds
        enum Plan { case skip, create(String), bump(Record) }
        let plan: Plan = state.withLock { state in
            if var record = state.records[key] {
                if now.seconds - record.lastEmitted.seconds < interval { return .skip }
                record.lastEmitted = now
                record.count += 1
                state.records[key] = record
                return .bump(record)
            }
            if state.records.count >= Self.recordLimit {
                // Forget the oldest half: a forgotten event is recorded anew, never lost.
                let oldest = state.records.sorted { $0.value.lastEmitted < $1.value.lastEmitted }.prefix(Self.recordLimit / 2)
                for (key, _) in oldest { state.records.removeValue(forKey: key) }
            }
            state.sequence += 1
            let nanos = now.seconds * 1_000_000_000 + now.microseconds * 1_000 + state.sequence
            let eventName = "\(name).\(String(nanos, radix: 16))"
            state.records[key] = Record(namespace: involvedNamespace.isEmpty ? "default" : involvedNamespace,
                                        name: eventName, lastEmitted: now, count: 1)
            return .create(eventName)
        }
        let namespace = involvedNamespace.isEmpty ? "default" : involvedNamespace
        do {
            switch plan {
            case .skip:
                return
            case .create(let eventName):
                var involved: JSONValue = [
                    "kind": .string(kind), "name": .string(name), "uid": .string(uid),
                    "apiVersion": .string(object["apiVersion"]?.stringValue ?? "v1"),
                    "resourceVersion": .string(object.string(at: "metadata", "resourceVersion") ?? ""),
                ]
                if !involvedNamespace.isEmpty { involved["namespace"] = .string(involvedNamespace) }
                let event: JSONValue = [
                    "apiVersion": "v1", "kind": "Event",
                    "metadata": ["name": .string(eventName), "namespace": .string(namespace)],
                    "involvedObject": involved, "reason": .string(reason), "message": .string(message),
                    "type": .string(type), "source": ["component": .string(component)],
                    "firstTimestamp": .string(now.rfc3339), "lastTimestamp": .string(now.rfc3339), "count": 1,
                    "reportingComponent": .string(component), "reportingInstance": "",
                ]
                _ = try registry.create(.events, namespace: namespace, body: event, dryRun: false)
            case .bump(let record):
                let patch: JSONValue = ["count": .int(record.count), "lastTimestamp": .string(now.rfc3339)]
                _ = try registry.patch(.events, namespace: record.namespace, name: record.name, subresource: nil,
                                       type: .mergePatch, patch: patch, dryRun: false)
            }
        } catch {
            logger.debug("LocalCluster: event not recorded", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }
}
