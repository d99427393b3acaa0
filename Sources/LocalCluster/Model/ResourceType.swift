// The resources LocalCluster serves and their REST shape.

/// A kind of object LocalCluster serves.
public enum ResourceType: String, Sendable, CaseIterable, Hashable {
    /// core/v1 PersistentVolumeClaim (namespaced).
    case persistentVolumeClaims
    /// core/v1 PersistentVolume (cluster-scoped).
    case persistentVolumes
    /// storage.k8s.io/v1 StorageClass (cluster-scoped).
    case storageClasses
    /// coordination.k8s.io/v1 Lease (namespaced).
    case leases
    /// core/v1 Event (namespaced).
    case events
    /// events.k8s.io/v1 Event (namespaced). Stored apart from core/v1 Events (see README).
    case eventsV1
    /// core/v1 Pod (namespaced), read-only and always empty: there is no kubelet or
    /// scheduler, but clients list pods (`kubectl describe pvc` looks for the claim's users).
    case pods

    /// REST facts about a resource.
    struct Info: Sendable {
        let plural: String
        let kind: String
        let group: String
        let version: String
        let namespaced: Bool
        /// Whether `/status` is a subresource (PV, PVC).
        let hasStatusSubresource: Bool
        /// PUT without `metadata.resourceVersion` allowed (PV/PVC strategies, AllowUnconditionalUpdate).
        let allowsUnconditionalUpdate: Bool
        /// DELETE answers with the object rather than a Status (KK registry storage.go ReturnDeletedObject).
        let returnsDeletedObject: Bool
        let shortNames: [String]
        /// Only get, list and watch are served (writes are 405); see `pods`.
        var readOnly = false
        /// Discovery categories (`kubectl get all` lists the resources in `all`).
        var categories: [String] = []

        var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
        var listKind: String { kind + "List" }
        /// The URL prefix of the group version: `/api/v1` or `/apis/<group>/<version>`.
        var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }
    }

    var info: Info {
        switch self {
        case .persistentVolumeClaims:
            Info(plural: "persistentvolumeclaims", kind: "PersistentVolumeClaim", group: "", version: "v1",
                 namespaced: true, hasStatusSubresource: true, allowsUnconditionalUpdate: true,
                 returnsDeletedObject: true, shortNames: ["pvc"])
        case .persistentVolumes:
            Info(plural: "persistentvolumes", kind: "PersistentVolume", group: "", version: "v1",
                 namespaced: false, hasStatusSubresource: true, allowsUnconditionalUpdate: true,
                 returnsDeletedObject: true, shortNames: ["pv"])
        case .storageClasses:
            Info(plural: "storageclasses", kind: "StorageClass", group: "storage.k8s.io", version: "v1",
                 namespaced: false, hasStatusSubresource: false, allowsUnconditionalUpdate: true,
                 returnsDeletedObject: false, shortNames: ["sc"])
        case .leases:
            Info(plural: "leases", kind: "Lease", group: "coordination.k8s.io", version: "v1",
                 namespaced: true, hasStatusSubresource: false, allowsUnconditionalUpdate: false,
                 returnsDeletedObject: false, shortNames: [])
        case .events:
            Info(plural: "events", kind: "Event", group: "", version: "v1",
                 namespaced: true, hasStatusSubresource: false, allowsUnconditionalUpdate: true,
                 returnsDeletedObject: false, shortNames: ["ev"])
        case .eventsV1:
            Info(plural: "events", kind: "Event", group: "events.k8s.io", version: "v1",
                 namespaced: true, hasStatusSubresource: false, allowsUnconditionalUpdate: true,
                 returnsDeletedObject: false, shortNames: ["ev"])
        case .pods:
            Info(plural: "pods", kind: "Pod", group: "", version: "v1",
                 namespaced: true, hasStatusSubresource: false, allowsUnconditionalUpdate: true,
                 returnsDeletedObject: true, shortNames: ["po"], readOnly: true, categories: ["all"])
        }
    }

    /// The resource for a group version and plural name in a URL.
    static func lookup(group: String, version: String, plural: String) -> ResourceType? {
        allCases.first { $0.info.group == group && $0.info.version == version && $0.info.plural == plural }
    }

    /// The resource for an object's `apiVersion` and `kind`.
    static func lookup(apiVersion: String, kind: String) -> ResourceType? {
        allCases.first { $0.info.apiVersion == apiVersion && $0.info.kind == kind }
    }

    /// Field selectors the resource supports beyond `metadata.name`/`metadata.namespace`
    /// (KK pkg/registry/core/event/strategy.go ToSelectableFields; events.k8s.io the same storage).
    var extraSelectableFields: [String: [String]] {
        switch self {
        case .events:
            [
                "involvedObject.kind": ["involvedObject", "kind"],
                "involvedObject.namespace": ["involvedObject", "namespace"],
                "involvedObject.name": ["involvedObject", "name"],
                "involvedObject.uid": ["involvedObject", "uid"],
                "involvedObject.apiVersion": ["involvedObject", "apiVersion"],
                "involvedObject.resourceVersion": ["involvedObject", "resourceVersion"],
                "involvedObject.fieldPath": ["involvedObject", "fieldPath"],
                "reason": ["reason"], "reportingComponent": ["reportingComponent"],
                "source": ["source", "component"], "type": ["type"],
            ]
        case .eventsV1:
            [
                "regarding.kind": ["regarding", "kind"], "regarding.namespace": ["regarding", "namespace"],
                "regarding.name": ["regarding", "name"], "regarding.uid": ["regarding", "uid"],
                "reason": ["reason"], "reportingController": ["reportingController"], "type": ["type"],
            ]
        case .pods:
            // KK pkg/registry/core/pod/strategy.go ToSelectableFields (the common ones).
            [
                "spec.nodeName": ["spec", "nodeName"], "spec.restartPolicy": ["spec", "restartPolicy"],
                "spec.schedulerName": ["spec", "schedulerName"], "spec.serviceAccountName": ["spec", "serviceAccountName"],
                "status.phase": ["status", "phase"], "status.podIP": ["status", "podIP"],
                "status.nominatedNodeName": ["status", "nominatedNodeName"],
            ]
        case .persistentVolumeClaims, .persistentVolumes, .storageClasses, .leases:
            [:]
        }
    }
}
