// Pure helpers of the PV controller: annotations, class lookup, matching a claim to a volume.
//
// CH storage/volume/pv_helpers.go (constants, IsVolumeBoundToClaim, FindMatchingVolume,
// CheckVolumeModeMismatches, GetPersistentVolumeClaimClass) and KK
// pkg/controller/volume/persistentvolume/index.go (access-mode grouping).

enum Annotations {
    static let bindCompleted = "pv.kubernetes.io/bind-completed"
    static let boundByController = "pv.kubernetes.io/bound-by-controller"
    static let selectedNode = "volume.kubernetes.io/selected-node"
    static let provisionedBy = "pv.kubernetes.io/provisioned-by"
    static let storageProvisioner = "volume.kubernetes.io/storage-provisioner"
    static let betaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
    static let betaStorageClass = "volume.beta.kubernetes.io/storage-class"
    static let defaultStorageClass = "storageclass.kubernetes.io/is-default-class"
    static let pvcProtection = "kubernetes.io/pvc-protection"
    static let pvProtection = "kubernetes.io/pv-protection"
}

enum VolumeMatching {
    /// The claim's class: the beta annotation wins over `spec.storageClassName`.
    static func claimClass(_ claim: JSONValue) -> String {
        if let beta = claim.annotations[Annotations.betaStorageClass] { return beta }
        return claim.string(at: "spec", "storageClassName") ?? ""
    }

    static func volumeClass(_ volume: JSONValue) -> String {
        if let beta = volume.annotations[Annotations.betaStorageClass] { return beta }
        return volume.string(at: "spec", "storageClassName") ?? ""
    }

    static func accessModes(_ object: JSONValue, _ path: [String] = ["spec", "accessModes"]) -> Set<String> {
        Set((object[path: path]?.arrayValue ?? []).compactMap(\.stringValue))
    }

    static func requestedStorage(_ claim: JSONValue) -> Quantity? {
        claim[path: ["spec", "resources", "requests", "storage"]].flatMap(Quantity.from)
    }

    static func capacity(_ volume: JSONValue) -> Quantity? {
        volume[path: ["spec", "capacity", "storage"]].flatMap(Quantity.from)
    }

    /// `volumeMode` defaults to Filesystem on both sides.
    static func volumeModeMismatch(_ claim: JSONValue, _ volume: JSONValue) -> Bool {
        (claim.string(at: "spec", "volumeMode") ?? "Filesystem") != (volume.string(at: "spec", "volumeMode") ?? "Filesystem")
    }

    /// `claimRef` names this claim, and its uid (when set) is the claim's.
    static func isBound(_ volume: JSONValue, to claim: JSONValue) -> Bool {
        guard let ref = volume[path: ["spec", "claimRef"]], ref.objectValue != nil else { return false }
        guard ref["name"]?.stringValue == claim.string(at: "metadata", "name"),
            ref["namespace"]?.stringValue == claim.string(at: "metadata", "namespace")
        else { return false }
        let uid = ref["uid"]?.stringValue ?? ""
        return uid.isEmpty || uid == claim.string(at: "metadata", "uid")
    }

    /// The claim's label selector (matchLabels and matchExpressions) against the volume's labels.
    static func selectorMatches(_ claim: JSONValue, _ volume: JSONValue) -> Bool {
        guard let selector = claim[path: ["spec", "selector"]], selector.objectValue != nil else { return true }
        var labels: [String: String] = [:]
        for (key, value) in volume[path: ["metadata", "labels"]]?.objectValue ?? [:] { labels[key] = value.stringValue ?? "" }
        for (key, value) in selector["matchLabels"]?.objectValue ?? [:] where labels[key] != value.stringValue {
            return false
        }
        for expression in selector["matchExpressions"]?.arrayValue ?? [] {
            guard let key = expression["key"]?.stringValue, let op = expression["operator"]?.stringValue else { return false }
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            let value = labels[key]
            switch op {
            case "In": if value.map({ !values.contains($0) }) ?? true { return false }
            case "NotIn": if let value, values.contains(value) { return false }
            case "Exists": if value == nil { return false }
            case "DoesNotExist": if value != nil { return false }
            default: return false
            }
        }
        return true
    }

    /// FindMatchingVolume: a volume pre-bound to the claim wins if it is big enough and
    /// compatible; otherwise the smallest Available, unclaimed, compatible volume of the claim's
    /// class. Volumes are only candidates when their access modes include all of the claim's
    /// (index.go findByClaim). With `delayBinding` unbound volumes are left to the scheduler.
    ///
    /// This scan over every volume is the definition; the controller asks its ``BinderIndex``
    /// for the few candidates instead (``PVController/findMatch(for:delayBinding:)``), and
    /// the tests check that both choose the same volume.
    static func bestMatch(for claim: JSONValue, among volumes: [JSONValue], delayBinding: Bool) -> JSONValue? {
        guard let requested = requestedStorage(claim) else { return nil }
        var best: (JSONValue, Quantity)?
        for volume in volumes {
            if isBoundCandidate(volume, for: claim, requested: requested) { return volume }
            if delayBinding { continue }
            guard isAvailableCandidate(volume, for: claim, requested: requested), let size = capacity(volume) else { continue }
            if best.map({ size < $0.1 }) ?? true { best = (volume, size) }
        }
        return best?.0
    }

    /// The checks both kinds of candidate pass: access modes, a capacity, the volume mode.
    static func isCompatible(_ volume: JSONValue, with claim: JSONValue) -> Bool {
        accessModes(volume).isSuperset(of: accessModes(claim)) && capacity(volume) != nil && !volumeModeMismatch(claim, volume)
    }

    /// A volume whose claimRef names the claim, big enough and not terminating.
    static func isBoundCandidate(_ volume: JSONValue, for claim: JSONValue, requested: Quantity) -> Bool {
        guard isCompatible(volume, with: claim), isBound(volume, to: claim), let size = capacity(volume) else { return false }
        return size >= requested && !volume.isTerminating
    }

    /// An unclaimed Available volume of the claim's class that fits and matches its selector.
    static func isAvailableCandidate(_ volume: JSONValue, for claim: JSONValue, requested: Quantity) -> Bool {
        guard isCompatible(volume, with: claim), !isBound(volume, to: claim), let size = capacity(volume) else { return false }
        if let ref = volume[path: ["spec", "claimRef"]], !ref.isNull { return false }
        return volume.string(at: "status", "phase") == "Available" && !volume.isTerminating
            && selectorMatches(claim, volume) && volumeClass(volume) == claimClass(claim) && size >= requested
    }

    /// The `claimRef` a binding writes (CG tools/reference GetReference).
    static func reference(to claim: JSONValue) -> JSONValue {
        [
            "kind": "PersistentVolumeClaim", "apiVersion": "v1",
            "namespace": .string(claim.string(at: "metadata", "namespace") ?? ""),
            "name": .string(claim.string(at: "metadata", "name") ?? ""),
            "uid": .string(claim.string(at: "metadata", "uid") ?? ""),
            "resourceVersion": .string(claim.string(at: "metadata", "resourceVersion") ?? ""),
        ]
    }
}

extension JSONValue {
    /// A copy with one annotation set.
    func settingAnnotation(_ key: String, _ value: String) -> JSONValue {
        var copy = self
        if copy[path: ["metadata", "annotations"]]?.objectValue == nil { copy[path: ["metadata", "annotations"]] = .emptyObject }
        copy[path: ["metadata", "annotations", key]] = .string(value)
        return copy
    }
}
