// The kube-controller-manager pieces a provisioner meets: the PV binder ("persistentvolume-
// controller") and the pvc-protection / pv-protection finalizer controllers.
//
// Level-triggered like the originals (KK pkg/controller/volume/persistentvolume/
// pv_controller_base.go): every pass re-reads all claims and volumes and does what is
// missing. A pass runs after any write to PVCs, PVs or StorageClasses (the informers'
// events) and every resync period. All writes go through the registry with the object's
// resourceVersion, so a client racing the controller gets (or causes) 409s; a failed write
// is simply retried by a later pass (the real controller does the same on its next sync).

import Logging
import Synchronization

final class PVController: Sendable {
    let registry: Registry
    let events: EventRecorder
    let resyncPeriod: Duration
    let logger: Logger
    /// Claims in use by a (pretend) pod: pvc-protection keeps their finalizer.
    let claimsInUse = Mutex<Set<ObjectKey>>([])
    /// Wakes the loop (a test hook changed something the controllers look at).
    let wake: Mutex<AsyncStream<Void>.Continuation?> = Mutex(nil)

    init(registry: Registry, resyncPeriod: Duration, logger: Logger) {
        self.registry = registry
        self.resyncPeriod = resyncPeriod
        self.logger = logger
        self.events = EventRecorder(registry: registry, component: "persistentvolume-controller",
                                    repeatInterval: resyncPeriod, logger: logger)
    }

    var store: ObjectStore { registry.store }

    /// Runs until cancelled: a pass now, after relevant writes, and every resync period.
    func run() async {
        let (ticks, tick) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wake.withLock { $0 = tick }
        let changes = store.changes(of: [.persistentVolumeClaims, .persistentVolumes, .storageClasses])
        let resync = resyncPeriod
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in changes { tick.yield() }
            }
            group.addTask {
                while true {
                    do { try await Task.sleep(for: resync) } catch { return }
                    tick.yield()
                }
            }
            tick.yield()
            for await _ in ticks {
                if Task.isCancelled { break }
                syncAll()
            }
            group.cancelAll()
        }
        wake.withLock { $0 = nil }
    }

    func poke() {
        _ = wake.withLock { $0?.yield() }
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
        let inUse = claimsInUse.withLock { $0 }
        for (key, claim) in store.snapshot(.persistentVolumeClaims).objects
        where claim.isTerminating && claim.finalizers.contains(Annotations.pvcProtection) && !inUse.contains(key) {
            attempt("pvc-protection \(key)") { () throws(APIStatus) in
                _ = try updateClaim(Self.removingFinalizer(Annotations.pvcProtection, from: claim))
            }
        }
        for (key, volume) in store.snapshot(.persistentVolumes).objects
        where volume.isTerminating && volume.finalizers.contains(Annotations.pvProtection)
            && volume.string(at: "status", "phase") != "Bound"
        {
            attempt("pv-protection \(key)") { () throws(APIStatus) in
                _ = try updateVolume(Self.removingFinalizer(Annotations.pvProtection, from: volume))
            }
        }
    }

    static func removingFinalizer(_ finalizer: String, from object: JSONValue) -> JSONValue {
        var copy = object
        copy[path: ["metadata", "finalizers"]] = .array(object.finalizers.filter { $0 != finalizer }.map(JSONValue.string))
        return copy
    }
}
