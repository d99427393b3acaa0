// Decode-time type checks and normalisation of the fields LocalCluster interprets.
//
// The real server decodes bodies into Go structs: a field of the wrong JSON type, an
// unparseable quantity or a badly formatted timestamp fails decoding with 400 BadRequest
// ("<Kind> in version "v1" cannot be handled as a <Kind>: ..."), and quantities and times are
// re-serialised in canonical form. LocalCluster checks only the fields it knows (other fields
// are kept as sent) and normalises quantities and timestamps the same way.

enum FieldKind {
    case string, int32, int64, bool, object
    case stringArray
    case stringMap
    case quantityMap
    /// metav1.Time: any RFC 3339, written back with whole seconds in UTC.
    case time
    /// metav1.MicroTime: exactly six fraction digits, written back in UTC.
    case microTime
}

struct DecodeFailure: Error {
    var detail: String
}

enum Schema {
    static let metadataFields: [([String], FieldKind)] = [
        (["metadata"], .object),
        (["metadata", "name"], .string), (["metadata", "generateName"], .string),
        (["metadata", "namespace"], .string), (["metadata", "uid"], .string),
        (["metadata", "resourceVersion"], .string), (["metadata", "labels"], .stringMap),
        (["metadata", "annotations"], .stringMap), (["metadata", "finalizers"], .stringArray),
        (["metadata", "creationTimestamp"], .time), (["metadata", "deletionTimestamp"], .time),
        (["metadata", "deletionGracePeriodSeconds"], .int64), (["metadata", "generation"], .int64),
    ]

    static func fields(for resource: ResourceType) -> [([String], FieldKind)] {
        switch resource {
        case .persistentVolumeClaims:
            [
                (["spec"], .object), (["spec", "accessModes"], .stringArray), (["spec", "resources"], .object),
                (["spec", "resources", "requests"], .quantityMap), (["spec", "resources", "limits"], .quantityMap),
                (["spec", "volumeName"], .string), (["spec", "storageClassName"], .string),
                (["spec", "volumeMode"], .string), (["spec", "selector"], .object),
                (["spec", "selector", "matchLabels"], .stringMap),
                (["status"], .object), (["status", "phase"], .string), (["status", "accessModes"], .stringArray),
                (["status", "capacity"], .quantityMap),
            ]
        case .persistentVolumes:
            [
                (["spec"], .object), (["spec", "capacity"], .quantityMap), (["spec", "accessModes"], .stringArray),
                (["spec", "claimRef"], .object), (["spec", "claimRef", "name"], .string),
                (["spec", "claimRef", "namespace"], .string), (["spec", "claimRef", "uid"], .string),
                (["spec", "persistentVolumeReclaimPolicy"], .string), (["spec", "storageClassName"], .string),
                (["spec", "volumeMode"], .string), (["spec", "mountOptions"], .stringArray),
                (["status"], .object), (["status", "phase"], .string), (["status", "message"], .string),
                (["status", "reason"], .string), (["status", "lastPhaseTransitionTime"], .time),
            ]
        case .storageClasses:
            [
                (["provisioner"], .string), (["parameters"], .stringMap), (["reclaimPolicy"], .string),
                (["volumeBindingMode"], .string), (["mountOptions"], .stringArray), (["allowVolumeExpansion"], .bool),
            ]
        case .leases:
            [
                (["spec"], .object), (["spec", "holderIdentity"], .string), (["spec", "leaseDurationSeconds"], .int32),
                (["spec", "acquireTime"], .microTime), (["spec", "renewTime"], .microTime),
                (["spec", "leaseTransitions"], .int32),
            ]
        case .events:
            [
                (["involvedObject"], .object), (["involvedObject", "namespace"], .string),
                (["involvedObject", "name"], .string), (["reason"], .string), (["message"], .string),
                (["type"], .string), (["count"], .int32), (["firstTimestamp"], .time), (["lastTimestamp"], .time),
                (["eventTime"], .microTime), (["source"], .object), (["reportingComponent"], .string),
                (["reportingInstance"], .string), (["action"], .string),
            ]
        case .eventsV1:
            [
                (["regarding"], .object), (["regarding", "namespace"], .string), (["note"], .string),
                (["reason"], .string), (["type"], .string), (["action"], .string), (["eventTime"], .microTime),
                (["reportingController"], .string), (["reportingInstance"], .string),
                (["deprecatedFirstTimestamp"], .time), (["deprecatedLastTimestamp"], .time),
                (["deprecatedCount"], .int32),
            ]
        case .pods:
            []
        }
    }

    /// Type-checks and normalises `object` in place; throws the 400 the real decoder would give.
    static func decode(_ object: inout JSONValue, as resource: ResourceType) throws(APIStatus) {
        let info = resource.info
        guard object.objectValue != nil else {
            throw APIStatus.undecodable(kind: info.kind, apiVersion: info.apiVersion,
                                        detail: "json: cannot unmarshal \(JSONPatch.typeName(object)) into Go value of type struct")
        }
        for (path, kind) in metadataFields + fields(for: resource) {
            guard let value = object[path: path] else { continue }
            do {
                if let normalised = try check(value, kind) { object[path: path] = normalised }
            } catch {
                let goField = path.joined(separator: ".")
                throw APIStatus.undecodable(kind: info.kind, apiVersion: info.apiVersion,
                                            detail: error.detail.replacingPlaceholder(with: goField))
            }
        }
    }

    /// Returns a normalised replacement, nil to keep the value as is.
    static func check(_ value: JSONValue, _ kind: FieldKind) throws(DecodeFailure) -> JSONValue? {
        if value.isNull { return nil }  // Go decodes null as the zero value.
        func mismatch(_ goType: String) -> DecodeFailure {
            DecodeFailure(detail: "json: cannot unmarshal \(JSONPatch.typeName(value)) into Go struct field %FIELD% of type \(goType)")
        }
        switch kind {
        case .string:
            guard value.stringValue != nil else { throw mismatch("string") }
        case .bool:
            guard value.boolValue != nil else { throw mismatch("bool") }
        case .object:
            guard value.objectValue != nil else { throw mismatch("struct") }
        case .int32, .int64:
            guard let number = value.intValue else { throw mismatch(kind == .int32 ? "int32" : "int64") }
            if kind == .int32, number < Int64(Int32.min) || number > Int64(Int32.max) { throw mismatch("int32") }
            if case .double = value { return .int(number) }
        case .stringArray:
            guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else { throw mismatch("[]string") }
        case .stringMap:
            guard let members = value.objectValue, members.values.allSatisfy({ $0.stringValue != nil }) else {
                throw mismatch("map[string]string")
            }
        case .quantityMap:
            guard let members = value.objectValue else { throw mismatch("map[string]resource.Quantity") }
            var out: [String: JSONValue] = [:]
            for (key, raw) in members {
                guard let quantity = Quantity.from(raw) else { throw DecodeFailure(detail: Quantity.formatErrorMessage) }
                out[key] = .string(quantity.canonical)
            }
            return .object(out)
        case .time:
            guard let text = value.stringValue else { throw mismatch("v1.Time") }
            guard let time = Timestamp.parse(text, fractionDigits: nil) else {
                throw DecodeFailure(detail: "parsing time \"\(text)\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\(text)\" as \"2006\"")
            }
            return .string(time.rfc3339)
        case .microTime:
            guard let text = value.stringValue else { throw mismatch("v1.MicroTime") }
            guard let time = Timestamp.parse(text, fractionDigits: 6) else {
                throw DecodeFailure(detail: "parsing time \"\(text)\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"\(text)\" as \"2006-01-02T15:04:05.000000Z07:00\"")
            }
            return .string(time.rfc3339Micro)
        }
        return nil
    }
}

extension String {
    func replacingPlaceholder(with field: String) -> String { replacing("%FIELD%", with: field) }
}
