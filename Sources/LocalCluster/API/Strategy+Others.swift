// StorageClass, Lease and Event validation.
//
// KK pkg/apis/storage/validation/validation.go (ValidateStorageClass(Update)),
// KK pkg/apis/coordination/validation/validation.go (ValidateLeaseSpec),
// KK pkg/apis/core/validation/events.go (ValidateEventCreate, legacyValidateEvent).

enum OtherStrategies {
    static let storageReclaimPolicies = ["Delete", "Retain"]
    static let bindingModes = ["Immediate", "WaitForFirstConsumer"]

    static func validateStorageClass(_ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let provisioner = object["provisioner"]?.stringValue ?? ""
        if provisioner.isEmpty {
            errors.append(.required("provisioner"))
        } else {
            for message in NameValidation.qualifiedName(provisioner.lowercased()) {
                errors.append(.invalid("provisioner", provisioner, message))
            }
        }
        if let policy = object["reclaimPolicy"]?.stringValue, !storageReclaimPolicies.contains(policy) {
            errors.append(.notSupported("reclaimPolicy", policy, storageReclaimPolicies))
        }
        if let mode = object["volumeBindingMode"]?.stringValue, !bindingModes.contains(mode) {
            errors.append(.notSupported("volumeBindingMode", mode, bindingModes))
        }
        return errors
    }

    static func validateStorageClassUpdate(new: JSONValue, old: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        if (new["parameters"]?.objectValue ?? [:]) != (old["parameters"]?.objectValue ?? [:]) {
            errors.append(.forbidden("parameters", "updates to parameters are forbidden."))
        }
        if new["provisioner"] != old["provisioner"] {
            errors.append(.forbidden("provisioner", "updates to provisioner are forbidden."))
        }
        if new["reclaimPolicy"] != old["reclaimPolicy"] {
            errors.append(.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
        }
        if new["volumeBindingMode"] != old["volumeBindingMode"] {
            errors.append(.immutable("volumeBindingMode", new["volumeBindingMode"]?.stringValue ?? ""))
        }
        return errors
    }

    static func validateLease(_ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        if let duration = object[path: ["spec", "leaseDurationSeconds"]]?.intValue, duration <= 0 {
            errors.append(.invalidRaw("spec.leaseDurationSeconds", String(duration), "must be greater than 0"))
        }
        if let transitions = object[path: ["spec", "leaseTransitions"]]?.intValue, transitions < 0 {
            errors.append(.invalidRaw("spec.leaseTransitions", String(transitions), "must be greater than or equal to 0"))
        }
        return errors
    }

    /// The common part of legacyValidateEvent, given the internal field values.
    struct EventFields {
        var namespace: String
        var involvedNamespace: String
        var hasEventTime: Bool
        var reportingController: String
        var reportingControllerField: String
        var reportingInstance: String
        var action: String
        var reason: String
        var message: String
        var messageField: String
    }

    static func legacyValidate(_ event: EventFields) -> [FieldError] {
        var errors: [FieldError] = []
        let mismatch = FieldError.invalid("involvedObject.namespace", event.involvedNamespace, "does not match event.namespace")
        if !event.hasEventTime {
            // Old-style events: namespace must agree with the involved object's; cluster-scoped
            // involved objects (PVs) have their events in "default" (or no namespace).
            if event.involvedNamespace.isEmpty {
                if !event.namespace.isEmpty && event.namespace != "default" { errors.append(mismatch) }
            } else if event.namespace != event.involvedNamespace {
                errors.append(mismatch)
            }
        } else {
            if event.involvedNamespace.isEmpty, event.namespace != "default", event.namespace != "kube-system" {
                errors.append(mismatch)
            }
            if event.reportingController.isEmpty {
                errors.append(.required(event.reportingControllerField))
            } else {
                for message in NameValidation.qualifiedName(event.reportingController) {
                    errors.append(.invalid(event.reportingControllerField, event.reportingController, message))
                }
            }
            if event.reportingInstance.isEmpty { errors.append(.required("reportingInstance")) }
            if event.reportingInstance.utf8.count > 128 {
                errors.append(.invalid("reportingInstance", "", "can have at most 128 characters"))
            }
            if event.action.isEmpty { errors.append(.required("action")) }
            if event.action.utf8.count > 128 { errors.append(.invalid("action", "", "can have at most 128 characters")) }
            if event.reason.isEmpty { errors.append(.required("reason")) }
            if event.reason.utf8.count > 128 { errors.append(.invalid("reason", "", "can have at most 128 characters")) }
            if event.message.utf8.count > 1024 {
                errors.append(.invalid(event.messageField, "", "can have at most 1024 characters"))
            }
        }
        for message in NameValidation.dns1123Subdomain(event.namespace) where !event.namespace.isEmpty {
            errors.append(.invalid("namespace", event.namespace, message))
        }
        return errors
    }

    static func validateCoreEvent(_ object: JSONValue) -> [FieldError] {
        let eventTime = object["eventTime"]
        return legacyValidate(EventFields(
            namespace: object.string(at: "metadata", "namespace") ?? "",
            involvedNamespace: object.string(at: "involvedObject", "namespace") ?? "",
            hasEventTime: eventTime != nil && eventTime?.isNull == false,
            reportingController: object["reportingComponent"]?.stringValue ?? "",
            reportingControllerField: "reportingComponent",
            reportingInstance: object["reportingInstance"]?.stringValue ?? "",
            action: object["action"]?.stringValue ?? "",
            reason: object["reason"]?.stringValue ?? "",
            message: object["message"]?.stringValue ?? "",
            messageField: "message"))
    }

    /// events.k8s.io/v1 is validated strictly on create (ValidateEventCreate): eventTime,
    /// reportingController, reportingInstance, action and reason are required, the deprecated
    /// fields must be unset and `type` must be Normal or Warning.
    static func validateEventsV1(_ object: JSONValue, create: Bool) -> [FieldError] {
        let eventTime = object["eventTime"]
        let hasEventTime = eventTime != nil && eventTime?.isNull == false
        var errors = legacyValidate(EventFields(
            namespace: object.string(at: "metadata", "namespace") ?? "",
            involvedNamespace: object.string(at: "regarding", "namespace") ?? "",
            hasEventTime: hasEventTime || create,
            reportingController: object["reportingController"]?.stringValue ?? "",
            reportingControllerField: "reportingController",
            reportingInstance: object["reportingInstance"]?.stringValue ?? "",
            action: object["action"]?.stringValue ?? "",
            reason: object["reason"]?.stringValue ?? "",
            message: object["note"]?.stringValue ?? "",
            messageField: "note"))
        guard create else { return errors }
        if !hasEventTime { errors.append(.required("eventTime")) }
        let type = object["type"]?.stringValue ?? ""
        if type != "Normal" && type != "Warning" { errors.append(.invalid("type", "", "has invalid value: \(type)")) }
        for (field, name) in [("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp")] {
            if let value = object[field], !value.isNull { errors.append(.invalid(name, "", "needs to be unset")) }
        }
        if let count = object["deprecatedCount"]?.intValue, count != 0 { errors.append(.invalid("count", "", "needs to be unset")) }
        if let source = object["deprecatedSource"]?.objectValue, !source.isEmpty {
            errors.append(.invalid("source", "", "needs to be unset"))
        }
        return errors
    }
}
