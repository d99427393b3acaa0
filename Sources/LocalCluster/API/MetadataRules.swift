// ObjectMeta rules on create and update.
//
// AM api/validation/objectmeta.go (ValidateObjectMeta, ValidateObjectMetaUpdate,
// ValidateFinalizers) and AS registry/rest/create.go, update.go (BeforeCreate, BeforeUpdate:
// system fields are set by the server, and an update silently keeps the old ones).

enum MetadataRules {
    /// Finalizer names that need no domain prefix (AM objectmeta.go, standardFinalizers).
    static let standardFinalizers: Set<String> = ["kubernetes", "orphan", "foregroundDeletion"]
    /// Total size limit of annotations (AM objectmeta.go TotalAnnotationSizeLimitB).
    static let annotationSizeLimit = 256 * 1024

    /// Validation on create: names, namespace, labels, annotations, finalizers.
    static func validateCreate(_ object: JSONValue, resource: ResourceType) -> [FieldError] {
        var errors: [FieldError] = []
        let name = object.string(at: "metadata", "name") ?? ""
        let generateName = object.string(at: "metadata", "generateName") ?? ""
        if name.isEmpty {
            if generateName.isEmpty {
                errors.append(.required("metadata.name", "name or generateName is required"))
            } else {
                for message in NameValidation.dns1123Subdomain(NameValidation.maskTrailingDash(generateName)) {
                    errors.append(.invalid("metadata.generateName", generateName, message))
                }
            }
        } else {
            for message in NameValidation.dns1123Subdomain(name) {
                errors.append(.invalid("metadata.name", name, message))
            }
        }
        errors.append(contentsOf: validateNamespace(object, resource: resource))
        errors.append(contentsOf: validateCommon(object))
        return errors
    }

    static func validateNamespace(_ object: JSONValue, resource: ResourceType) -> [FieldError] {
        let namespace = object.string(at: "metadata", "namespace") ?? ""
        if resource.info.namespaced {
            if namespace.isEmpty { return [.required("metadata.namespace")] }
            return NameValidation.dns1123Label(namespace).map { .invalid("metadata.namespace", namespace, $0) }
        }
        return namespace.isEmpty ? [] : [.forbidden("metadata.namespace", "not allowed on this type")]
    }

    static func validateCommon(_ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        for (key, value) in (object[path: ["metadata", "labels"]]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            for message in NameValidation.qualifiedName(key) {
                errors.append(.invalid("metadata.labels", key, message))
            }
            let text = value.stringValue ?? ""
            for message in NameValidation.labelValue(text) {
                errors.append(.invalid("metadata.labels", text, message))
            }
        }
        var annotationBytes = 0
        for (key, value) in (object[path: ["metadata", "annotations"]]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            for message in NameValidation.qualifiedName(key.lowercased()) {
                errors.append(.invalid("metadata.annotations", key, message))
            }
            annotationBytes += key.utf8.count + (value.stringValue ?? "").utf8.count
        }
        if annotationBytes > annotationSizeLimit {
            errors.append(FieldError(type: .tooLong, field: "metadata.annotations", value: nil,
                                     detail: "must have at most \(annotationSizeLimit) bytes"))
        }
        var seen: Set<String> = []
        for finalizer in object.finalizers {
            if !seen.insert(finalizer).inserted {
                errors.append(.duplicate("metadata.finalizers", finalizer))
                continue
            }
            let messages = NameValidation.qualifiedName(finalizer)
            for message in messages { errors.append(.invalid("metadata.finalizers", finalizer, message)) }
            if messages.isEmpty, !finalizer.contains("/"), !standardFinalizers.contains(finalizer) {
                errors.append(.invalid("metadata.finalizers", finalizer,
                                       "name is neither a standard finalizer name nor is it fully qualified"))
            }
        }
        return errors
    }

    /// Sets the server-owned fields of a new object (AS registry/rest/meta.go FillObjectMetaSystemFields).
    static func fillSystemFieldsForCreate(_ object: inout JSONValue, uid: String, now: Timestamp) {
        object[path: ["metadata", "uid"]] = .string(uid)
        object[path: ["metadata", "creationTimestamp"]] = .string(now.rfc3339)
        object[path: ["metadata", "deletionTimestamp"]] = nil
        object[path: ["metadata", "deletionGracePeriodSeconds"]] = nil
        object[path: ["metadata", "resourceVersion"]] = nil
        object[path: ["metadata", "selfLink"]] = nil
        object[path: ["metadata", "managedFields"]] = nil
    }

    /// Keeps what an update may not change (AS registry/rest/update.go BeforeUpdate): the old
    /// creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds and generation; the old
    /// uid when none is given.
    static func keepSystemFieldsOnUpdate(_ new: inout JSONValue, old: JSONValue) {
        for key in ["creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
            new[path: ["metadata", key]] = old[path: ["metadata", key]]
        }
        if (new.string(at: "metadata", "uid") ?? "").isEmpty {
            new[path: ["metadata", "uid"]] = old[path: ["metadata", "uid"]]
        }
        new[path: ["metadata", "selfLink"]] = nil
    }

    /// Validation on update: immutable uid, no new finalizers on a terminating object.
    static func validateUpdate(_ new: JSONValue, old: JSONValue, resource: ResourceType) -> [FieldError] {
        var errors: [FieldError] = []
        let newUID = new.string(at: "metadata", "uid") ?? ""
        let oldUID = old.string(at: "metadata", "uid") ?? ""
        if newUID != oldUID { errors.append(.immutable("metadata.uid", newUID)) }
        if old.isTerminating {
            let oldFinalizers = Set(old.finalizers)
            let added = new.finalizers.filter { !oldFinalizers.contains($0) }
            if !added.isEmpty {
                // AM objectmeta.go ValidateObjectMetaUpdate: "%#v" of a []string.
                let rendered = "[]string{" + added.map { FieldError.quoted($0) }.joined(separator: ", ") + "}"
                errors.append(.forbidden("metadata.finalizers",
                                         "no new finalizers can be added if the object is being deleted, found new finalizers \(rendered)"))
            }
        }
        errors.append(contentsOf: validateCommon(new))
        return errors
    }
}
