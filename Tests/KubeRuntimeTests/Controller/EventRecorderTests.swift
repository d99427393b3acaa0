// EventRecorder: its bounded buffer (EventQueue: oldest dropped, outcome supersedes
// progress) and its writers against LocalCluster (aggregation, several writes at once).
@testable import KubeRuntime
import Foundation
import Logging
import LocalCluster
import TestSupport
import Testing

private func event(_ uid: String, _ reason: String, supersedes: Set<String> = [], message: String = "m") -> EventRequest {
    EventRequest(involved: ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: "ns", name: "claim-\(uid)", uid: uid),
                 type: .normal, reason: reason, message: message, supersedes: supersedes)
}

@Suite("EventQueue: the recorder's buffer")
struct EventQueueTests {
    @Test func full_dropsTheOldest_andKeepsOrder() {
        var queue = EventQueue(capacity: 2)
        queue.append(event("1", "A"))
        queue.append(event("2", "A"))
        queue.append(event("3", "A"))
        #expect(queue.dropped == 1)
        #expect(queue.take(10).map(\.involved.uid) == ["2", "3"])
        #expect(queue.isEmpty)
    }

    @Test func anOutcome_replacesTheWaitingProgressEventOfTheSameObjectOnly() {
        var queue = EventQueue(capacity: 10)
        queue.append(event("1", "Provisioning"))
        queue.append(event("2", "Provisioning"))
        queue.append(event("1", "ProvisioningSucceeded", supersedes: ["Provisioning"]))
        #expect(queue.superseded == 1)
        #expect(queue.take(10).map { "\($0.involved.uid!):\($0.reason)" } == ["2:Provisioning", "1:ProvisioningSucceeded"])

        // Already taken (being written): nothing to supersede, both are written.
        queue.append(event("3", "Provisioning"))
        #expect(queue.take(1).map(\.reason) == ["Provisioning"])
        queue.append(event("3", "ProvisioningSucceeded", supersedes: ["Provisioning"]))
        #expect(queue.superseded == 1)
        #expect(queue.take(10).map(\.reason) == ["ProvisioningSucceeded"])
    }

    @Test func aBurstOfClaims_holdsOneEventPerClaim_soNoOutcomeIsDropped() {
        // 1,500 claims whose two events arrive before any is written, in a buffer of 1,000:
        // without superseding, 2,000 of the 3,000 would be dropped, outcomes among them.
        var queue = EventQueue(capacity: 1000)
        for i in 0..<1500 {
            queue.append(event("\(i)", "Provisioning"))
            queue.append(event("\(i)", "ProvisioningSucceeded", supersedes: ["Provisioning"]))
        }
        #expect(queue.superseded == 1500)
        #expect(queue.count == 1000)
        let left = queue.take(2000)
        #expect(left.allSatisfy { $0.reason == "ProvisioningSucceeded" })
        #expect(left.first?.involved.uid == "500" && left.last?.involved.uid == "1499")
    }

    @Test func take_stopsBeforeAnIdenticalEvent_andOrderSurvivesCompaction() {
        var queue = EventQueue(capacity: 10_000)
        queue.append(event("1", "A"))
        queue.append(event("1", "A"))
        queue.append(event("2", "A"))
        #expect(queue.take(10).count == 1, "the second identical one is aggregated after the first is written")
        #expect(queue.take(10).count == 2)
        for i in 0..<5000 { queue.append(event("\(i)", "B")) }
        var seen: [String] = []
        while !queue.isEmpty { seen += queue.take(7).map { $0.involved.uid! } }
        #expect(seen == (0..<5000).map(String.init))
    }
}

@Suite("EventRecorder against LocalCluster", .timeLimit(.minutes(1)))
struct EventRecorderClusterTests {
    @Test func writesEveryQueuedEvent_aggregatesRepeats_andRunEndsAfterFinish() async throws {
        try await withKubeCluster { h in
            var configuration = EventRecorder.Configuration()
            configuration.writers = 4
            let recorder = EventRecorder(client: h.client, configuration: configuration,
                                         logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            let run = Task { await recorder.run() }
            for i in 0..<40 { recorder.record(event("u\(i)", "ProvisioningSucceeded", message: "claim \(i)")) }
            // The same event three times about one object: one Event, count 3.
            for _ in 0..<3 { recorder.record(event("same", "ProvisioningFailed", message: "no space")) }
            recorder.finish()
            await run.value
            let events = try await h.client.list(Event.self, namespace: "ns").items
            #expect(events.filter { $0.reason == "ProvisioningSucceeded" }.count == 40)
            #expect(Set(events.compactMap { $0.involvedObject.uid }).count == 41)
            let repeated = events.filter { $0.reason == "ProvisioningFailed" }
            #expect(repeated.count == 1)
            #expect(repeated.first?.count == 3)
            #expect(await recorder.written == 43)
            #expect(await recorder.dropped == 0)
            // Finished: later events are not taken.
            recorder.record(event("late", "X"))
            #expect(try await h.client.list(Event.self, namespace: "ns").items.count == 41)
        }
    }

    @Test func run_returnsWhenCancelledWhileWaiting() async throws {
        try await withKubeCluster { h in
            let recorder = EventRecorder(client: h.client, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            let run = Task { await recorder.run() }
            try await Task.sleep(for: .milliseconds(50))
            run.cancel()
            await run.value  // returns: a hang here fails the suite's time limit
            #expect(run.isCancelled)
        }
    }
}
