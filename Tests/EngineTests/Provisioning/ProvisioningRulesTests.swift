import Foundation
import LocalCluster
import MetricsTestKit
import Testing
import TestSupport
import TestTraits
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

/// What is provisioned and what is refused, and how the engine reports it.
@Suite("Provisioning rules, events, metrics and leadership", .timeLimit(.minutes(2)), .shutsDownTestBeds)
struct ProvisioningRulesTests {
    func waitForFailure(_ bed: EngineTestBed, _ ns: String, _ name: String, containing text: String) async throws {
        try await bed.waitUntil("ProvisioningFailed containing \(text)") {
            try await bed.events(about: name, namespace: ns).contains { $0.reason == "ProvisioningFailed" && ($0.message ?? "").contains(text) }
        }
    }

    @Test("a pathPattern that escapes the export is refused, from the class or through an annotation value; nothing is created")
    func traversal_isRefused() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("dotdot", parameters: ["pathPattern": "../${.PVC.name}"])
        try await bed.createClass("absolute", parameters: ["pathPattern": "/etc/${.PVC.name}"])
        try await bed.createClass("byannotation", parameters: ["pathPattern": "${.PVC.annotations.example.com/path}/${.PVC.name}"])
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        try await bed.createClaim("x", "up", className: "dotdot")
        try await bed.createClaim("x", "abs", className: "absolute")
        try await bed.createClaim("x", "sneaky", className: "byannotation", annotations: ["example.com/path": "../../etc"])
        try await waitForFailure(bed, "x", "up", containing: "pathPattern")
        try await waitForFailure(bed, "x", "abs", containing: "pathPattern")
        try await waitForFailure(bed, "x", "sneaky", containing: "pathPattern")
        #expect(bed.volumeDirectories("a").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: bed.root.child("exports")).sorted() == ["a"])
        #expect(try await bed.claim("x", "up")?.status?.phase == "Pending")
        try await run.stop()
    }

    @Test("selector, block mode, data source and unknown parameters get a ProvisioningFailed event naming the reason")
    func unsupportedClaims_areReported() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        try await bed.createClass("typo", parameters: ["ondelete": "delete"])
        try await bed.createClass("badbool", parameters: ["archiveOnDelete": "yes"])
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        _ = try await bed.client.create(PersistentVolumeClaim(
            metadata: ObjectMeta(name: "picky", namespace: "x"),
            spec: .init(accessModes: ["ReadWriteOnce"], resources: .init(requests: ["storage": "1Gi"]), storageClassName: "nfs",
                        selector: LabelSelector(matchLabels: ["disk": "ssd"]))))
        _ = try await bed.client.create(PersistentVolumeClaim(
            metadata: ObjectMeta(name: "raw", namespace: "x"),
            spec: .init(accessModes: ["ReadWriteOnce"], resources: .init(requests: ["storage": "1Gi"]), storageClassName: "nfs", volumeMode: "Block")))
        _ = try await bed.client.create(PersistentVolumeClaim(
            metadata: ObjectMeta(name: "clone", namespace: "x"),
            spec: .init(accessModes: ["ReadWriteOnce"], resources: .init(requests: ["storage": "1Gi"]), storageClassName: "nfs",
                        dataSource: TypedLocalObjectReference(kind: "PersistentVolumeClaim", name: "picky"))))
        try await bed.createClaim("x", "typo", className: "typo")
        try await bed.createClaim("x", "badbool", className: "badbool")
        try await waitForFailure(bed, "x", "picky", containing: "Selector is not supported")
        try await waitForFailure(bed, "x", "raw", containing: "block volume")
        try await waitForFailure(bed, "x", "clone", containing: "data source")
        try await waitForFailure(bed, "x", "typo", containing: "unknown parameter ondelete")
        try await waitForFailure(bed, "x", "badbool", containing: "archiveOnDelete: 'yes' is not a boolean")
        #expect(bed.volumeDirectories("a").isEmpty)
        try await run.stop()
    }

    @Test("WaitForFirstConsumer: nothing happens until the scheduler picks a node")
    func waitForFirstConsumer_waitsForSelectedNode() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("late", bindingMode: "WaitForFirstConsumer")
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        try await bed.createClaim("x", "wait", className: "late")
        try await bed.waitUntil("WaitForFirstConsumer event") {
            try await bed.events(about: "wait", namespace: "x").contains { $0.reason == "WaitForFirstConsumer" }
        }
        #expect(bed.volumeDirectories("a").isEmpty)
        _ = try bed.cluster.selectNode(namespace: "x", claim: "wait", node: "node-1")
        try await bed.waitForBound("x", "wait")
        #expect(bed.volumeDirectories("a") == ["x-wait"])
        try await run.stop()
    }

    @Test("events that cannot be written never fail provisioning; metrics count provisions and deletes per class and member")
    func eventsFailing_metricsCounted() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs", parameters: ["onDelete": "delete"])
        _ = bed.cluster.injectFault(FaultRule(method: "POST", path: .contains("/events"), trigger: .always, action: .internalError))
        let metrics = TestMetrics()
        let run = try bed.startEngine(bed.configuration(members: ["a"]), metrics: EngineMetrics(factory: metrics))
        try await bed.createClaim("m", "one", className: "nfs")
        let pv = try await bed.waitForBound("m", "one")
        // Counted just after the PV is saved and its record marked bound: the claim can be
        // Bound a moment before.
        try await bed.waitUntil("provision counted") {
            (try? metrics.expectCounter("nfs_provisioner_provision_total", [("class", "nfs"), ("member", "a"), ("outcome", "success")])) != nil
        }
        let provisioned = try metrics.expectCounter("nfs_provisioner_provision_total", [("class", "nfs"), ("member", "a"), ("outcome", "success")])
        #expect(provisioned.totalValue == 1)
        #expect(try metrics.expectCounter("nfs_provisioner_placement_total", [("member", "a"), ("reason", "ring")]).totalValue == 1)
        #expect(try metrics.expectTimer("nfs_provisioner_provision_duration_seconds", [("class", "nfs"), ("member", "a")]).values.count == 1)
        try await bed.deleteClaim("m", "one")
        try await bed.waitUntil("PV deleted") { try await bed.volume(pv.metadata.name) == nil }
        try await bed.waitUntil("delete counted") {
            (try? metrics.expectCounter("nfs_provisioner_delete_total", [("member", "a"), ("policy", "delete"), ("outcome", "success")]).totalValue) == 1
        }
        let ours = try await bed.client.list(Event.self, namespace: "m").items.filter { $0.source?.component == "nfs-cluster-provisioner" }
        #expect(ours.isEmpty, "the events really failed")
        try await run.stop()
    }

    @Test("losing the lease stops the work and run() fails")
    func lostLease_stopsWork() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let run = try bed.startEngine(bed.configuration(members: ["a"])) { options in
            options.leaderElection = LeaderElectionConfiguration(identity: "me", leaseName: "example.com-nfs", namespace: "default",
                                                                 leaseDuration: .seconds(3), renewDeadline: .seconds(2), retryPeriod: .milliseconds(200))
        }
        try await bed.waitUntil("leading") { await run.engine.leadership == .leader }
        // Someone else takes the lease (e.g. a partition made us look dead). The elector
        // renews every 200 ms, so on a busy machine a few attempts may meet a conflict.
        _ = try await bed.client.modify(Lease.self, name: "example.com-nfs", namespace: "default", maxAttempts: 100) { lease in
            lease.spec?.holderIdentity = "someone-else"
            lease.spec?.renewTime = MicroTime(Date())
        }
        await #expect(throws: LeaderElectionError.self) { try await run.task.value }
        // run() has returned, and with it every task the engine started (they all live in
        // its task groups): nothing is left that could act on a claim, and its queues are
        // shut down.
        try await bed.createClaim("x", "after", className: "nfs")
        #expect(await run.engine.controller.status.claimsQueued == 0)
        #expect(bed.volumeDirectories("a").isEmpty, "no work after the lease is lost")
    }
}
