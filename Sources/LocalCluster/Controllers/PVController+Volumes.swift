// syncVolume and reclaiming (KK pkg/controller/volume/persistentvolume/pv_controller.go:
// syncVolume, reclaimVolume, unbindVolume; external deleters in doDeleteVolume).

extension PVController {
    func syncVolume(_ volume: JSONValue) throws(APIStatus) {
        let ref = volume[path: ["spec", "claimRef"]]
        guard let ref, ref.objectValue != nil else {
            // Unused volume (a static PV): Available.
            try setVolumePhase(volume, "Available")
            return
        }
        let refUID = ref["uid"]?.stringValue ?? ""
        if refUID.isEmpty {
            // Pre-bound by the user to a claim that has not been bound yet: Available.
            try setVolumePhase(volume, "Available")
            return
        }
        let key = ObjectKey(namespace: ref["namespace"]?.stringValue ?? "", name: ref["name"]?.stringValue ?? "")
        var claim = store.object(.persistentVolumeClaims, key)
        if let found = claim, found.string(at: "metadata", "uid") != refUID {
            claim = nil  // the claim was deleted and re-created: not ours
        }
        guard let claim else {
            // The claim is gone: Released, then the reclaim policy.
            var volume = volume
            let phase = volume.string(at: "status", "phase")
            if phase != "Released" && phase != "Failed" {
                volume = try setVolumePhase(volume, "Released")
            }
            try reclaim(volume)
            return
        }
        let claimVolumeName = claim.string(at: "spec", "volumeName") ?? ""
        let volumeName = volume.string(at: "metadata", "name") ?? ""
        if claimVolumeName.isEmpty {
            // Binding in progress (or a dangling PV): the claim's sync completes it.
            if VolumeMatching.volumeModeMismatch(claim, volume) {
                events.emit(volume, type: "Warning", reason: "VolumeMismatch",
                            message: "Cannot bind PersistentVolume to requested PersistentVolumeClaim due to incompatible volumeMode.")
            }
            return
        }
        if claimVolumeName == volumeName {
            try setVolumePhase(volume, "Bound")
            return
        }
        // The claim is bound to another volume.
        if volume.annotations[Annotations.provisionedBy] != nil,
            volume.string(at: "spec", "persistentVolumeReclaimPolicy") == "Delete"
        {
            var volume = volume
            let phase = volume.string(at: "status", "phase")
            if phase != "Released" && phase != "Failed" { volume = try setVolumePhase(volume, "Released") }
            try reclaim(volume)
        } else if volume.annotations[Annotations.boundByController] != nil {
            try unbind(volume)
        }
    }

    /// reclaimVolume: Retain keeps the Released volume; Delete by an external provisioner is
    /// left to that provisioner; what would need an in-tree plugin fails.
    func reclaim(_ volume: JSONValue) throws(APIStatus) {
        switch volume.string(at: "spec", "persistentVolumeReclaimPolicy") ?? "Retain" {
        case "Retain":
            return
        case "Delete":
            let provisioner = volume.annotations[Annotations.provisionedBy] ?? ""
            if !provisioner.isEmpty && !provisioner.hasPrefix("kubernetes.io/") {
                return  // "External deleter requested": the provisioner deletes the PV.
            }
            let name = volume.string(at: "metadata", "name") ?? ""
            try setVolumePhase(volume, "Failed", eventType: "Warning", reason: "VolumeFailedDelete",
                               message: "error getting deleter volume plugin for volume \"\(name)\": no deletable volume plugin matched")
        case "Recycle":
            try setVolumePhase(volume, "Failed", eventType: "Warning", reason: "VolumeFailedRecycle",
                               message: "No recycler plugin found for the volume!")
        default:
            try setVolumePhase(volume, "Failed", eventType: "Warning", reason: "VolumeUnknownReclaimPolicy",
                               message: "Volume has unrecognized PersistentVolumeReclaimPolicy")
        }
    }

    /// unbindVolume: a controller-made binding is undone (claimRef cleared, Available).
    func unbind(_ volume: JSONValue) throws(APIStatus) {
        var updated = volume
        updated[path: ["spec", "claimRef"]] = nil
        updated[path: ["metadata", "annotations", Annotations.boundByController]] = nil
        let written = try updateVolume(updated)
        try setVolumePhase(written, "Available")
    }
}
