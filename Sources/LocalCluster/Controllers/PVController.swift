// The kube-controller-manager pieces a provisioner meets: the PV binder ("persistentvolume-
// controller") and the pvc-protection / pv-protection finalizer controllers.
//
// Event-driven like the originals (KK pkg/controller/volume/persistentvolume/
// pv_controller_base.go): every PVC, PV or StorageClass write queues the claims and volumes
// it can affect (``BinderIndex``), and the loop syncs just those; matching a claim looks at
// the few indexed candidates, not at every volume. A full level-triggered pass over
// everything runs at start and every resync period (the informers' resync). All writes go
// through the registry with the object's resourceVersion, so a client racing the controller
// gets (or causes) 409s; a failed write is retried by the next pass or the next change of
// the object (the real controller does the same on its next sync).

import Logging
import Synchronization

final class PVController: Sendable {
    let registry: Registry
    let events: EventRecorder
    let resyncPeriod: Duration
    let logger: Logger
    /// Claims in use by a (pretend) pod: pvc-protection keeps their finalizer.
    let claimsInUse = Mutex<Set<ObjectKey>>([])
    /// Indexes and queued work, updated by the store under its lock (never take the store's
    /// lock while holding this one).
    let index = Mutex(BinderIndex())
    /// Wakes the loop: work was queued, or a resync is due.
    let wake: Mutex<AsyncStream<Void>.Continuation?> = Mutex(nil)
    let resyncDue = Atomic<Bool>(true)

    init(registry: Registry, resyncPeriod: Duration, logger: Logger) {
        self.registry = registry
        self.resyncPeriod = resyncPeriod
        self.logger = logger
        self.events = EventRecorder(registry: registry, component: "persistentvolume-controller",
                                    repeatInterval: resyncPeriod, logger: logger)
        registry.store.observe([.persistentVolumeClaims, .persistentVolumes, .storageClasses]) { [weak self] resource, key, old, new in
            self?.changed(resource, key, old: old, new: new)
        }
    }

    /// A PVC, PV or StorageClass changed (called by the store, under its lock).
    private func changed(_ resource: ResourceType, _ key: ObjectKey, old: JSONValue?, new: JSONValue?) {
        let queued = index.withLock { index in
            index.apply(resource, key, old: old, new: new)
            return index.queuesWork && !index.queue.isEmpty
        }
        if queued { _ = wake.withLock { $0?.yield() } }
    }

    var store: ObjectStore { registry.store }

    /// Runs until cancelled: a full pass now and every resync period, and in between the
    /// claims and volumes that changed.
    func run() async {
        let (ticks, tick) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wake.withLock { $0 = tick }
        index.withLock { $0.queuesWork = true }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                while true {
                    do { try await Task.sleep(for: resyncPeriod) } catch { return }
                    resyncDue.store(true, ordering: .releasing)
                    tick.yield()
                }
            }
            resyncDue.store(true, ordering: .releasing)
            tick.yield()
            for await _ in ticks {
                if Task.isCancelled { break }
                if resyncDue.exchange(false, ordering: .acquiringAndReleasing) {
                    // Everything is looked at: what was queued before is covered.
                    _ = index.withLock { $0.takeQueue() }
                    syncAll()
                }
                syncQueued()
            }
            group.cancelAll()
        }
        index.withLock { index in
            index.queuesWork = false
            _ = index.takeQueue()
        }
        wake.withLock { $0 = nil }
    }

    /// Queues a claim (a test hook changed something its sync looks at).
    func enqueueClaim(_ key: ObjectKey) {
        let queued = index.withLock { index in
            index.enqueue(.claim(key))
            return index.queuesWork
        }
        if queued { _ = wake.withLock { $0?.yield() } }
    }

    /// Syncs the queued claims and volumes, and what their syncs queue in turn, until
    /// nothing is left (or a resync is due).
    func syncQueued() {
        while !resyncDue.load(ordering: .acquiring) {
            let batch = index.withLock { $0.takeQueue() }
            if batch.isEmpty { return }
            for work in batch { sync(work) }
        }
    }

    /// One object: the binder's sync, then its protection controller, each on a fresh read.
    func sync(_ work: BinderWork) {
        switch work.resource {
        case .persistentVolumeClaims:
            if let claim = store.object(.persistentVolumeClaims, work.key) {
                attempt("claim \(work.key)") { () throws(APIStatus) in try syncClaim(claim) }
            }
            if let claim = store.object(.persistentVolumeClaims, work.key) { protectClaim(work.key, claim) }
        case .persistentVolumes:
            if let volume = store.object(.persistentVolumes, work.key) {
                attempt("volume \(work.key)") { () throws(APIStatus) in try syncVolume(volume) }
            }
            if let volume = store.object(.persistentVolumes, work.key) { protectVolume(work.key, volume) }
        case .storageClasses, .leases, .events, .eventsV1, .pods:
            break
        }
    }

    /// One level-triggered pass over everything.
    func syncAll() {
        for (key, _) in store.snapshot(.persistentVolumeClaims).objects {
            // Re-read: an earlier step of this pass may have written it.
            guard let claim = store.object(.persistentVolumeClaims, key) else { continue }
            attempt("claim \(key)") { () throws(APIStatus) in try syncClaim(claim) }
        }
        for (key, _) in store.snapshot(.persistentVolumes).objects {
            guard let volume = store.object(.persistentVolumes, key) else { continue }
            attempt("volume \(key)") { () throws(APIStatus) in try syncVolume(volume) }
        }
        runProtectionControllers()
    }

    /// Runs one object's sync; a failure (typically 409 Conflict) waits for the next pass.
    func attempt(_ what: String, _ body: () throws(APIStatus) -> Void) {
        do {
            try body()
        } catch {
            logger.debug("LocalCluster controller: sync failed, retrying on the next pass",
                         metadata: ["object": "\(what)", "error": "\(error)"])
        }
    }

    // MARK: Writes (each one conflict-checked with the object's resourceVersion)

    func updateClaim(_ claim: JSONValue, status: Bool = false) throws(APIStatus) -> JSONValue {
        try registry.update(.persistentVolumeClaims, namespace: claim.string(at: "metadata", "namespace"),
                            name: claim.string(at: "metadata", "name") ?? "", subresource: status ? .status : nil,
                            body: claim, dryRun: false)
    }

    func updateVolume(_ volume: JSONValue, status: Bool = false) throws(APIStatus) -> JSONValue {
        try registry.update(.persistentVolumes, namespace: nil, name: volume.string(at: "metadata", "name") ?? "",
                            subresource: status ? .status : nil, body: volume, dryRun: false)
    }

    /// updateVolumePhase: writes `/status` only when phase or message change.
    @discardableResult
    func setVolumePhase(_ volume: JSONValue, _ phase: String, message: String = "") throws(APIStatus) -> JSONValue {
        if volume.string(at: "status", "phase") == phase, (volume.string(at: "status", "message") ?? "") == message {
            return volume
        }
        var updated = volume
        updated[path: ["status", "phase"]] = .string(phase)
        updated[path: ["status", "message"]] = message.isEmpty ? nil : .string(message)
        return try updateVolume(updated, status: true)
    }

    /// updateVolumePhaseWithEvent: the event only when the phase actually changes.
    func setVolumePhase(_ volume: JSONValue, _ phase: String, eventType: String, reason: String, message: String) throws(APIStatus) {
        guard volume.string(at: "status", "phase") != phase else { return }
        let updated = try setVolumePhase(volume, phase, message: message)
        events.emit(updated, type: eventType, reason: reason, message: message)
    }

    /// updateClaimStatus: phase, and with a volume its access modes and (when becoming
    /// bound) its capacity; without one, both are cleared.
    @discardableResult
    func setClaimPhase(_ claim: JSONValue, _ phase: String, volume: JSONValue?) throws(APIStatus) -> JSONValue {
        var updated = claim
        let becomingPhase = claim.string(at: "status", "phase") != phase
        updated[path: ["status", "phase"]] = .string(phase)
        if let volume {
            updated[path: ["status", "accessModes"]] = volume[path: ["spec", "accessModes"]]
            if becomingPhase {
                let claimCapacity = claim[path: ["status", "capacity", "storage"]].flatMap(Quantity.from)
                if claimCapacity == nil || claimCapacity != VolumeMatching.capacity(volume) {
                    updated[path: ["status", "capacity"]] = volume[path: ["spec", "capacity"]]
                }
            }
        } else {
            updated[path: ["status", "accessModes"]] = nil
            updated[path: ["status", "capacity"]] = nil
        }
        if updated == claim { return claim }
        return try updateClaim(updated, status: true)
    }

    func setClaimPhase(_ claim: JSONValue, _ phase: String, eventType: String, reason: String, message: String) throws(APIStatus) {
        guard claim.string(at: "status", "phase") != phase else { return }
        let updated = try setClaimPhase(claim, phase, volume: nil)
        events.emit(updated, type: eventType, reason: reason, message: message)
    }

    // MARK: Protection controllers

    /// pvc-protection (KK pkg/controller/volume/pvcprotection processPVC): a terminating claim
    /// no pod uses loses its finalizer. pv-protection (pvprotection processPV): a terminating
    /// volume that is not Bound loses its finalizer. Removing the last finalizer deletes.
    func runProtectionControllers() {
        for (key, claim) in store.snapshot(.persistentVolumeClaims).objects { protectClaim(key, claim) }
        for (key, volume) in store.snapshot(.persistentVolumes).objects { protectVolume(key, volume) }
    }

    func protectClaim(_ key: ObjectKey, _ claim: JSONValue) {
        guard claim.isTerminating, claim.finalizers.contains(Annotations.pvcProtection),
            !claimsInUse.withLock({ $0.contains(key) })
        else { return }
        attempt("pvc-protection \(key)") { () throws(APIStatus) in
            _ = try updateClaim(Self.removingFinalizer(Annotations.pvcProtection, from: claim))
        }
    }

    func protectVolume(_ key: ObjectKey, _ volume: JSONValue) {
        guard volume.isTerminating, volume.finalizers.contains(Annotations.pvProtection),
            volume.string(at: "status", "phase") != "Bound"
        else { return }
        attempt("pv-protection \(key)") { () throws(APIStatus) in
            _ = try updateVolume(Self.removingFinalizer(Annotations.pvProtection, from: volume))
        }
    }

    static func removingFinalizer(_ finalizer: String, from object: JSONValue) -> JSONValue {
        var copy = object
        copy[path: ["metadata", "finalizers"]] = .array(object.finalizers.filter { $0 != finalizer }.map(JSONValue.string))
        return copy
    }
}
