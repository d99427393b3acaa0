import Foundation
import Testing
import TestSupport
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

/// Table tests of the provisioning rules (in the manner of sig-storage-lib's
/// `TestShouldProvision`) and of the mapping from a reconcile's result to the work queue.
@Suite("Reconcile contract: claim rules and outcome mapping")
struct ReconcileContractTests {
    static let provisioner = "example.com/nfs"

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var claim: PersistentVolumeClaim
        var className: String? = "nfs"
        var classProvisioner = ReconcileContractTests.provisioner
        var bindingMode = "Immediate"
        var parameters: [String: String] = [:]
        var volumeExists = false
        var expected: String
        var testDescription: String { name }
    }

    static func claim(uid: String = "6f1c2a9e-0000-4000-8000-000000000001", annotations: [String: String]? = nil,
                      spec: PersistentVolumeClaim.Spec? = nil, deleting: Bool = false) -> PersistentVolumeClaim {
        PersistentVolumeClaim(
            metadata: ObjectMeta(name: "db", namespace: "team-a", uid: uid,
                                 deletionTimestamp: deleting ? KubeTime(Date()) : nil,
                                 annotations: annotations ?? [Annotations.storageProvisioner: provisioner]),
            spec: spec ?? .init(accessModes: ["ReadWriteMany"], resources: .init(requests: ["storage": Quantity("1Gi")]), storageClassName: "nfs"))
    }

    static let cases: [Case] = [
        Case(name: "ours: provision", claim: claim(), expected: "provision"),
        Case(name: "beta annotation only", claim: claim(annotations: [Annotations.betaStorageProvisioner: provisioner]), expected: "provision"),
        Case(name: "another provisioner's annotation", claim: claim(annotations: [Annotations.storageProvisioner: "other.io/x"]), expected: "notOurs"),
        Case(name: "no annotation", claim: claim(annotations: [:]), expected: "notOurs"),
        Case(name: "already bound", claim: claim(spec: .init(resources: .init(requests: ["storage": Quantity("1Gi")]), storageClassName: "nfs", volumeName: "pv-x")), expected: "notOurs"),
        Case(name: "being deleted", claim: claim(deleting: true), expected: "notOurs"),
        Case(name: "class missing", claim: claim(), className: nil, expected: "classMissing"),
        Case(name: "class of another provisioner", claim: claim(), classProvisioner: "other.io/x", expected: "notOurs"),
        Case(name: "WaitForFirstConsumer without node", claim: claim(), bindingMode: "WaitForFirstConsumer", expected: "waitingForNode"),
        Case(name: "WaitForFirstConsumer with node", claim: claim(annotations: [Annotations.storageProvisioner: provisioner, Annotations.selectedNode: "n1"]),
             bindingMode: "WaitForFirstConsumer", expected: "provision"),
        Case(name: "PV exists", claim: claim(), volumeExists: true, expected: "alreadyProvisioned"),
        Case(name: "no uid", claim: claim(uid: ""), expected: "refused"),
        Case(name: "uid with a slash", claim: claim(uid: "a/b"), expected: "refused"),
        Case(name: "block mode", claim: claim(spec: .init(resources: .init(requests: ["storage": Quantity("1Gi")]), storageClassName: "nfs", volumeMode: "Block")), expected: "refused"),
        Case(name: "selector", claim: claim(spec: .init(resources: .init(requests: ["storage": Quantity("1Gi")]), storageClassName: "nfs", selector: LabelSelector())), expected: "refused"),
        Case(name: "no size", claim: claim(spec: .init(storageClassName: "nfs")), expected: "refused"),
        Case(name: "unknown class parameter", claim: claim(), parameters: ["ondelete": "delete"], expected: "refused"),
    ]

    @Test(arguments: cases)
    func verdict(_ c: Case) {
        let sc = c.className.map {
            StorageClass(metadata: ObjectMeta(name: $0), provisioner: c.classProvisioner, parameters: c.parameters, volumeBindingMode: c.bindingMode)
        }
        let verdict = ClaimRules.verdict(for: c.claim, provisionerName: Self.provisioner,
                                         storageClass: { name in sc?.metadata.name == name ? sc : nil },
                                         volumeExists: { _ in c.volumeExists })
        let kind: String
        switch verdict {
        case .notOurs: kind = "notOurs"
        case .waitingForNode: kind = "waitingForNode"
        case .alreadyProvisioned: kind = "alreadyProvisioned"
        case .classMissing: kind = "classMissing"
        case .refused: kind = "refused"
        case .provision: kind = "provision"
        }
        #expect(kind == c.expected, "\(c.name): \(verdict)")
    }

    @Test func outcomeMapping() {
        typealias A = ReconcileFailure.Disposition.QueueAction
        let storageRetry = StorageError.timedOut(member: "a", operation: .createVolume, path: "p", after: .seconds(1))
        let storageTerminal = StorageError.unrecordedDirectory(member: "a", path: "p", operation: .deleteVolume)
        let rows: [(Result<ReconcileOutcome, any Error>, A)] = [
            (.success(.done), .forget),
            (.success(.requeue(after: .seconds(3))), .forgetAndAdd(after: .seconds(3))),
            (.failure(ReconcileFailure(.placement, "no member", .retry)), .backoff),
            (.failure(ReconcileFailure(.invalidObject, "bad", .terminal)), .forget),
            (.failure(ReconcileFailure.storage(storageRetry, "x")), .backoff),
            (.failure(ReconcileFailure.storage(storageTerminal, "x")), .forget),
            (.failure(ReconcileFailure.storage(.cancelled(member: "a", operation: .deleteVolume), "x")), .stop),
            (.failure(ReconcileFailure.api(.invalidRequest("bad name"), "x")), .forget),
            (.failure(ReconcileFailure.cancelled), .stop),
            (.failure(CancellationError()), .stop),
            (.failure(storageTerminal), .forget),
            (.failure(URLError(.badURL)), .backoff),
        ]
        for (i, (result, expected)) in rows.enumerated() {
            #expect(ReconcileResultMapping.action(for: result) == expected, "row \(i)")
        }
    }
}
