import Foundation
import RingCore
public import KubeRuntime
import VolumeStorage

/// Turns a claim of ours into a directory on a member and a PV pointing at it.
///
/// Level-based: it reads the caches and decides from the current state, never from the
/// event that woke it. Idempotent: every step can be repeated after a crash or a
/// cancellation at any point, because
/// - the PV name is `pvc-<claim uid>` and "already exists" is success;
/// - a directory carrying this claim's marker is found again on any member (placement
///   rule 1), so a crash between the directory and the PV never leaves a second directory;
/// - a directory this attempt created is removed again if its PV cannot be saved.
public struct ClaimReconciler: Sendable {
    public let context: ProvisioningContext

    public init(context: ProvisioningContext) { self.context = context }

    var provisionerName: String { context.configuration.provisionerName }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileOutcome {
        guard let claim = context.claims.get(key) else { return .done }
        let verdict = ClaimRules.verdict(
            for: claim, provisionerName: provisionerName,
            storageClass: { context.classes.get(name: $0) },
            volumeExists: { context.volumes.get(name: $0) != nil })
        switch verdict {
        case .notOurs, .waitingForNode, .alreadyProvisioned:
            return .done
        case .classMissing(let className):
            failed(claim, "storage class \"\(className)\" not found")
            throw ReconcileError("storage class \(className) of claim \(key) not found")
        case .refused(let why):
            failed(claim, why)
            context.metrics.provisioned(className: ClaimRules.className(of: claim) ?? "", member: "", outcome: "refused", duration: nil)
            return .done
        case .provision(let storageClass, let parameters):
            return try await provision(claim, storageClass: storageClass, parameters: parameters)
        }
    }

    private func failed(_ claim: PersistentVolumeClaim, _ message: String) {
        context.events.record(.about(claim, .warning, "ProvisioningFailed", message))
        context.logger.warning("cannot provision claim", metadata: [
            "claim": "\(claim.metadata.namespace)/\(claim.metadata.name)", "reason": "\(message)",
        ])
    }

    private func provision(_ claim: PersistentVolumeClaim, storageClass: StorageClass, parameters: StorageClassParameters) async throws -> ReconcileOutcome {
        let start = ContinuousClock.now
        let namespace = claim.metadata.namespace, name = claim.metadata.name, uid = claim.metadata.uid
        let className = ClaimRules.className(of: claim) ?? storageClass.metadata.name
        let volumeName = ClaimRules.volumeName(for: claim)
        context.events.record(.about(claim, .normal, "Provisioning", "External provisioner is provisioning volume for claim \"\(namespace)/\(name)\""))

        // The directory the class's pattern gives, and its collision-free alternative.
        let primary: RelativePath
        do {
            primary = try parameters.pathPattern.render(.init(
                namespace: namespace, name: name, uid: uid, volumeName: volumeName,
                labels: claim.metadata.labels, annotations: claim.metadata.annotations))
        } catch {
            // Labels and annotations of the claim can change, and a change re-enqueues it.
            failed(claim, "StorageClass \(className): pathPattern: \(error)")
            context.metrics.provisioned(className: className, member: "", outcome: "refused", duration: nil)
            return .done
        }
        let alternative = PathPattern.disambiguated(primary, namespace: namespace, name: name)

        // Look at every member: ring order, health, free space, what is at both paths.
        let snapshot = context.ring.snapshot
        let key = PlacementKey.forClaim(namespace: namespace, name: name)
        let candidates: [String]
        do {
            candidates = try snapshot.candidates(key, count: snapshot.members.count).map(\.name)
        } catch {
            failed(claim, "no NFS servers are configured")
            throw ReconcileError("ring is empty")
        }
        let (views, inspections) = await survey(candidates, primary: primary, alternative: alternative)
        let decision = Placement.decide(
            claim: .init(namespace: namespace, name: name, uid: uid), candidates: views, inspections: inspections,
            previousMember: previousMember(of: claim), minFreeBytes: context.configuration.minFreeBytes)

        switch decision {
        case .fail(let why):
            failed(claim, why)
            context.metrics.provisioned(className: className, member: "", outcome: "failed", duration: nil)
            throw ReconcileError("claim \(namespace)/\(name): \(why)")
        case .wait(let member, let why):
            failed(claim, why)
            context.metrics.provisioned(className: className, member: member, outcome: "waiting", duration: nil)
            return .requeue(after: context.configuration.waitForMemberInterval)
        case .place(let memberName, let pathChoice, let action, let reason):
            guard let entry = context.members.entry(memberName) else {
                throw ReconcileError("member \(memberName) disappeared from the configuration while placing \(namespace)/\(name)")
            }
            let path = pathChoice == .primary ? primary : alternative
            let marker = OwnershipMarker(provisioner: provisionerName, claimNamespace: namespace, claimName: name,
                                         claimUID: uid, volumeName: volumeName, createdAt: Date())
            let createdHere: Bool
            do {
                createdHere = try await prepareDirectory(entry.storage, path: path, action: action, marker: marker, mode: parameters.directoryMode)
            } catch {
                failed(claim, "member \(memberName) (\(entry.configuration.address)): cannot prepare directory \(VolumeFactory.exportPath(entry.configuration.export, path)): \(error)")
                context.metrics.provisioned(className: className, member: memberName, outcome: "failed", duration: nil)
                throw ReconcileError("claim \(namespace)/\(name) on member \(memberName): \(error)")
            }
            let volume = VolumeFactory.volume(
                for: claim, className: className, storageClass: storageClass, provisionerName: provisionerName,
                member: entry.configuration, directory: path, onDelete: parameters.deletePolicy, placement: reason)
            do {
                try await save(volume, for: claim)
            } catch {
                var message = "failed to save PersistentVolume \(volumeName) for claim \(namespace)/\(name): \(error)"
                if createdHere {
                    do {
                        _ = try await entry.storage.deleteVolume(relativePath: path, expectedClaimUID: uid)
                        message += "; removed the directory made for it, will retry"
                    } catch let cleanup {
                        message += "; the directory \(path) on member \(memberName) could not be removed (\(cleanup)), the next attempt reuses it"
                    }
                }
                failed(claim, message)
                context.metrics.provisioned(className: className, member: memberName, outcome: "failed", duration: nil)
                throw ReconcileError(message)
            }
            let how: String
            switch reason {
            case .reuse: how = "reusing this claim's existing directory"
            case .ring: how = "the ring's choice"
            case .spillOver(let skipped): how = "spill-over: \(skipped.joined(separator: "; "))"
            }
            context.events.record(.about(claim, .normal, "ProvisioningSucceeded",
                "Successfully provisioned volume \(volumeName) on member \(memberName) (\(entry.configuration.address):\(VolumeFactory.exportPath(entry.configuration.export, path))), \(how)"))
            context.metrics.placed(member: memberName, reason: VolumeFactory.placementLabel(reason))
            context.metrics.provisioned(className: className, member: memberName, outcome: "success", duration: start.duration(to: .now))
            context.logger.info("provisioned", metadata: [
                "claim": "\(namespace)/\(name)", "volume": "\(volumeName)", "member": "\(memberName)",
                "directory": "\(path)", "placement": "\(reason)",
            ])
            return .done
        }
    }

    /// Health, free space and what is at both paths, for every member, concurrently: a hung
    /// member costs one timeout, not one per member.
    private func survey(_ candidates: [String], primary: RelativePath, alternative: RelativePath) async -> ([Placement.MemberView], [Placement.Inspection]) {
        let results = await withTaskGroup(of: (Int, Placement.MemberView, Placement.Inspection?).self) { group in
            for (i, name) in candidates.enumerated() {
                group.addTask {
                    guard let entry = context.members.entry(name) else {
                        return (i, Placement.MemberView(name: name, active: false, available: false, unavailableReason: "not configured"), nil)
                    }
                    let active = entry.configuration.state == .active
                    let health = await entry.storage.health
                    guard health.condition.isAvailable else {
                        return (i, Placement.MemberView(name: name, active: active, available: false,
                                                        unavailableReason: "unhealthy: \(health.lastError.map { "\($0)" } ?? "\(health.condition)")"), nil)
                    }
                    do {
                        let p = try await entry.storage.inspectVolume(relativePath: primary)
                        let a = try await entry.storage.inspectVolume(relativePath: alternative)
                        let free = try? await context.freeSpace.stats(of: name, storage: entry.storage).availableBytes
                        return (i, Placement.MemberView(name: name, active: active, available: true, freeBytes: free),
                                Placement.Inspection(member: name, primary: p, alternative: a))
                    } catch {
                        return (i, Placement.MemberView(name: name, active: active, available: false, unavailableReason: "\(error)"), nil)
                    }
                }
            }
            var out: [(Int, Placement.MemberView, Placement.Inspection?)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
        return (results.map(\.1), results.compactMap(\.2))
    }

    /// The member recorded on the newest other PV of a claim with this namespace and name.
    private func previousMember(of claim: PersistentVolumeClaim) -> String? {
        context.volumes.objects
            .filter { pv in
                let ref = pv.spec?.claimRef
                return ref?.namespace == claim.metadata.namespace && ref?.name == claim.metadata.name
                    && ref?.uid != claim.metadata.uid && pv.metadata.annotations[Annotations.provisionedBy] == provisionerName
            }
            .max { ($0.metadata.creationTimestamp?.date ?? .distantPast) < ($1.metadata.creationTimestamp?.date ?? .distantPast) }?
            .metadata.annotations[Annotations.member]
    }

    /// Makes the directory ready; returns whether this call created it.
    private func prepareDirectory(_ storage: MemberStorage, path: RelativePath, action: Placement.Action, marker: OwnershipMarker, mode: FileMode) async throws -> Bool {
        switch action {
        case .alreadyOurs:
            return false
        case .adopt(let previous):
            try await storage.adoptVolume(relativePath: path, marker: marker, replacing: previous)
            return false
        case .create:
            switch try await storage.createVolume(relativePath: path, mode: mode, marker: marker) {
            case .created:
                return true
            case .alreadyOurs:
                return false
            case .existsWithMarker(let other) where other.isSameClaimName(as: marker):
                try await storage.adoptVolume(relativePath: path, marker: marker, replacing: other)
                return false
            case .existsWithMarker(let other):
                // Someone took the path between the survey and now: plan again.
                throw ReconcileError("\(path) was just taken by claim \(other.claimNamespace)/\(other.claimName)")
            case .existsWithoutMarker:
                try await storage.adoptVolume(relativePath: path, marker: marker, replacing: nil)
                return false
            }
        }
    }

    /// Saves the PV, retrying; "already exists" for this claim is success.
    private func save(_ volume: PersistentVolume, for claim: PersistentVolumeClaim) async throws {
        var delay = context.configuration.volumeCreateRetryDelay
        var lastError: (any Error)?
        for attempt in 1...max(1, context.configuration.volumeCreateAttempts) {
            do {
                let (stored, _) = try await context.client.createOrGetExisting(volume)
                guard stored.spec?.claimRef?.uid == claim.metadata.uid else {
                    throw ReconcileError("PersistentVolume \(volume.metadata.name) exists but is bound to another claim (uid \(stored.spec?.claimRef?.uid ?? "none"))", retryable: false)
                }
                return
            } catch let error as ReconcileError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastError = error
                if attempt < context.configuration.volumeCreateAttempts {
                    try await Task.sleep(for: delay)
                    delay = delay * 2
                }
            }
        }
        throw lastError ?? ReconcileError("no attempt made")
    }
}
