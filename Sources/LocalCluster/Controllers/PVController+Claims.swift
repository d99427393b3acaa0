// syncClaim and the binding protocol (KK pkg/controller/volume/persistentvolume/
// pv_controller.go: syncClaim, syncUnboundClaim, syncBoundClaim, provisionClaim,
// provisionClaimOperationExternal, setClaimProvisioner, bind and its four writes).

extension PVController {
    func syncClaim(_ claim: JSONValue) throws(APIStatus) {
        if claim.annotations[Annotations.bindCompleted] == nil {
            try syncUnboundClaim(claim)
        } else {
            try syncBoundClaim(claim)
        }
    }

    func storageClass(named name: String) -> JSONValue? {
        store.object(.storageClasses, ObjectKey(namespace: "", name: name))
    }

    func volume(named name: String) -> JSONValue? {
        store.object(.persistentVolumes, ObjectKey(namespace: "", name: name))
    }

    /// IsDelayBindingMode: the claim's class binds WaitForFirstConsumer.
    func isDelayBinding(_ claim: JSONValue) -> Bool {
        let className = VolumeMatching.claimClass(claim)
        guard !className.isEmpty, let storageClass = storageClass(named: className) else { return false }
        return storageClass["volumeBindingMode"]?.stringValue == "WaitForFirstConsumer"
    }

    /// ``VolumeMatching/bestMatch(for:among:delayBinding:)`` over the indexed candidates
    /// only: the volumes whose claimRef names the claim (in name order), then the unclaimed
    /// ones of its class big enough for it (smallest first). Candidates are checked on their
    /// current state.
    func findMatch(for claim: JSONValue, delayBinding: Bool) -> JSONValue? {
        guard let requested = VolumeMatching.requestedStorage(claim) else { return nil }
        let key = ObjectKey(namespace: claim.string(at: "metadata", "namespace") ?? "", name: claim.string(at: "metadata", "name") ?? "")
        let (named, unclaimed) = index.withLock { index in
            (index.volumes(namingClaim: key),
             delayBinding ? [] : index.unclaimedVolumes(className: VolumeMatching.claimClass(claim), atLeast: requested).map(\.name))
        }
        for name in named {
            if let volume = volume(named: name), VolumeMatching.isBoundCandidate(volume, for: claim, requested: requested) { return volume }
        }
        for name in unclaimed {
            if let volume = volume(named: name), VolumeMatching.isAvailableCandidate(volume, for: claim, requested: requested) { return volume }
        }
        return nil
    }

    func syncUnboundClaim(_ claim: JSONValue) throws(APIStatus) {
        let volumeName = claim.string(at: "spec", "volumeName") ?? ""
        if volumeName.isEmpty {
            let delayBinding = isDelayBinding(claim)
            if let volume = findMatch(for: claim, delayBinding: delayBinding) {
                try bind(volume, claim)
                return
            }
            if delayBinding && claim.annotations[Annotations.selectedNode] == nil {
                // emitEventForUnboundDelayBindingClaim: the scheduler has not picked a node yet.
                events.emit(claim, type: "Normal", reason: "WaitForFirstConsumer",
                            message: "waiting for first consumer to be created before binding")
                return
            }
            if !VolumeMatching.claimClass(claim).isEmpty {
                try provisionClaim(claim)
                return
            }
            events.emit(claim, type: "Normal", reason: "FailedBinding",
                        message: "no persistent volumes available for this claim and no storage class is set")
            try setClaimPhase(claim, "Pending", volume: nil)
            return
        }
        // The claim names a volume (pre-bound by the user, or binding half done).
        guard let volume = volume(named: volumeName) else {
            events.emit(claim, type: "Normal", reason: "FailedBinding", message: "volume \"\(volumeName)\" not found")
            try setClaimPhase(claim, "Pending", volume: nil)
            return
        }
        let ref = volume[path: ["spec", "claimRef"]]
        if ref == nil || ref?.isNull == true {
            if VolumeMatching.volumeModeMismatch(claim, volume) {
                events.emit(claim, type: "Warning", reason: "VolumeMismatch",
                            message: "Cannot bind to requested volume \"\(volumeName)\": volumeMode mismatch")
                return
            }
            try bind(volume, claim)
        } else if VolumeMatching.isBound(volume, to: claim) {
            try bind(volume, claim)
        } else {
            events.emit(claim, type: "Warning", reason: "FailedBinding",
                        message: "volume \"\(volumeName)\" already bound to a different claim.")
            try setClaimPhase(claim, "Pending", volume: nil)
        }
    }

    func syncBoundClaim(_ claim: JSONValue) throws(APIStatus) {
        let lostMessage = "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"
        let volumeName = claim.string(at: "spec", "volumeName") ?? ""
        guard !volumeName.isEmpty, let volume = volume(named: volumeName) else {
            try setClaimPhase(claim, "Lost", eventType: "Warning", reason: "ClaimLost", message: lostMessage)
            return
        }
        let ref = volume[path: ["spec", "claimRef"]]
        if ref == nil || ref?.isNull == true {
            try bind(volume, claim)
        } else if ref?["uid"]?.stringValue == claim.string(at: "metadata", "uid") {
            try bind(volume, claim)
        } else {
            try setClaimPhase(claim, "Lost", eventType: "Warning", reason: "ClaimMisbound",
                              message: "Two claims are bound to the same volume, this one is bound incorrectly")
        }
    }

    /// provisionClaim for a class with a provisioner: external ones (not `kubernetes.io/`)
    /// get both storage-provisioner annotations on the claim and an ExternalProvisioning event.
    func provisionClaim(_ claim: JSONValue) throws(APIStatus) {
        let className = VolumeMatching.claimClass(claim)
        guard let storageClass = storageClass(named: className) else {
            events.emit(claim, type: "Warning", reason: "ProvisioningFailed",
                        message: "storageclass.storage.k8s.io \"\(className)\" not found")
            return
        }
        let provisioner = storageClass["provisioner"]?.stringValue ?? ""
        if provisioner.hasPrefix("kubernetes.io/") {
            // No in-tree volume plugins are emulated.
            events.emit(claim, type: "Warning", reason: "ProvisioningFailed",
                        message: "no volume plugin matched name: \(provisioner)")
            return
        }
        var updated = claim
        if claim.annotations[Annotations.storageProvisioner] != provisioner {
            // setClaimProvisioner: one PUT with both keys.
            updated = claim.settingAnnotation(Annotations.storageProvisioner, provisioner)
                .settingAnnotation(Annotations.betaStorageProvisioner, provisioner)
            updated = try updateClaim(updated)
        }
        events.emit(updated, type: "Normal", reason: "ExternalProvisioning",
                    message: "Waiting for a volume to be created either by the external provisioner '\(provisioner)' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
    }

    /// bind: four separate writes, each only when needed, in this order. Any failure aborts;
    /// the next pass finishes the job from wherever it stopped.
    func bind(_ volume: JSONValue, _ claim: JSONValue) throws(APIStatus) {
        // 1. bindVolumeToClaim: PV spec.claimRef (+ bound-by-controller when the controller
        //    made the binding). A provisioner-made PV already names the claim: no write.
        var volume = volume
        let claimUID = claim.string(at: "metadata", "uid") ?? ""
        let ref = volume[path: ["spec", "claimRef"]]
        let refMatches = ref?["name"]?.stringValue == claim.string(at: "metadata", "name")
            && ref?["namespace"]?.stringValue == claim.string(at: "metadata", "namespace")
            && ref?["uid"]?.stringValue == claimUID
        if !refMatches {
            var updated = volume
            let setByController = !VolumeMatching.isBound(volume, to: claim)
            updated[path: ["spec", "claimRef"]] = VolumeMatching.reference(to: claim)
            if setByController, volume.annotations[Annotations.boundByController] == nil {
                updated = updated.settingAnnotation(Annotations.boundByController, "yes")
            }
            volume = try updateVolume(updated)
        }
        // 2. updateVolumePhase(Bound).
        volume = try setVolumePhase(volume, "Bound")
        // 3. bindClaimToVolume: spec.volumeName (+ bound-by-controller) and bind-completed.
        var claim = claim
        let volumeName = volume.string(at: "metadata", "name") ?? ""
        var updated = claim
        if claim.string(at: "spec", "volumeName") != volumeName {
            updated[path: ["spec", "volumeName"]] = .string(volumeName)
            if claim.annotations[Annotations.boundByController] == nil {
                updated = updated.settingAnnotation(Annotations.boundByController, "yes")
            }
        }
        if claim.annotations[Annotations.bindCompleted] == nil {
            updated = updated.settingAnnotation(Annotations.bindCompleted, "yes")
        }
        if updated != claim { claim = try updateClaim(updated) }
        // 4. updateClaimStatus(Bound, volume).
        try setClaimPhase(claim, "Bound", volume: volume)
    }
}
