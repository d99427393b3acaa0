// The structure of every kind LocalCluster serves: each field, its JSON type and, for
// lists, how a strategic merge patch combines them.
//
// Written from the Go API types (k8s.io/api core/v1, storage/v1, coordination/v1,
// events/v1 and apimachinery's meta/v1 ObjectMeta): field names as their `json` tags, list
// strategies as their `patchStrategy`/`patchMergeKey` and `+listType` markers
// (https://github.com/kubernetes/api). One description drives three things: the OpenAPI v3
// documents (`OpenAPI`), unknown-field detection for `fieldValidation` (`FieldValidation`)
// and strategic merge patches (`StrategicMergePatch`).
//
// The PV volume sources other than nfs, hostPath, local and csi are `.any`: accepted as
// objects without a closer look (LocalCluster has no use for them).

/// How a list field combines in a strategic merge patch (`x-kubernetes-patch-strategy`).
enum ListStrategy: Sendable, Equatable {
    /// Replaced whole (no patch strategy; `+listType=atomic`).
    case atomic
    /// A set of scalars, merged by union (`patchStrategy:"merge"` on a `[]string`).
    case mergeSet
    /// Objects merged by the value of one key (`patchStrategy:"merge"`, `patchMergeKey`).
    case mergeByKey(String)
}

/// A JSON shape.
indirect enum TypeSchema: Sendable {
    case string
    case int32
    case int64
    case boolean
    /// resource.Quantity: a string (or a number) such as `1Gi`.
    case quantity
    /// metav1.Time and metav1.MicroTime: RFC 3339 strings.
    case time
    /// A struct: its fields by JSON name.
    case object([String: TypeSchema])
    /// `map[string]T`.
    case map(TypeSchema)
    case list(TypeSchema, ListStrategy)
    /// Any JSON object, not looked into (`x-kubernetes-preserve-unknown-fields`).
    case any

    /// The fields of a struct (empty for anything else).
    var fields: [String: TypeSchema] {
        if case .object(let fields) = self { return fields }
        return [:]
    }

    /// The schema of a member: a struct's field, a map's values; nil when unknown.
    func member(_ key: String) -> TypeSchema? {
        switch self {
        case .object(let fields): fields[key]
        case .map(let value): value
        case .any: .any
        default: nil
        }
    }
}

extension TypeSchema {
    static func list(_ item: TypeSchema) -> TypeSchema { .list(item, .atomic) }
    static let strings = TypeSchema.list(.string)
    static let stringMap = TypeSchema.map(.string)
    static let quantityMap = TypeSchema.map(.quantity)

    /// The fields every top-level object has.
    static func kind(_ fields: [String: TypeSchema]) -> TypeSchema {
        .object(fields.merging(["apiVersion": .string, "kind": .string, "metadata": objectMeta]) { new, _ in new })
    }

    static let objectMeta = TypeSchema.object([
        "name": .string, "generateName": .string, "namespace": .string, "selfLink": .string, "uid": .string,
        "resourceVersion": .string, "generation": .int64, "creationTimestamp": .time, "deletionTimestamp": .time,
        "deletionGracePeriodSeconds": .int64, "labels": stringMap, "annotations": stringMap,
        "ownerReferences": .list(.object([
            "apiVersion": .string, "kind": .string, "name": .string, "uid": .string,
            "controller": .boolean, "blockOwnerDeletion": .boolean,
        ]), .mergeByKey("uid")),
        "finalizers": .list(.string, .mergeSet),
        "managedFields": .list(.object([
            "manager": .string, "operation": .string, "apiVersion": .string, "time": .time,
            "fieldsType": .string, "fieldsV1": .any, "subresource": .string,
        ])),
    ])

    static let listMeta = TypeSchema.object([
        "selfLink": .string, "resourceVersion": .string, "continue": .string, "remainingItemCount": .int64,
    ])

    static let objectReference = TypeSchema.object([
        "kind": .string, "namespace": .string, "name": .string, "uid": .string, "apiVersion": .string,
        "resourceVersion": .string, "fieldPath": .string,
    ])

    static let labelSelector = TypeSchema.object([
        "matchLabels": stringMap,
        "matchExpressions": .list(.object(["key": .string, "operator": .string, "values": strings])),
    ])

    static let secretReference = TypeSchema.object(["name": .string, "namespace": .string])

    static let nodeSelectorRequirements = TypeSchema.list(.object(["key": .string, "operator": .string, "values": strings]))

    static let claim = kind([
        "spec": .object([
            "accessModes": strings, "selector": labelSelector,
            "resources": .object(["limits": quantityMap, "requests": quantityMap]),
            "volumeName": .string, "storageClassName": .string, "volumeMode": .string,
            "dataSource": .object(["apiGroup": .string, "kind": .string, "name": .string]),
            "dataSourceRef": .object(["apiGroup": .string, "kind": .string, "name": .string, "namespace": .string]),
            "volumeAttributesClassName": .string,
        ]),
        "status": .object([
            "phase": .string, "accessModes": strings, "capacity": quantityMap,
            "conditions": .list(.object([
                "type": .string, "status": .string, "lastProbeTime": .time, "lastTransitionTime": .time,
                "reason": .string, "message": .string,
            ]), .mergeByKey("type")),
            "allocatedResources": quantityMap, "allocatedResourceStatuses": stringMap,
            "currentVolumeAttributesClassName": .string,
            "modifyVolumeStatus": .object(["targetVolumeAttributesClassName": .string, "status": .string]),
        ]),
    ])

    /// The PV volume sources LocalCluster does not look into.
    static let opaqueVolumeSources = [
        "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume", "flocker",
        "gcePersistentDisk", "glusterfs", "iscsi", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd",
        "scaleIO", "storageos", "vsphereVolume",
    ]

    static let volume: TypeSchema = {
        var spec: [String: TypeSchema] = [
            "capacity": quantityMap, "accessModes": strings, "claimRef": objectReference,
            "persistentVolumeReclaimPolicy": .string, "storageClassName": .string, "mountOptions": strings,
            "volumeMode": .string, "volumeAttributesClassName": .string,
            "nodeAffinity": .object(["required": .object([
                "nodeSelectorTerms": .list(.object(["matchExpressions": nodeSelectorRequirements,
                                                    "matchFields": nodeSelectorRequirements])),
            ])]),
            "nfs": .object(["server": .string, "path": .string, "readOnly": .boolean]),
            "hostPath": .object(["path": .string, "type": .string]),
            "local": .object(["path": .string, "fsType": .string]),
            "csi": .object([
                "driver": .string, "volumeHandle": .string, "readOnly": .boolean, "fsType": .string,
                "volumeAttributes": stringMap, "controllerPublishSecretRef": secretReference,
                "nodeStageSecretRef": secretReference, "nodePublishSecretRef": secretReference,
                "controllerExpandSecretRef": secretReference, "nodeExpandSecretRef": secretReference,
            ]),
        ]
        for source in opaqueVolumeSources { spec[source] = .any }
        return kind([
            "spec": .object(spec),
            "status": .object(["phase": .string, "message": .string, "reason": .string, "lastPhaseTransitionTime": .time]),
        ])
    }()

    static let storageClass = kind([
        "provisioner": .string, "parameters": stringMap, "reclaimPolicy": .string, "mountOptions": strings,
        "allowVolumeExpansion": .boolean, "volumeBindingMode": .string,
        "allowedTopologies": .list(.object([
            "matchLabelExpressions": .list(.object(["key": .string, "values": strings])),
        ])),
    ])

    static let lease = kind([
        "spec": .object([
            "holderIdentity": .string, "leaseDurationSeconds": .int32, "acquireTime": .time, "renewTime": .time,
            "leaseTransitions": .int32, "strategy": .string, "preferredHolder": .string,
        ]),
    ])

    static let eventSeries = TypeSchema.object(["count": .int32, "lastObservedTime": .time])
    static let eventSource = TypeSchema.object(["component": .string, "host": .string])

    static let coreEvent = kind([
        "involvedObject": objectReference, "reason": .string, "message": .string, "source": eventSource,
        "firstTimestamp": .time, "lastTimestamp": .time, "count": .int32, "type": .string, "eventTime": .time,
        "series": eventSeries, "action": .string, "related": objectReference, "reportingComponent": .string,
        "reportingInstance": .string,
    ])

    static let eventV1 = kind([
        "eventTime": .time, "series": eventSeries, "reportingController": .string, "reportingInstance": .string,
        "action": .string, "reason": .string, "regarding": objectReference, "related": objectReference,
        "note": .string, "type": .string, "deprecatedSource": eventSource, "deprecatedFirstTimestamp": .time,
        "deprecatedLastTimestamp": .time, "deprecatedCount": .int32,
    ])

    /// Pods are served read-only and never exist (see `ResourceType.pods`).
    static let pod = kind(["spec": .any, "status": .any])

    /// The schema of a resource's objects.
    static func of(_ resource: ResourceType) -> TypeSchema {
        switch resource {
        case .persistentVolumeClaims: claim
        case .persistentVolumes: volume
        case .storageClasses: storageClass
        case .leases: lease
        case .events: coreEvent
        case .eventsV1: eventV1
        case .pods: pod
        }
    }

    /// The OpenAPI definition name of a resource's kind (`io.k8s.api.<group>.<version>.<Kind>`).
    static func definitionName(_ resource: ResourceType) -> String {
        let info = resource.info
        let group = info.group.isEmpty ? "core" : String(info.group.split(separator: ".").first ?? "")
        return "io.k8s.api.\(group).\(info.version).\(info.kind)"
    }
}
