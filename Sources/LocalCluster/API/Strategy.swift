// Per-resource strategies: defaults, preparation for create/update, validation.
//
// Dispatches to the resource files (Strategy+Volumes.swift, Strategy+Others.swift), after the
// registry strategies of KK pkg/registry/<group>/<resource>/strategy.go.

/// The subresource a write addresses.
enum Subresource: String, Sendable {
    case status
}

enum Strategy {
    /// Defaulting, as the decoder applies it to every object it reads
    /// (KK pkg/apis/core/v1/defaults.go, pkg/apis/storage/v1/defaults.go).
    static func applyDefaults(_ resource: ResourceType, _ object: inout JSONValue) {
        switch resource {
        case .persistentVolumeClaims: VolumeStrategies.defaultClaim(&object)
        case .persistentVolumes: VolumeStrategies.defaultVolume(&object)
        case .storageClasses:
            if object["reclaimPolicy"] == nil || object["reclaimPolicy"]?.isNull == true { object["reclaimPolicy"] = "Delete" }
            if object["volumeBindingMode"] == nil || object["volumeBindingMode"]?.isNull == true {
                object["volumeBindingMode"] = "Immediate"
            }
        case .leases, .events, .eventsV1, .pods:
            break
        }
    }

    /// `PrepareForCreate`: clear what a client may not set.
    static func prepareForCreate(_ resource: ResourceType, _ object: inout JSONValue, now: Timestamp) {
        switch resource {
        case .persistentVolumeClaims:
            // KK persistentvolumeclaim/strategy.go: status reset; defaulting makes it Pending.
            object["status"] = ["phase": "Pending"]
        case .persistentVolumes:
            // KK persistentvolume/strategy.go: status reset, phase Pending, lastPhaseTransitionTime now.
            object["status"] = ["phase": "Pending", "lastPhaseTransitionTime": .string(now.rfc3339)]
        case .storageClasses, .leases, .events, .eventsV1, .pods:
            break
        }
    }

    /// `PrepareForUpdate`: the main resource keeps the old status, `/status` keeps everything
    /// but the status (and metadata, AM ResetObjectMetaForStatus).
    static func prepareForUpdate(_ resource: ResourceType, new: inout JSONValue, old: JSONValue,
                                 subresource: Subresource?, now: Timestamp)
    {
        guard resource.info.hasStatusSubresource else { return }
        if subresource == .status {
            var merged = old
            merged["status"] = new["status"] ?? .emptyObject
            merged[path: ["metadata", "resourceVersion"]] = new[path: ["metadata", "resourceVersion"]]
            if resource == .persistentVolumes {
                // KK persistentvolume/strategy.go (status): a phase change stamps lastPhaseTransitionTime.
                let oldPhase = old.string(at: "status", "phase")
                let newPhase = merged.string(at: "status", "phase")
                let oldStamp = old[path: ["status", "lastPhaseTransitionTime"]]
                let newStamp = merged[path: ["status", "lastPhaseTransitionTime"]]
                if oldPhase != newPhase, newStamp == nil || newStamp == oldStamp {
                    merged[path: ["status", "lastPhaseTransitionTime"]] = .string(now.rfc3339)
                }
            }
            new = merged
        } else {
            new["status"] = old["status"]
        }
    }

    static func validateCreate(_ resource: ResourceType, _ object: JSONValue) -> [FieldError] {
        switch resource {
        case .persistentVolumeClaims: VolumeStrategies.validateClaim(object)
        case .persistentVolumes: VolumeStrategies.validateVolume(object)
        case .storageClasses: OtherStrategies.validateStorageClass(object)
        case .leases: OtherStrategies.validateLease(object)
        case .events: OtherStrategies.validateCoreEvent(object)
        case .eventsV1: OtherStrategies.validateEventsV1(object, create: true)
        case .pods: []
        }
    }

    static func validateUpdate(_ resource: ResourceType, new: JSONValue, old: JSONValue, subresource: Subresource?) -> [FieldError] {
        if subresource == .status { return [] }
        switch resource {
        case .persistentVolumeClaims:
            return VolumeStrategies.validateClaim(new) + VolumeStrategies.validateClaimUpdate(new: new, old: old)
        case .persistentVolumes:
            return VolumeStrategies.validateVolume(new) + VolumeStrategies.validateVolumeUpdate(new: new, old: old)
        case .storageClasses:
            return OtherStrategies.validateStorageClass(new) + OtherStrategies.validateStorageClassUpdate(new: new, old: old)
        case .leases:
            return OtherStrategies.validateLease(new)
        case .events:
            return OtherStrategies.validateCoreEvent(new)
        case .eventsV1:
            return OtherStrategies.validateEventsV1(new, create: false)
        case .pods:
            return []
        }
    }

    /// The finalizer the StorageObjectInUseProtection admission plugin adds on create
    /// (KK plugin/pkg/admission/storage/storageobjectinuseprotection/admission.go).
    static func protectionFinalizer(_ resource: ResourceType) -> String? {
        switch resource {
        case .persistentVolumeClaims: "kubernetes.io/pvc-protection"
        case .persistentVolumes: "kubernetes.io/pv-protection"
        default: nil
        }
    }
}
