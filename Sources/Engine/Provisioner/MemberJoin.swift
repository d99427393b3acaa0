// A member joins: its ownership records are listed, and volumes made before records
// existed get one.
import Foundation
import Logging
import KubeRuntime
import VolumeStorage

/// What happens when a member joins the engine (at start, after a configuration reload
/// adds or re-points it, and again on every resync period):
///
/// 1. its free space is read, and its ownership records are listed into its in-memory index
///    (``MemberStorage/loadRecords()``); until that succeeds, placement skips the member;
/// 2. **migration**: every PV of ours that names the member (annotations written by
///    earlier versions, which kept the ownership marker inside the volume) and whose
///    directory exists gets a record (origin `migrated`); every NFS PV of this
///    provisioner without our annotations (made by the original Go provisioner) whose
///    `spec.nfs.path` lies under the member's export, on its address (or naming the export
///    path as the server, the original's bug), gets one too (origin `legacy`). A directory
///    no PV of ours names gets no record and is never adopted.
///
/// Both steps cost I/O on this member only, in the background; a PV whose directory
/// already has a record costs nothing.
struct MemberJoin {
    let context: ProvisioningContext

    /// Loads and migrates; returns how many records migration wrote.
    @discardableResult
    func join(_ entry: MemberRegistry.Entry) async throws(StorageError) -> Int {
        let storage = entry.storage
        let member = entry.configuration
        await storage.refreshFreeSpace()
        let problems = try await storage.loadRecords()
        if !problems.isEmpty { context.metrics.recordProblems(member: member.name, count: problems.count) }
        var written = 0
        let provisioner = context.configuration.provisionerName
        for pv in context.volumes.objects(index: VolumeIndexes.member, key: member.name)
        where pv.metadata.annotations[Annotations.provisionedBy] == provisioner {
            guard let annotated = try? VolumeRecord(annotations: pv.metadata.annotations),
                  storage.records.record(at: annotated.directory) == nil,
                  VolumeFactory.pointsAt(pv, member: member, directory: annotated.directory),
                  let claim = Self.claim(of: pv, uid: annotated.claimUID)
            else { continue }
            written += try await importRecord(storage, pv: pv, path: annotated.directory, claim: claim, origin: .migrated)
        }
        let export = VolumeFactory.exportPath(member.export, .root)
        let prefix = export == "/" ? "/" : export + "/"
        for pv in context.volumes.objects(index: VolumeIndexes.unrecorded, key: "nfs")
        where pv.metadata.annotations[Annotations.provisionedBy] == provisioner {
            guard let nfs = pv.spec?.nfs, nfs.server == member.address || nfs.server == export || nfs.server == member.export,
                  nfs.path.hasPrefix(prefix),
                  let path = try? RelativePath(String(nfs.path.dropFirst(prefix.count))),
                  !path.isRoot, !ReservedNames.contains(path), storage.records.record(at: path) == nil,
                  let claim = Self.claim(of: pv, uid: nil)
            else { continue }
            written += try await importRecord(storage, pv: pv, path: path, claim: claim, origin: .legacy)
        }
        if written > 0 {
            context.logger.notice("ownership records written for existing volumes", metadata: [
                "member": "\(member.name)", "records": "\(written)",
            ])
        }
        return written
    }

    private func importRecord(_ storage: MemberStorage, pv: PersistentVolume, path: RelativePath, claim: ClaimIdentity,
                              origin: OwnershipRecord.Origin) async throws(StorageError) -> Int {
        let state: OwnershipRecord.State = pv.status?.phase == "Released" ? .released : .bound
        let record = OwnershipRecord(provisioner: context.configuration.provisionerName, path: path, claim: claim,
                                     volumeName: pv.metadata.name, state: state, origin: origin,
                                     at: pv.metadata.creationTimestamp?.date ?? context.wallClock())
        do throws(StorageError) {
            return try await storage.importRecord(record) ? 1 : 0
        } catch {
            // One bad entry (a file where the directory should be) must not stop the rest.
            if case .unexpectedFileType = error { return 0 }
            if case .invalidRecord = error { return 0 }
            throw error
        }
    }

    private static func claim(of pv: PersistentVolume, uid: String?) -> ClaimIdentity? {
        guard let ref = pv.spec?.claimRef, let namespace = ref.namespace, let name = ref.name else { return nil }
        let claimUID = (uid?.isEmpty == false ? uid : ref.uid) ?? ""
        guard !claimUID.isEmpty else { return nil }
        return ClaimIdentity(namespace: namespace, name: name, uid: claimUID)
    }
}

/// Finds the volumes a crash left behind: records still `creating`, older than the grace
/// period, for a claim uid no cached claim has and with no PV `pvc-<uid>`. Each is removed
/// when its directory is empty or missing, and reported (log, metric) when it is not.
struct OrphanCollector {
    let context: ProvisioningContext

    @discardableResult
    func collect() async -> (removed: Int, kept: Int) {
        let now = context.wallClock()
        let liveUIDs = Set(context.claims.objects.map(\.metadata.uid))
        let grace = Double(context.configuration.orphanGracePeriod.components.seconds)
        var removed = 0, kept = 0
        for entry in context.members.all where entry.storage.records.isLoaded {
            var memberRemoved = 0, memberKept = 0
            for record in entry.storage.records.all
            where record.kind == .volume && record.state == .creating && now.timeIntervalSince(record.updatedAt) >= grace {
                let uid = record.claimUID
                guard !liveUIDs.contains(uid), context.volumes.get(name: "pvc-\(uid)") == nil,
                      context.volumes.get(name: record.volumeName) == nil else { continue }
                do throws(StorageError) {
                    switch try await entry.storage.removeOrphan(relativePath: record.path, claimUID: uid) {
                    case .removed:
                        memberRemoved += 1
                        context.logger.notice("removed an empty volume left by a crash", metadata: [
                            "member": "\(entry.configuration.name)", "directory": "\(record.path)", "claimUID": "\(uid)",
                        ])
                    case .keptNotEmpty:
                        memberKept += 1
                        context.logger.warning("a volume left by a crash holds data; it is kept for an operator", metadata: [
                            "member": "\(entry.configuration.name)", "directory": "\(record.path)", "claimUID": "\(uid)",
                            "claim": "\(record.claim.map { "\($0.namespace)/\($0.name)" } ?? "?")",
                        ])
                    case .changed:
                        continue
                    }
                } catch {
                    context.logger.warning("could not check a volume left by a crash", metadata: [
                        "member": "\(entry.configuration.name)", "directory": "\(record.path)", "error": "\(error)",
                    ])
                }
            }
            if memberRemoved > 0 { context.metrics.orphans(member: entry.configuration.name, action: "removed", count: memberRemoved) }
            if memberKept > 0 { context.metrics.orphans(member: entry.configuration.name, action: "kept", count: memberKept) }
            removed += memberRemoved
            kept += memberKept
        }
        return (removed, kept)
    }
}
