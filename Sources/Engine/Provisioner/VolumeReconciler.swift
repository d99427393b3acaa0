import Foundation
package import KubeRuntime
import VolumeStorage

/// Reclaims the storage of released PVs of ours and removes the PV.
///
/// Guarantees (and the assumptions behind them):
/// - **Only what the PV recorded is touched.** The member, the directory and the delete
///   policy come from the PV's annotations written at provisioning time; neither the ring
///   (which may have changed) nor the StorageClass (which may have been edited or deleted)
///   is consulted.
/// - **Retain PVs are never reclaimed.** Their data is never touched; if such a PV is
///   deleted while it still carries our finalizer (its policy was changed from Delete), the
///   finalizer is removed so the deletion can finish.
/// - **Only where the PV points.** The PV's `spec.nfs.server` and `spec.nfs.path` must be
///   the member's current address and `<export>/<directory>`; a member re-pointed since
///   (another address or export under the same name) gets an Event and nothing is touched.
/// - **Only what the member's ownership record allows.** The record (outside the volume,
///   where no tenant can write) must name this PV's claim uid. If it names another uid (a
///   claim of the same name re-created while this PV waited to be deleted took it over),
///   the data is left to its new owner and only the PV goes. If no record names the
///   directory, nothing is deleted and the PV stays, with an Event. Nothing inside the
///   volume is read.
/// - **A PV without a record** (made under our name by the original Go provisioner, which
///   recorded nothing and even named the export path as the server) keeps its data: only
///   the PV object is deleted, with an Event saying where the data stays.
/// - Storage is reclaimed only when the PV is `Released` with reclaim policy `Delete`
///   (sig-storage-lib `shouldDelete`), then the PV is deleted, then our finalizer removed;
///   a missing PV at either step counts as done.
package struct VolumeReconciler: Sendable {
    package let context: ProvisioningContext

    package init(context: ProvisioningContext) { self.context = context }

    package func reconcile(_ key: ObjectKey) async throws -> ReconcileOutcome {
        guard let pv = context.volumes.get(key) else { return .done }
        guard pv.metadata.annotations[Annotations.provisionedBy] == context.configuration.provisionerName else { return .done }
        // Reclaimed already: the watch events of its deletion and of the finalizer's removal
        // bring it back once or twice more; the cache may still show it Released.
        if context.reclaimed.contains(pv.metadata.uid) { return .done }
        let hasFinalizer = pv.metadata.finalizers.contains(Annotations.provisionerFinalizer)
        let reclaim = pv.spec?.persistentVolumeReclaimPolicy ?? "Retain"
        guard reclaim == "Delete" else {
            if pv.metadata.isTerminating && hasFinalizer {
                do { try await removeFinalizer(pv) } catch let error as KubeError {
                    throw ReconcileFailure.api(error, "removing the finalizer of \(pv.metadata.name): \(error)")
                }
            }
            return .done
        }
        guard pv.status?.phase == "Released" else { return .done }
        if pv.metadata.isTerminating && !hasFinalizer { return .done }
        return try report(pv, await reclaimVolume(pv))
    }

    /// What a reclaim did, for the report.
    struct Reclaimed: Sendable {
        var note: String
        var member: String
        var policy: String
        var duration: Duration
    }

    /// A failed reclaim, for the report: the typed failure, the metric outcome (`failed`,
    /// `refused`), the member and policy concerned.
    struct Failed: Error, Sendable {
        var failure: ReconcileFailure
        var outcome: String
        var member: String
        var policy: String
    }

    /// The one place that turns a result into Events, metrics, logs and the queue's outcome.
    private func report(_ pv: PersistentVolume, _ result: Result<Reclaimed, Failed>) throws -> ReconcileOutcome {
        switch result {
        case .success(let done):
            context.reclaimed.insert(pv.metadata.uid)
            context.metrics.deleted(member: done.member, policy: done.policy, outcome: "success", duration: done.duration)
            context.logger.info("volume reclaimed", metadata: ["volume": "\(pv.metadata.name)", "policy": "\(done.policy)", "result": "\(done.note)"])
            return .done
        case .failure(let failed):
            if failed.failure.isCancellation { throw failed.failure }
            context.events.record(.about(pv, .warning, "VolumeFailedDelete", failed.failure.message))
            context.metrics.deleted(member: failed.member, policy: failed.policy, outcome: failed.outcome, duration: nil)
            context.logger.warning("cannot reclaim volume", metadata: [
                "volume": "\(pv.metadata.name)", "reason": "\(failed.failure.message)", "disposition": "\(failed.failure.disposition)",
            ])
            throw failed.failure
        }
    }

    private func reclaimVolume(_ pv: PersistentVolume) async -> Result<Reclaimed, Failed> {
        let start = ContinuousClock.now
        if pv.metadata.annotations[Annotations.member] == nil && pv.metadata.annotations[Annotations.directory] == nil {
            // Provisioned under our name but with no record: a PV of the original Go
            // provisioner (same PROVISIONER_NAME). Where its data is cannot be known for
            // sure (it even named the export path as the server), so the data is kept and
            // only the PV goes, as the original effectively did, but saying so.
            let location = "\(pv.spec?.nfs?.server ?? "?"):\(pv.spec?.nfs?.path ?? "?")"
            context.events.record(.about(pv, .normal, "VolumeDataKept",
                "no provisioning record on this PV (made by an earlier provisioner?): its data at \(location) is kept; only the PV is deleted"))
            return await deleteVolumeObject(pv, note: "legacy PV, data kept at \(location)", member: "", policy: "legacy", since: start)
        }
        let record: VolumeRecord
        do {
            record = try VolumeRecord(annotations: pv.metadata.annotations)
        } catch {
            // Only an edit of the PV (which re-enqueues it) can help.
            return .failure(Failed(failure: .init(.invalidObject, "cannot reclaim: \(error); the PV is left as it is", .terminal),
                                   outcome: "refused", member: pv.metadata.annotations[Annotations.member] ?? "", policy: ""))
        }
        let policy = record.onDelete.rawValue
        guard let entry = context.members.entry(record.member) else {
            return .failure(Failed(failure: .init(.configuration, "member \(record.member) that holds \(record.directory) is not configured any more; add it back to reclaim the volume", .retry),
                                   outcome: "failed", member: record.member, policy: policy))
        }
        guard VolumeFactory.pointsAt(pv, member: entry.configuration, directory: record.directory) else {
            let expectedPath = VolumeFactory.exportPath(entry.configuration.export, record.directory)
            return .failure(Failed(failure: .init(.invalidObject, "the PV points at \(pv.spec?.nfs?.server ?? "?"):\(pv.spec?.nfs?.path ?? "?") but member \(record.member) is now \(entry.configuration.address):\(expectedPath); nothing is reclaimed (the member was re-pointed: put its old address and export back, or reclaim by hand)", .terminal),
                                   outcome: "refused", member: record.member, policy: policy))
        }
        let claimUID = record.claimUID.isEmpty ? (pv.spec?.claimRef?.uid ?? "") : record.claimUID
        let note: String
        switch await reclaimStorage(record, storage: entry.storage, volumeName: pv.metadata.name, claimUID: claimUID) {
        case .success(let text):
            note = text
        case .failure(.ownedByAnotherClaim(_, _, let owner, _)):
            note = "kept \(record.directory) on member \(record.member): claim \(owner) uses it now"
            context.events.record(.about(pv, .normal, "VolumeDataKept", note))
        case .failure(let error) where !error.isRetryable:
            // No record, a record of a parent, volumes inside it, an unreadable record:
            // the data stays and so does the PV (it is the pointer to that data).
            return .failure(Failed(failure: .storage(error, "\(record.onDelete) of \(record.directory) on member \(record.member) refused: \(error); the data and the PV are kept"),
                                   outcome: "refused", member: record.member, policy: policy))
        case .failure(let error):
            return .failure(Failed(failure: .storage(error, "\(record.onDelete) of \(record.directory) on member \(record.member) failed: \(error)"),
                                   outcome: "failed", member: record.member, policy: policy))
        }
        return await deleteVolumeObject(pv, note: note, member: record.member, policy: policy, since: start)
    }

    /// The storage is handled; now the PV object, then our finalizer.
    private func deleteVolumeObject(_ pv: PersistentVolume, note: String, member: String, policy: String,
                                    since start: ContinuousClock.Instant) async -> Result<Reclaimed, Failed> {
        do {
            _ = try await context.client.delete(PersistentVolume.self, name: pv.metadata.name,
                                                options: DeleteOptions(preconditions: .init(uid: pv.metadata.uid)))
            try await removeFinalizer(pv)
        } catch let error as KubeError where error.isConflict || error.isNotFound {
            // Gone already, or a PV of the same name but another uid: not the one we reclaimed.
        } catch let error as KubeError {
            return .failure(Failed(failure: .api(error, "storage handled (\(note)) but deleting the PersistentVolume failed: \(error)"),
                                   outcome: "failed", member: member, policy: policy))
        } catch {
            return .failure(Failed(failure: .cancelled, outcome: "failed", member: member, policy: policy))
        }
        return .success(Reclaimed(note: note, member: member, policy: policy, duration: start.duration(to: .now)))
    }

    /// Applies the recorded policy to the directory; returns what was done.
    private func reclaimStorage(_ record: VolumeRecord, storage: MemberStorage, volumeName: String, claimUID: String) async -> Result<String, StorageError> {
        do throws(StorageError) {
            switch record.onDelete {
            case .retain:
                do throws(StorageError) {
                    try await storage.setRecordState(relativePath: record.directory, claimUID: claimUID, .released, at: context.wallClock())
                } catch {
                    // A missing record changes nothing for retained data; anything else
                    // (another claim owns it now) is reported as for a delete.
                    if case .unrecordedDirectory = error {} else { throw error }
                }
                return .success("data retained in \(record.directory) on member \(record.member)")
            case .archive:
                switch try await storage.archiveVolume(relativePath: record.directory,
                                                       archiveName: ArchiveNaming.name(volumeName: volumeName, at: context.wallClock()),
                                                       expectedClaimUID: claimUID) {
                case .archived(let to): return .success("archived \(record.directory) to \(to) on member \(record.member)")
                case .alreadyGone: return .success("\(record.directory) on member \(record.member) was already gone")
                }
            case .delete:
                switch try await storage.deleteVolume(relativePath: record.directory, expectedClaimUID: claimUID) {
                case .deleted: return .success("deleted \(record.directory) on member \(record.member)")
                case .alreadyGone: return .success("\(record.directory) on member \(record.member) was already gone")
                }
            }
        } catch {
            return .failure(error)
        }
    }

    /// Removes our finalizer with a conditional merge patch; a missing PV is fine.
    private func removeFinalizer(_ pv: PersistentVolume) async throws {
        do {
            _ = try await context.client.modify(PersistentVolume.self, name: pv.metadata.name) { object in
                object.metadata.finalizers.removeAll { $0 == Annotations.provisionerFinalizer }
            }
        } catch let error as KubeError where error.isNotFound {
            return
        }
    }
}
