// PersistentVolume and PersistentVolumeClaim defaults and validation.
//
// KK pkg/apis/core/v1/defaults.go (SetDefaults_PersistentVolume, _PersistentVolumeClaim(Spec))
// and KK pkg/apis/core/validation/validation.go (ValidatePersistentVolume(Update),
// ValidatePersistentVolumeClaim(Update)).

enum VolumeStrategies {
    static let accessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
    static let volumeModes = ["Block", "Filesystem"]
    static let reclaimPolicies = ["Delete", "Recycle", "Retain"]
    /// PV spec fields that are not a volume source; any other spec member is one.
    static let nonSourceFields: Set<String> = [
        "accessModes", "capacity", "claimRef", "persistentVolumeReclaimPolicy", "storageClassName",
        "mountOptions", "volumeMode", "nodeAffinity", "volumeAttributesClassName",
    ]

    static func defaultClaim(_ object: inout JSONValue) {
        if object["spec"] == nil || object["spec"]?.isNull == true { object["spec"] = .emptyObject }
        if (object.string(at: "spec", "volumeMode") ?? "").isEmpty { object[path: ["spec", "volumeMode"]] = "Filesystem" }
        if object["status"] == nil || object["status"]?.isNull == true { object["status"] = .emptyObject }
        if (object.string(at: "status", "phase") ?? "").isEmpty { object[path: ["status", "phase"]] = "Pending" }
    }

    static func defaultVolume(_ object: inout JSONValue) {
        if object["spec"] == nil || object["spec"]?.isNull == true { object["spec"] = .emptyObject }
        if (object.string(at: "spec", "persistentVolumeReclaimPolicy") ?? "").isEmpty {
            object[path: ["spec", "persistentVolumeReclaimPolicy"]] = "Retain"
        }
        if (object.string(at: "spec", "volumeMode") ?? "").isEmpty { object[path: ["spec", "volumeMode"]] = "Filesystem" }
        if object["status"] == nil || object["status"]?.isNull == true { object["status"] = .emptyObject }
        if (object.string(at: "status", "phase") ?? "").isEmpty { object[path: ["status", "phase"]] = "Pending" }
    }

    static func validateAccessModes(_ object: JSONValue, field: String, detailWhenMissing: String) -> [FieldError] {
        let modes = (object[path: ["spec", "accessModes"]]?.arrayValue ?? []).compactMap(\.stringValue)
        var errors: [FieldError] = []
        if modes.isEmpty { errors.append(.required(field, detailWhenMissing)) }
        for mode in modes where !accessModes.contains(mode) {
            errors.append(.notSupported(field, mode, accessModes))
        }
        if modes.contains("ReadWriteOncePod"), modes.count > 1 {
            errors.append(.forbidden(field, "may not use ReadWriteOncePod with other access modes"))
        }
        return errors
    }

    static func validateStorageClassName(_ object: JSONValue) -> [FieldError] {
        guard let name = object.string(at: "spec", "storageClassName"), !name.isEmpty else { return [] }
        return NameValidation.dns1123Subdomain(name).map { .invalid("spec.storageClassName", name, $0) }
    }

    static func validateVolumeMode(_ object: JSONValue) -> [FieldError] {
        guard let mode = object.string(at: "spec", "volumeMode"), !volumeModes.contains(mode) else { return [] }
        return [.notSupported("spec.volumeMode", mode, volumeModes)]
    }

    /// A positive quantity at `path` (ValidatePositiveQuantityValue).
    static func validatePositive(_ value: JSONValue?, field: String) -> [FieldError] {
        guard let value, let quantity = Quantity.from(value) else { return [] }
        if quantity.sign <= 0 {
            return [.invalid(field, value.stringValue ?? quantity.canonical, "must be greater than zero")]
        }
        return []
    }

    static func validateClaim(_ object: JSONValue) -> [FieldError] {
        var errors = validateAccessModes(object, field: "spec.accessModes", detailWhenMissing: "at least 1 access mode is required")
        let storage = object[path: ["spec", "resources", "requests", "storage"]]
        if storage == nil {
            errors.append(.required("spec.resources[storage]"))
        } else {
            errors.append(contentsOf: validatePositive(storage, field: "spec.resources[storage]"))
        }
        errors.append(contentsOf: validateStorageClassName(object))
        errors.append(contentsOf: validateVolumeMode(object))
        return errors
    }

    /// PVC spec is immutable except: volumeName may be set once, storage may grow on a bound
    /// claim (KK validation.go ValidatePersistentVolumeClaimUpdate).
    static func validateClaimUpdate(new: JSONValue, old: JSONValue) -> [FieldError] {
        var newSpec = new["spec"] ?? .emptyObject
        var oldSpec = old["spec"] ?? .emptyObject
        var errors: [FieldError] = []
        let oldVolumeName = oldSpec["volumeName"]?.stringValue ?? ""
        if oldVolumeName.isEmpty {
            newSpec["volumeName"] = nil
            oldSpec["volumeName"] = nil
        }
        let bound = old.string(at: "status", "phase") == "Bound"
        if bound {
            let oldStorage = oldSpec[path: ["resources", "requests", "storage"]].flatMap(Quantity.from)
            let newStorage = newSpec[path: ["resources", "requests", "storage"]].flatMap(Quantity.from)
            if let oldStorage, let newStorage, newStorage < oldStorage {
                errors.append(.forbidden("spec.resources.requests.storage", "field can not be less than previous value"))
            }
            newSpec[path: ["resources", "requests", "storage"]] = nil
            oldSpec[path: ["resources", "requests", "storage"]] = nil
            newSpec["volumeAttributesClassName"] = nil
            oldSpec["volumeAttributesClassName"] = nil
        }
        if newSpec != oldSpec {
            errors.append(.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
        }
        return errors
    }

    static func validateVolume(_ object: JSONValue) -> [FieldError] {
        var errors = validateAccessModes(object, field: "spec.accessModes", detailWhenMissing: "")
        let capacity = object[path: ["spec", "capacity"]]?.objectValue ?? [:]
        if capacity.isEmpty { errors.append(.required("spec.capacity")) }
        if capacity["storage"] == nil || capacity.count > 1 {
            errors.append(FieldError(type: .notSupported, field: "spec.capacity", value: "map[]",
                                     detail: "supported values: \"storage\""))
        }
        for (key, value) in capacity.sorted(by: { $0.key < $1.key }) {
            errors.append(contentsOf: validatePositive(value, field: "spec.capacity[\(key)]"))
        }
        if let policy = object.string(at: "spec", "persistentVolumeReclaimPolicy"), !reclaimPolicies.contains(policy) {
            errors.append(.notSupported("spec.persistentVolumeReclaimPolicy", policy, reclaimPolicies))
        }
        errors.append(contentsOf: validateStorageClassName(object))
        errors.append(contentsOf: validateVolumeMode(object))
        let sources = (object["spec"]?.objectValue ?? [:]).keys.filter { !nonSourceFields.contains($0) }
        if sources.isEmpty {
            errors.append(.required("spec", "must specify a volume type"))
        } else if sources.count > 1 {
            errors.append(.forbidden("spec", "may not specify more than 1 volume type"))
        }
        if let claimRef = object[path: ["spec", "claimRef"]], !claimRef.isNull {
            if (claimRef["name"]?.stringValue ?? "").isEmpty { errors.append(.required("spec.claimRef.name")) }
        }
        return errors
    }

    /// KK validation.go ValidatePersistentVolumeUpdate: the volume source and volumeMode are immutable.
    static func validateVolumeUpdate(new: JSONValue, old: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        func sources(_ object: JSONValue) -> [String: JSONValue] {
            (object["spec"]?.objectValue ?? [:]).filter { !nonSourceFields.contains($0.key) }
        }
        if sources(new) != sources(old) {
            errors.append(.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation"))
        }
        let newMode = new.string(at: "spec", "volumeMode") ?? ""
        if newMode != old.string(at: "spec", "volumeMode") ?? "" {
            errors.append(.immutable("spec.volumeMode", newMode))
        }
        return errors
    }
}
