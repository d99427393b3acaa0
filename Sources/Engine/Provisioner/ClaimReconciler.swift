import Foundation
import RingCore
package import KubeRuntime
import VolumeStorage

/// Turns a claim of ours into a directory on a member and a PV pointing at it.
///
/// Level-based: it reads the caches and decides from the current state, never from the
/// event that woke it. Idempotent: every step can be repeated after a crash or a
/// cancellation at any point, because
/// - the PV name is `pvc-<claim uid>` and "already exists" is success;
/// - the ownership record naming this claim is written before the directory and found
///   again on any member (placement rule 1), so a crash between the record and the PV
///   never leaves a second directory;
/// - a directory this attempt created is removed again if its PV cannot be saved.
package struct ClaimReconciler: Sendable {
    package let context: ProvisioningContext

    package init(context: ProvisioningContext) { self.context = context }

    var provisionerName: String { context.configuration.provisionerName }

    package func reconcile(_ key: ObjectKey) async throws -> ReconcileOutcome {
        guard let claim = context.claims.get(key) else { return .done }
        let verdict = ClaimRules.verdict(
            for: claim, provisionerName: provisionerName,
            storageClass: { context.classes.get(name: $0) },
            volumeExists: { context.volumes.get(name: $0) != nil })
        let className = ClaimRules.className(of: claim) ?? ""
        let result: Result<Provisioned, Failed>
        switch verdict {
        case .notOurs, .waitingForNode, .alreadyProvisioned:
            return .done
        case .classMissing(let missing):
            // A class created later re-queues its claims: nothing to retry meanwhile.
            result = .failure(Failed(.init(.invalidObject, "storage class \"\(missing)\" not found", .terminal), outcome: "refused"))
        case .refused(let why):
            result = .failure(Failed(.init(.invalidObject, why, .terminal), outcome: "refused"))
        case .provision(let storageClass, let parameters):
            context.events.record(.about(claim, .normal, "Provisioning",
                "External provisioner is provisioning volume for claim \"\(claim.metadata.namespace)/\(claim.metadata.name)\""))
            result = await provision(claim, storageClass: storageClass, parameters: parameters)
        }
        return try report(claim, className: className, result)
    }

    /// A provisioned volume, for the report.
    struct Provisioned: Sendable {
        var member: String
        var message: String
        var reason: Placement.Reason
        var volumeName: String
        var directory: RelativePath
        var duration: Duration
    }

    /// A failed (or waiting) provisioning, for the report: the typed failure, the metric
    /// outcome (`failed`, `refused`, `waiting`), the member concerned, and for a wait the
    /// delay after which to look again.
    struct Failed: Error, Sendable {
        var failure: ReconcileFailure
        var outcome: String
        var member: String = ""
        var requeueAfter: Duration? = nil

        init(_ failure: ReconcileFailure, outcome: String = "failed", member: String = "", requeueAfter: Duration? = nil) {
            self.failure = failure
            self.outcome = outcome
            self.member = member
            self.requeueAfter = requeueAfter
        }
    }

    /// The one place that turns a result into Events, metrics, logs and the queue's outcome.
    private func report(_ claim: PersistentVolumeClaim, className: String, _ result: Result<Provisioned, Failed>) throws -> ReconcileOutcome {
        let claimName = "\(claim.metadata.namespace)/\(claim.metadata.name)"
        switch result {
        case .success(let done):
            // The outcome replaces the "Provisioning" Event if that is still unwritten (in a
            // burst): one write per claim instead of two, and describe shows the outcome.
            context.events.record(.about(claim, .normal, "ProvisioningSucceeded", done.message, supersedes: ["Provisioning"]))
            context.metrics.placed(member: done.member, reason: VolumeFactory.placementLabel(done.reason))
            context.metrics.provisioned(className: className, member: done.member, outcome: "success", duration: done.duration)
            context.logger.info("provisioned", metadata: [
                "claim": "\(claimName)", "volume": "\(done.volumeName)", "member": "\(done.member)",
                "directory": "\(done.directory)", "placement": "\(done.reason)",
            ])
            return .done
        case .failure(let failed):
            if failed.failure.isCancellation { throw failed.failure }
            context.events.record(.about(claim, .warning, "ProvisioningFailed", failed.failure.message, supersedes: ["Provisioning"]))
            context.metrics.provisioned(className: className, member: failed.member, outcome: failed.outcome, duration: nil)
            context.logger.warning("cannot provision claim", metadata: [
                "claim": "\(claimName)", "reason": "\(failed.failure.message)", "disposition": "\(failed.failure.disposition)",
            ])
            if let delay = failed.requeueAfter { return .requeue(after: delay) }
            throw failed.failure
        }
    }

    private func provision(_ claim: PersistentVolumeClaim, storageClass: StorageClass, parameters: StorageClassParameters) async -> Result<Provisioned, Failed> {
        let start = ContinuousClock.now
        let namespace = claim.metadata.namespace, name = claim.metadata.name, uid = claim.metadata.uid
        let className = ClaimRules.className(of: claim) ?? storageClass.metadata.name
        let volumeName = ClaimRules.volumeName(for: claim)

        // The directory the class's pattern gives, and its collision-free alternative.
        let primary: RelativePath
        do {
            primary = try parameters.pathPattern.render(.init(
                namespace: namespace, name: name, uid: uid, volumeName: volumeName,
                labels: claim.metadata.labels, annotations: claim.metadata.annotations))
        } catch {
            // Labels and annotations of the claim can change, and a change re-enqueues it.
            return .failure(Failed(.init(.invalidObject, "StorageClass \(className): pathPattern: \(error)", .terminal), outcome: "refused"))
        }
        let alternative = PathPattern.disambiguated(primary, namespace: namespace, name: name)

        // Decide from memory (records, health, free space), then act on the chosen member
        // only. A create that finds the index stale (the path taken after all) teaches the
        // index and decides again.
        let claimIdentity = ClaimIdentity(namespace: namespace, name: name, uid: uid)
        let placementClaim = Placement.Claim(namespace: namespace, name: name, uid: uid, primary: primary, alternative: alternative)
        for attempt in 1...3 {
            let decision: Placement.Decision
            do {
                decision = try await decide(placementClaim, claim: claim)
            } catch {
                return .failure(Failed(.init(.configuration, "no NFS servers are configured", .retry)))
            }
            switch decision {
            case .fail(let why):
                return .failure(Failed(.init(.placement, why, .retry)))
            case .wait(let member, let why):
                return .failure(Failed(.init(.placement, why, .retry), outcome: "waiting", member: member,
                                       requeueAfter: context.configuration.waitForMemberInterval))
            case .place(let memberName, let path, let action, let reason):
                guard let entry = context.members.entry(memberName) else {
                    return .failure(Failed(.init(.configuration, "member \(memberName) disappeared from the configuration while placing \(namespace)/\(name)", .retry)))
                }
                let where_ = "member \(memberName) (\(entry.configuration.address)): \(VolumeFactory.exportPath(entry.configuration.export, path))"
                let createdHere: Bool
                do throws(StorageError) {
                    createdHere = try await prepareDirectory(entry.storage, path: path, action: action, claim: claimIdentity,
                                                             volumeName: volumeName, mode: parameters.directoryMode)
                } catch where attempt < 3 && Self.isStaleIndex(error) {
                    // The index did not know: it does now (the member recorded what it found).
                    if case .unrecordedDirectory = error { entry.storage.records.markUnrecorded(path) }
                    context.logger.info("placement re-decided", metadata: [
                        "claim": "\(namespace)/\(name)", "member": "\(memberName)", "path": "\(path)", "why": "\(error)",
                    ])
                    continue
                } catch {
                    return .failure(Failed(.storage(error, "\(where_): cannot prepare the directory: \(error)"), member: memberName))
                }
                let volume = VolumeFactory.volume(
                    for: claim, className: className, storageClass: storageClass, provisionerName: provisionerName,
                    member: entry.configuration, directory: path, onDelete: parameters.deletePolicy, placement: reason)
                if let failure = await save(volume, for: claim) {
                    var message = "failed to save PersistentVolume \(volumeName) for claim \(namespace)/\(name): \(failure.message)"
                    if createdHere {
                        do throws(StorageError) {
                            _ = try await entry.storage.deleteVolume(relativePath: path, expectedClaimUID: uid)
                            message += "; removed the directory made for it, will retry"
                        } catch {
                            message += "; the directory \(path) on member \(memberName) could not be removed (\(error)), the next attempt reuses it"
                        }
                    }
                    return .failure(Failed(.init(failure.cause, message, failure.disposition), member: memberName))
                }
                do throws(StorageError) {
                    try await entry.storage.setRecordState(relativePath: path, claimUID: uid, .bound, at: context.wallClock())
                } catch {
                    // The PV is saved: the record says `creating` until the next write. It
                    // still names this claim, which is what every decision reads.
                    context.logger.warning("could not mark the ownership record bound", metadata: [
                        "claim": "\(namespace)/\(name)", "member": "\(memberName)", "error": "\(error)",
                    ])
                }
                let how: String
                switch reason {
                case .reuse: how = "reusing this claim's existing directory"
                case .ring: how = "the ring's choice"
                case .spillOver(let skipped): how = "spill-over: \(skipped.joined(separator: "; "))"
                }
                return .success(Provisioned(
                    member: memberName,
                    message: "Successfully provisioned volume \(volumeName) on member \(memberName) (\(entry.configuration.address):\(VolumeFactory.exportPath(entry.configuration.export, path))), \(how)",
                    reason: reason, volumeName: volumeName, directory: path, duration: start.duration(to: .now)))
            }
        }
        return .failure(Failed(.init(.placement, "claim \(namespace)/\(name): the chosen paths kept being taken; will retry", .retry)))
    }

    /// Failures of a create that mean "the index was stale": decide again.
    static func isStaleIndex(_ error: StorageError) -> Bool {
        switch error {
        case .pathTaken, .unrecordedDirectory, .overlapsVolume, .recordChanged: return true
        default: return false
        }
    }

    /// The placement decision, from memory only: the records naming this claim (by uid or
    /// namespace and name) on the members the claim locator names, the first ring
    /// candidates' health and free space (all members only when none of those can take
    /// it), and the PVs of the same claim name.
    private func decide(_ claim: Placement.Claim, claim object: PersistentVolumeClaim) async throws(RingError) -> Placement.Decision {
        let snapshot = context.ring.snapshot
        let key = PlacementKey.forClaim(namespace: claim.namespace, name: claim.name)
        var existing: [Placement.Existing] = []
        let holders = context.members.claimLocator.members(claimUID: claim.uid, namespace: claim.namespace, name: claim.name)
        for entry in holders.compactMap({ context.members.entry($0) }) {
            let index = entry.storage.records
            for record in index.records(claimUID: claim.uid) + index.records(namespace: claim.namespace, name: claim.name)
            where !existing.contains(where: { $0.member == entry.configuration.name && $0.record.path == record.path }) {
                existing.append(Placement.Existing(member: entry.configuration.name, record: record))
            }
        }
        let previous = previousMember(of: object)
        var extra: [Placement.MemberView] = []
        for name in Set(existing.map(\.member) + (previous.map { [$0] } ?? [])) { extra.append(await view(of: name)) }
        let isTaken: (String, RelativePath) -> Bool = { member, path in
            guard let entry = context.members.entry(member) else { return true }
            return entry.storage.records.conflict(at: path, forClaimUID: claim.uid) != nil
        }
        let total = snapshot.members.count
        var count = min(total, max(1, context.configuration.placementCandidates))
        var known: [String: Placement.MemberView] = [:]
        while true {
            let names = try snapshot.candidates(key, count: count).map(\.name)
            var views: [Placement.MemberView] = []
            for name in names {
                let view = if let seen = known[name] { seen } else { await view(of: name) }
                known[name] = view
                views.append(view)
            }
            let decision = Placement.decide(claim: claim, candidates: views, existing: existing, views: extra,
                                            isTaken: isTaken, previousMember: previous, minFreeBytes: context.configuration.minFreeBytes)
            if case .fail = decision, count < total {
                count = total
                continue
            }
            return decision
        }
    }

    /// What placement knows about one member, from memory.
    private func view(of name: String) async -> Placement.MemberView {
        guard let entry = context.members.entry(name) else {
            return Placement.MemberView(name: name, active: false, available: false, unavailableReason: "not configured")
        }
        let active = entry.configuration.state == .active
        let health = await entry.storage.health
        guard health.condition.isAvailable else {
            return Placement.MemberView(name: name, active: active, available: false,
                                        unavailableReason: "unhealthy: \(health.lastError.map { "\($0)" } ?? "\(health.condition)")")
        }
        guard entry.storage.records.isLoaded else {
            let why = entry.storage.records.loadError.map { "its ownership records could not be listed: \($0)" } ?? "its ownership records are not loaded yet"
            return Placement.MemberView(name: name, active: active, available: false, unavailableReason: why)
        }
        let reading = await entry.storage.lastFreeSpace
        return Placement.MemberView(name: name, active: active, available: true, freeBytes: reading.stats?.availableBytes,
                                    freeSpaceProblem: reading.error.map { "\($0)" } ?? (reading.measuredAt == nil ? "not measured yet" : nil))
    }

    /// The member recorded on the newest other PV of ours for a claim with this namespace
    /// and name (from the PV cache's claim index: no scan).
    private func previousMember(of claim: PersistentVolumeClaim) -> String? {
        context.volumes.objects(index: VolumeIndexes.claimName, key: claim.metadata.namespace + "/" + claim.metadata.name)
            .filter { pv in
                pv.spec?.claimRef?.uid != claim.metadata.uid && pv.metadata.annotations[Annotations.provisionedBy] == provisionerName
            }
            .max { ($0.metadata.creationTimestamp?.date ?? .distantPast) < ($1.metadata.creationTimestamp?.date ?? .distantPast) }?
            .metadata.annotations[Annotations.member]
    }

    /// Makes the directory ready on the chosen member; returns whether this call created it.
    private func prepareDirectory(_ storage: MemberStorage, path: RelativePath, action: Placement.Action, claim: ClaimIdentity,
                                  volumeName: String, mode: FileMode) async throws(StorageError) -> Bool {
        switch action {
        case .adopt(let previousUID):
            try await storage.adoptVolume(relativePath: path, claim: claim, volumeName: volumeName, replacingClaimUID: previousUID,
                                          mode: mode, at: context.wallClock())
            return false
        case .alreadyOurs, .create:
            switch try await storage.createVolume(relativePath: path, mode: mode, claim: claim, volumeName: volumeName,
                                                  provisioner: provisionerName, at: context.wallClock()) {
            case .created: return true
            case .alreadyOurs: return false
            }
        }
    }

    /// Saves the PV, retrying; "already exists" for this claim is success. Returns the
    /// failure, typed, or `nil`.
    private func save(_ volume: PersistentVolume, for claim: PersistentVolumeClaim) async -> ReconcileFailure? {
        var delay = context.configuration.volumeCreateRetryDelay
        var last: ReconcileFailure?
        for attempt in 1...max(1, context.configuration.volumeCreateAttempts) {
            do {
                let (stored, _) = try await context.client.createOrGetExisting(volume)
                guard stored.spec?.claimRef?.uid == claim.metadata.uid else {
                    return ReconcileFailure(.conflict, "PersistentVolume \(volume.metadata.name) exists but is bound to another claim (uid \(stored.spec?.claimRef?.uid ?? "none"))", .terminal)
                }
                return nil
            } catch let error as KubeError {
                let failure = ReconcileFailure.api(error, "\(error)")
                // A request the client or the server found invalid does not get better.
                if failure.disposition == .terminal { return failure }
                last = failure
            } catch {
                // Only cancellation reaches here (the client's errors are KubeErrors).
                return .cancelled
            }
            if attempt < context.configuration.volumeCreateAttempts {
                do { try await context.clock.sleep(for: delay) } catch { return .cancelled }
                delay = delay * 2
            }
        }
        return last ?? ReconcileFailure(.configuration, "no attempt made to save the PV", .retry)
    }
}
