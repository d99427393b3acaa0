/// Which claims this provisioner provisions, and which of them it can: the external
/// provisioner protocol (sig-storage-lib-external-provisioner `shouldProvision`,
/// controller.go; docs/kubernetes-api-behaviour.md, "The PV controller and the
/// external-provisioner contract"), plus this provisioner's refusals.
package import KubeRuntime
import VolumeStorage
package enum ClaimRules {
    /// What to do with a claim.
    package enum Verdict: Sendable, Equatable {
        /// Not this provisioner's claim (or not yet): ignore silently.
        case notOurs(String)
        /// WaitForFirstConsumer class without a selected node: the scheduler decides first.
        case waitingForNode
        /// `pvc-<uid>` exists already.
        case alreadyProvisioned(String)
        /// The claim names us but its class is gone: report and retry later.
        case classMissing(String)
        /// This provisioner cannot serve the claim as it is (selector, block mode, data
        /// source, ReadWriteOncePod, no size, invalid parameters). The claim's spec and the class are
        /// immutable, so only a change of the claim (labels/annotations used by
        /// `pathPattern`) or a new class can help: report once, retry on such a change.
        case refused(String)
        /// Provision it with this class and parameters.
        case provision(StorageClass, StorageClassParameters)
    }

    /// The class a claim asks for: the legacy beta annotation wins over
    /// `spec.storageClassName` (component-helpers storage/volume helpers.go).
    package static func className(of claim: PersistentVolumeClaim) -> String? {
        if let beta = claim.metadata.annotations[Annotations.betaStorageClass], !beta.isEmpty { return beta }
        if let name = claim.spec?.storageClassName, !name.isEmpty { return name }
        return nil
    }

    /// The PV a claim's volume gets: `pvc-<claim uid>` (deterministic, so a retry after a
    /// crash finds it).
    package static func volumeName(for claim: PersistentVolumeClaim) -> String { "pvc-\(claim.metadata.uid)" }

    /// Decides for one claim against the caches.
    package static func verdict(
        for claim: PersistentVolumeClaim, provisionerName: String,
        storageClass: (String) -> StorageClass?, volumeExists: (String) -> Bool
    ) -> Verdict {
        if let volume = claim.spec?.volumeName, !volume.isEmpty { return .notOurs("already bound to \(volume)") }
        let annotations = claim.metadata.annotations
        let asked = annotations[Annotations.storageProvisioner] ?? annotations[Annotations.betaStorageProvisioner]
        guard asked == provisionerName else { return .notOurs("storage-provisioner annotation is \(asked ?? "absent")") }
        if claim.metadata.isTerminating { return .notOurs("the claim is being deleted") }
        // The uid names the PV (`pvc-<uid>`) and the ownership record: a claim without a
        // usable one (a non-conformant server, a broken webhook) is refused up front.
        let uid = claim.metadata.uid
        guard !uid.isEmpty, uid.utf8.count <= 128, uid.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
            return .refused(uid.isEmpty ? "the claim has no metadata.uid" : "the claim's metadata.uid is not a lowercase UUID-like name")
        }
        guard let className = className(of: claim) else { return .notOurs("no storage class") }
        guard let sc = storageClass(className) else { return .classMissing(className) }
        guard sc.provisioner == provisionerName else { return .notOurs("class \(className) belongs to \(sc.provisioner)") }
        if sc.volumeBindingMode == "WaitForFirstConsumer", (annotations[Annotations.selectedNode] ?? "").isEmpty {
            return .waitingForNode
        }
        let pvName = volumeName(for: claim)
        if volumeExists(pvName) { return .alreadyProvisioned(pvName) }
        if claim.spec?.selector != nil {
            return .refused("claim Selector is not supported")
        }
        if claim.spec?.volumeMode == "Block" {
            return .refused("\(provisionerName) does not support block volume provisioning (NFS volumes are filesystems)")
        }
        if claim.spec?.dataSource != nil || claim.spec?.dataSourceRef != nil {
            return .refused("cloning or restoring from a data source is not supported: the volume would be empty, not a copy")
        }
        if claim.spec?.accessModes?.contains("ReadWriteOncePod") == true {
            // Kubernetes documents ReadWriteOncePod for CSI volumes only; an in-tree NFS PV
            // carrying it would promise a single-pod guarantee that nothing here keeps.
            return .refused("access mode ReadWriteOncePod is not supported: Kubernetes documents it for CSI volumes only, "
                + "and this provisioner makes in-tree NFS volumes; ask for ReadWriteOnce, ReadOnlyMany or ReadWriteMany")
        }
        guard let request = claim.spec?.storageRequest else {
            return .refused("the claim requests no storage (spec.resources.requests.storage)")
        }
        do { _ = try request.value() } catch { return .refused("the claim's storage request is invalid: \(error)") }
        let parameters: StorageClassParameters
        do {
            parameters = try parse(parameters: sc.parameters ?? [:], className: className)
        } catch {
            return .refused(error.description)
        }
        return .provision(sc, parameters)
    }

    /// Parses a class's parameters, rejecting unknown keys (a misspelt `ondelete` must not
    /// silently mean "retain"), as csi-driver-nfs does and the original did not.
    package static func parse(parameters: [String: String], className: String) throws(ClassParameterError) -> StorageClassParameters {
        let unknown = parameters.keys.filter { !StorageClassParameters.keys.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw ClassParameterError(className: className, problem:
                "unknown parameter\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) (known: \(StorageClassParameters.keys.sorted().joined(separator: ", ")))")
        }
        do {
            return try StorageClassParameters(parsing: parameters)
        } catch {
            throw ClassParameterError(className: className, problem: error.description)
        }
    }
}

/// An invalid StorageClass parameter, naming the class and the problem.
package struct ClassParameterError: Error, Sendable, Hashable, CustomStringConvertible {
    package var className: String
    package var problem: String
    package var description: String { "StorageClass \(className): \(problem)" }
}
