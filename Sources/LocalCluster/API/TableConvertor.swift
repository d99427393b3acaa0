// Server-side printing: `meta.k8s.io` Table responses for `Accept: application/json;as=Table;
// v=v1;g=meta.k8s.io` (what `kubectl get` asks for), with the columns and cells of the
// apiserver's printers (KK pkg/printers/internalversion/printers.go, which the registry's
// table convertor calls with Wide on: every column is sent, the client hides those of
// priority 1 unless `-o wide`). Shapes: AM apis/meta/v1/types.go (Table, TableRow,
// TableColumnDefinition, PartialObjectMetadata); rows carry the object per `includeObject`
// (AS endpoints/handlers/response.go asTable). Ages are "2m10s"-style
// (AM util/duration HumanDuration), "<unknown>" for a missing timestamp.

/// What a client asked the body to be (AS endpoints/handlers/negotiation).
enum ResponseFormat: Sendable, Equatable {
    case json
    /// A Table of the given meta.k8s.io version (v1 or v1beta1).
    case table(version: String, include: IncludeObject)

    /// The negotiated media type, as the response's Content-Type.
    var contentType: String {
        switch self {
        case .json: "application/json"
        case .table(let version, _): "application/json;as=Table;v=\(version);g=meta.k8s.io"
        }
    }
}

/// `includeObject`: what each row carries in `object`.
enum IncludeObject: String, Sendable {
    case none = "None", metadata = "Metadata", object = "Object"

    static func parse(_ value: String?) throws(APIStatus) -> IncludeObject {
        guard let value, !value.isEmpty else { return .metadata }
        guard let parsed = IncludeObject(rawValue: value) else {
            throw APIStatus.badRequest("unrecognized includeObject value: \"\(value)\"")
        }
        return parsed
    }
}

enum MediaNegotiation {
    /// The first entry of `accept` the server can produce, nil when none (406). A Table is
    /// offered only where `tables` is true (GET of a resource); other `as=` forms are never
    /// produced (the client's fallback, usually plain JSON, is then used).
    static func format(accept: String?, tables: Bool) -> ResponseFormat? {
        guard let accept, !accept.trimmingCharacters().isEmpty else { return .json }
        for entry in accept.split(separator: ",") {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters() }
            let type = parts.first ?? ""
            var parameters: [String: String] = [:]
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters() }
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1] }
            }
            guard type == "application/json" || type == "*/*" || type == "application/*" || type.isEmpty else { continue }
            guard let form = parameters["as"] else { return .json }
            if form == "Table", tables, parameters["g"] == "meta.k8s.io", let version = parameters["v"], version == "v1" || version == "v1beta1" {
                return .table(version: version, include: .metadata)
            }
        }
        return nil
    }
}

enum TableConvertor {
    struct Column {
        var name: String
        var type = "string"
        var format = ""
        var priority = 0
        var description: String

        var json: JSONValue {
            ["name": .string(name), "type": .string(type), "format": .string(format),
             "description": .string(description), "priority": .int(Int64(priority))]
        }
    }

    static let nameColumn = Column(name: "Name", format: "name",
                                   description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
    static let ageColumn = Column(name: "Age",
                                  description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.")

    static func columns(_ resource: ResourceType) -> [Column] {
        switch resource {
        case .persistentVolumeClaims:
            [
                nameColumn,
                Column(name: "Status", description: "phase represents the current phase of PersistentVolumeClaim."),
                Column(name: "Volume", description: "volumeName is the binding reference to the PersistentVolume backing this claim."),
                Column(name: "Capacity", description: "capacity represents the actual resources of the underlying volume."),
                Column(name: "Access Modes", description: "accessModes contains the actual access modes the volume backing the PVC has."),
                Column(name: "StorageClass", description: "StorageClass of the pvc"),
                Column(name: "VolumeAttributesClass", description: "VolumeAttributesClass of the pvc"),
                ageColumn,
                Column(name: "VolumeMode", priority: 1, description: "volumeMode defines what type of volume is required by the claim."),
            ]
        case .persistentVolumes:
            [
                nameColumn,
                Column(name: "Capacity", description: "capacity is the description of the persistent volume's resources and capacity."),
                Column(name: "Access Modes", description: "accessModes contains all ways the volume can be mounted."),
                Column(name: "Reclaim Policy", description: "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
                Column(name: "Status", description: "phase indicates if a volume is available, bound to a claim, or released by a claim."),
                Column(name: "Claim", description: "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
                Column(name: "StorageClass", description: "StorageClass of the pv"),
                Column(name: "VolumeAttributesClass", description: "VolumeAttributesClass of the pv"),
                Column(name: "Reason", description: "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
                ageColumn,
                Column(name: "VolumeMode", priority: 1, description: "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state."),
            ]
        case .storageClasses:
            [
                nameColumn,
                Column(name: "Provisioner", description: "Indicates the type of the provisioner."),
                Column(name: "ReclaimPolicy", description: "Dynamically provisioned PersistentVolumes of this storage class are created with this reclaimPolicy. Defaults to Delete."),
                Column(name: "VolumeBindingMode", description: "VolumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound. When unset, VolumeBindingImmediate is used."),
                Column(name: "AllowVolumeExpansion", description: "AllowVolumeExpansion shows whether the storage class allow volume expand."),
                ageColumn,
            ]
        case .leases:
            [nameColumn, Column(name: "Holder", description: "holderIdentity contains the identity of the holder of a current lease."), ageColumn]
        case .events, .eventsV1:
            [
                Column(name: "Last Seen", description: "The time at which the most recent occurrence of this event was recorded."),
                Column(name: "Type", description: "Type of this event (Normal, Warning), new types could be added in the future"),
                Column(name: "Reason", description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
                Column(name: "Object", description: "The object that this event is about."),
                Column(name: "Subobject", priority: 1, description: "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]."),
                Column(name: "Source", priority: 1, description: "The component reporting this event. Should be a short machine understandable string."),
                Column(name: "Message", description: "A human-readable description of the status of this operation."),
                Column(name: "First Seen", priority: 1, description: "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
                Column(name: "Count", priority: 1, description: "The number of times this event has occurred."),
                Column(name: "Name", format: "name", priority: 1, description: nameColumn.description),
            ]
        case .pods:
            [
                nameColumn,
                Column(name: "Ready", description: "The aggregate readiness state of this pod for accepting traffic."),
                Column(name: "Status", description: "The aggregate status of the containers in this pod."),
                Column(name: "Restarts", description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
                ageColumn,
                Column(name: "IP", priority: 1, description: "podIP address allocated to the pod."),
                Column(name: "Node", priority: 1, description: "Name of the Node the Pod is running on."),
                Column(name: "Nominated Node", priority: 1, description: "nominatedNodeName is set when this pod preempts other pods on the node."),
                Column(name: "Readiness Gates", priority: 1, description: "If specified, all readiness gates will be evaluated for pod readiness."),
            ]
        }
    }

    /// A Table of `objects`. `metadata` is the list's (resourceVersion, continue, ...) or,
    /// for one object, its resourceVersion; `headers` false leaves the column definitions
    /// out (the later events of a watch).
    static func table(_ resource: ResourceType, objects: [JSONValue], metadata: JSONValue, version: String,
                      include: IncludeObject, headers: Bool = true, now: Timestamp) -> JSONValue
    {
        let rows: [JSONValue] = objects.map { object in
            var row: JSONValue = ["cells": .array(cells(resource, object, now: now))]
            switch include {
            case .none:
                row["object"] = .null
            case .metadata:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": .string("meta.k8s.io/\(version)"),
                                 "metadata": object["metadata"] ?? .emptyObject]
            case .object:
                var full = object
                full["kind"] = .string(resource.info.kind)
                full["apiVersion"] = .string(resource.info.apiVersion)
                row["object"] = full
            }
            return row
        }
        return [
            "kind": "Table", "apiVersion": .string("meta.k8s.io/\(version)"), "metadata": metadata,
            "columnDefinitions": headers ? .array(columns(resource).map(\.json)) : .null,
            "rows": .array(rows),
        ]
    }

    static func cells(_ resource: ResourceType, _ object: JSONValue, now: Timestamp) -> [JSONValue] {
        let name = JSONValue.string(object.string(at: "metadata", "name") ?? "")
        let age = JSONValue.string(since(object.string(at: "metadata", "creationTimestamp"), now: now))
        switch resource {
        case .persistentVolumeClaims:
            let volumeName = object.string(at: "spec", "volumeName") ?? ""
            var capacity = ""
            var modes = ""
            if !volumeName.isEmpty {
                modes = accessModes(object[path: ["status", "accessModes"]])
                capacity = object.string(at: "status", "capacity", "storage") ?? ""
            }
            let className = object.annotations["volume.beta.kubernetes.io/storage-class"]
                ?? object.string(at: "spec", "storageClassName") ?? ""
            return [
                name, .string(object.isTerminating ? "Terminating" : object.string(at: "status", "phase") ?? ""),
                .string(volumeName), .string(capacity), .string(modes), .string(className),
                .string(object.string(at: "spec", "volumeAttributesClassName") ?? "<unset>"), age,
                .string(object.string(at: "spec", "volumeMode") ?? "<unset>"),
            ]
        case .persistentVolumes:
            var claim = ""
            if let ref = object[path: ["spec", "claimRef"]], ref.objectValue != nil {
                claim = (ref["namespace"]?.stringValue ?? "") + "/" + (ref["name"]?.stringValue ?? "")
            }
            let className = object.annotations["volume.beta.kubernetes.io/storage-class"]
                ?? object.string(at: "spec", "storageClassName") ?? ""
            return [
                name, .string(object.string(at: "spec", "capacity", "storage") ?? "0"),
                .string(accessModes(object[path: ["spec", "accessModes"]])),
                .string(object.string(at: "spec", "persistentVolumeReclaimPolicy") ?? ""),
                .string(object.isTerminating ? "Terminating" : object.string(at: "status", "phase") ?? ""),
                .string(claim), .string(className),
                .string(object.string(at: "spec", "volumeAttributesClassName") ?? "<unset>"),
                .string(object.string(at: "status", "reason") ?? ""), age,
                .string(object.string(at: "spec", "volumeMode") ?? "<unset>"),
            ]
        case .storageClasses:
            var shown = object.string(at: "metadata", "name") ?? ""
            let annotations = object.annotations
            if annotations["storageclass.kubernetes.io/is-default-class"] == "true"
                || annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true"
            {
                shown += " (default)"
            }
            return [
                .string(shown), .string(object["provisioner"]?.stringValue ?? ""),
                .string(object["reclaimPolicy"]?.stringValue ?? "Delete"),
                .string(object["volumeBindingMode"]?.stringValue ?? "Immediate"),
                .bool(object["allowVolumeExpansion"]?.boolValue ?? false), age,
            ]
        case .leases:
            return [name, .string(object.string(at: "spec", "holderIdentity") ?? ""), age]
        case .events:
            return eventCells(CoreEventView(object), name: name, now: now)
        case .eventsV1:
            return eventCells(CoreEventView(eventsV1: object), name: name, now: now)
        case .pods:
            return [name, "0/0", .string(object.string(at: "status", "phase") ?? ""), "0", age,
                    .string(object.string(at: "status", "podIP") ?? "<none>"),
                    .string(object.string(at: "spec", "nodeName") ?? "<none>"), "<none>", "<none>"]
        }
    }

    /// The fields the event printer reads, from either Event version (the real server stores
    /// one and converts).
    struct CoreEventView {
        var firstTimestamp: String?
        var lastTimestamp: String?
        var eventTime: String?
        var seriesCount: Int64?
        var seriesLast: String?
        var count: Int64
        var type: String
        var reason: String
        var kind: String
        var involvedName: String
        var fieldPath: String
        var component: String
        var host: String
        var message: String

        init(_ event: JSONValue) {
            firstTimestamp = event["firstTimestamp"]?.stringValue
            lastTimestamp = event["lastTimestamp"]?.stringValue
            eventTime = event["eventTime"]?.stringValue
            seriesCount = event[path: ["series", "count"]]?.intValue
            seriesLast = event.string(at: "series", "lastObservedTime")
            count = event["count"]?.intValue ?? 0
            type = event["type"]?.stringValue ?? ""
            reason = event["reason"]?.stringValue ?? ""
            kind = event.string(at: "involvedObject", "kind") ?? ""
            involvedName = event.string(at: "involvedObject", "name") ?? ""
            fieldPath = event.string(at: "involvedObject", "fieldPath") ?? ""
            component = event.string(at: "source", "component").flatMap { $0.isEmpty ? nil : $0 }
                ?? event["reportingComponent"]?.stringValue ?? ""
            host = event.string(at: "source", "host").flatMap { $0.isEmpty ? nil : $0 }
                ?? event["reportingInstance"]?.stringValue ?? ""
            message = event["message"]?.stringValue ?? ""
        }

        init(eventsV1 event: JSONValue) {
            firstTimestamp = event["deprecatedFirstTimestamp"]?.stringValue
            lastTimestamp = event["deprecatedLastTimestamp"]?.stringValue
            eventTime = event["eventTime"]?.stringValue
            seriesCount = event[path: ["series", "count"]]?.intValue
            seriesLast = event.string(at: "series", "lastObservedTime")
            count = event["deprecatedCount"]?.intValue ?? 0
            type = event["type"]?.stringValue ?? ""
            reason = event["reason"]?.stringValue ?? ""
            kind = event.string(at: "regarding", "kind") ?? ""
            involvedName = event.string(at: "regarding", "name") ?? ""
            fieldPath = event.string(at: "regarding", "fieldPath") ?? ""
            component = event.string(at: "deprecatedSource", "component").flatMap { $0.isEmpty ? nil : $0 }
                ?? event["reportingController"]?.stringValue ?? ""
            host = event.string(at: "deprecatedSource", "host").flatMap { $0.isEmpty ? nil : $0 }
                ?? event["reportingInstance"]?.stringValue ?? ""
            message = event["note"]?.stringValue ?? ""
        }
    }

    /// printEvent: first seen falls back to eventTime, last seen to first seen; a series
    /// gives both the last time and the count; a singleton counts 1.
    static func eventCells(_ event: CoreEventView, name: JSONValue, now: Timestamp) -> [JSONValue] {
        let first = event.firstTimestamp != nil ? since(event.firstTimestamp, now: now) : since(event.eventTime, now: now)
        var last = event.lastTimestamp != nil ? since(event.lastTimestamp, now: now) : first
        var count = event.count
        if let seriesCount = event.seriesCount {
            last = since(event.seriesLast, now: now)
            count = seriesCount
        } else if count == 0 {
            count = 1
        }
        let target = event.involvedName.isEmpty ? event.kind.lowercased() : "\(event.kind.lowercased())/\(event.involvedName)"
        let source = event.component.isEmpty ? "" : (event.host.isEmpty ? event.component : "\(event.component), \(event.host)")
        return [
            .string(last), .string(event.type), .string(event.reason), .string(target), .string(event.fieldPath),
            .string(source), .string(event.message.trimmingCharacters()), .string(first), .int(count), name,
        ]
    }

    /// helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, once each.
    static func accessModes(_ value: JSONValue?) -> String {
        let modes = Set((value?.arrayValue ?? []).compactMap(\.stringValue))
        return [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
            .filter { modes.contains($0.0) }.map(\.1).joined(separator: ",")
    }

    /// translateTimestampSince: "<unknown>" without a time, else the human duration.
    static func since(_ text: String?, now: Timestamp) -> String {
        guard let text, let time = Timestamp.parse(text, fractionDigits: nil) else { return "<unknown>" }
        return humanDuration(seconds: now.seconds - time.seconds)
    }

    /// AM util/duration HumanDuration, on whole seconds.
    static func humanDuration(seconds: Int64) -> String {
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 {
            let s = seconds % 60
            return s == 0 ? "\(minutes)m" : "\(minutes)m\(s)s"
        }
        if minutes < 180 { return "\(minutes)m" }
        let hours = seconds / 3600
        if hours < 8 {
            let m = minutes % 60
            return m == 0 ? "\(hours)h" : "\(hours)h\(m)m"
        }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 {
            let h = hours % 24
            return h == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(h)h"
        }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 {
            let days = (hours / 24) % 365
            return days == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(days)d"
        }
        return "\(hours / 24 / 365)y"
    }
}
