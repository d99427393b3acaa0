// The registry: create, update and patch with the apiserver's rules, on top of the store.
//
// HTTP handlers and the direct object API both call these, so both go through the same
// decoding, defaulting, validation, optimistic concurrency and watch fan-out.
// Follows AS registry/generic/registry/store.go (Create, Update) and AS registry/rest.

import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

final class Registry: Sendable {
    let store: ObjectStore
    let clock: WallClock
    /// Whether new PVs/PVCs get their protection finalizer (the admission plugin).
    let addsProtectionFinalizers: Bool
    /// How long a read for a revision the store has not reached waits before 504.
    let tooLargeResourceVersionWait: Duration
    let random: Mutex<SeededRandom>
    /// Overrides the random part of generated names (tests of the collision path).
    let nameSuffix: (@Sendable () -> String)?

    init(store: ObjectStore, clock: @escaping WallClock, addsProtectionFinalizers: Bool,
         tooLargeResourceVersionWait: Duration, seed: UInt64, nameSuffix: (@Sendable () -> String)? = nil)
    {
        self.store = store
        self.clock = clock
        self.addsProtectionFinalizers = addsProtectionFinalizers
        self.tooLargeResourceVersionWait = tooLargeResourceVersionWait
        self.random = Mutex(SeededRandom(seed: seed))
        self.nameSuffix = nameSuffix
    }

    static func key(_ resource: ResourceType, namespace: String?, name: String) -> ObjectKey {
        ObjectKey(namespace: resource.info.namespaced ? (namespace ?? "") : "", name: name)
    }

    // MARK: Decoding

    /// Checks the body's kind/apiVersion against the endpoint, fills them in, type-checks
    /// and normalises the fields LocalCluster interprets.
    func decodeBody(_ body: JSONValue, as resource: ResourceType) throws(APIStatus) -> JSONValue {
        let info = resource.info
        var object = body
        try Schema.decode(&object, as: resource)
        if let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != info.apiVersion {
            throw APIStatus.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(info.apiVersion))")
        }
        if let kind = object["kind"]?.stringValue, !kind.isEmpty, kind != info.kind {
            throw APIStatus.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(info.kind))")
        }
        object["apiVersion"] = .string(info.apiVersion)
        object["kind"] = .string(info.kind)
        if object["metadata"] == nil || object["metadata"]?.isNull == true { object["metadata"] = .emptyObject }
        return object
    }

    /// The request namespace goes into the object; a different one in the body is a 400
    /// (AS endpoints/handlers/rest.go checkName / create.go).
    func applyNamespace(_ object: inout JSONValue, resource: ResourceType, namespace: String?) throws(APIStatus) {
        guard resource.info.namespaced else {
            object[path: ["metadata", "namespace"]] = nil
            return
        }
        let bodyNamespace = object.string(at: "metadata", "namespace") ?? ""
        let requestNamespace = namespace ?? ""
        if !bodyNamespace.isEmpty, bodyNamespace != requestNamespace {
            throw APIStatus.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        object[path: ["metadata", "namespace"]] = .string(requestNamespace)
    }

    // MARK: Create

    /// POST: create an object (201). See AS registry/generic/registry/store.go Create.
    /// (The direct API and the controllers: no field validation, no warnings.)
    func create(_ resource: ResourceType, namespace: String?, body: JSONValue, dryRun: Bool) throws(APIStatus) -> JSONValue {
        try create(resource, namespace: namespace, body: body, options: WriteOptions(dryRun: dryRun, fieldValidation: .ignore)).object
    }

    /// POST with its options; the result carries the warnings for the `Warning` headers.
    func create(_ resource: ResourceType, namespace: String?, body: JSONValue, options: WriteOptions) throws(APIStatus) -> WriteResult {
        let info = resource.info
        if info.readOnly { throw APIStatus.methodNotAllowed() }
        var object = try decodeBody(body, as: resource)
        let warnings = try FieldValidation.validate(new: object, old: nil, resource: resource, options.fieldValidation)
        let dryRun = options.dryRun
        try applyNamespace(&object, resource: resource, namespace: namespace)
        if let version = object.string(at: "metadata", "resourceVersion"), !version.isEmpty {
            // AS storage/etcd3/store.go Create → storage.ErrResourceVersionSetOnCreate, an
            // untyped error the handler reports as a 500 with no reason.
            throw APIStatus(code: 500, reason: "", message: "resourceVersion should not be set on objects to be created")
        }
        if resource == .persistentVolumeClaims { assignDefaultStorageClass(&object) }
        let now = clock()
        MetadataRules.fillSystemFieldsForCreate(&object, uid: UUID().uuidString.lowercased(), now: now)
        Strategy.applyDefaults(resource, &object)
        Strategy.prepareForCreate(resource, &object, now: now)
        if addsProtectionFinalizers, let finalizer = Strategy.protectionFinalizer(resource), !object.finalizers.contains(finalizer) {
            object[path: ["metadata", "finalizers"]] = .array(object.finalizers.map(JSONValue.string) + [.string(finalizer)])
        }
        let name = object.string(at: "metadata", "name") ?? ""
        let errors = MetadataRules.validateCreate(object, resource: resource) + Strategy.validateCreate(resource, object)
        if !errors.isEmpty {
            let shownName = name.isEmpty ? (object.string(at: "metadata", "generateName") ?? "") : name
            throw APIStatus.invalid(kind: info.kind, group: info.group, name: shownName, errors: errors)
        }
        if !name.isEmpty {
            return WriteResult(object: try insert(object, resource: resource, name: name, dryRun: dryRun), warnings: warnings)
        }
        // generateName: up to 8 attempts on a name collision, then 409 with retryAfterSeconds 1
        // (AS registry/generic/registry/store.go Create, maxNameGenerationCreateAttempts).
        let prefix = object.string(at: "metadata", "generateName") ?? ""
        var lastError = APIStatus.internalError("name generation failed")
        for _ in 0..<8 {
            let generated = generateName(prefix)
            var candidate = object
            candidate[path: ["metadata", "name"]] = .string(generated)
            do {
                return WriteResult(object: try insert(candidate, resource: resource, name: generated, dryRun: dryRun), warnings: warnings)
            } catch where error.reason == "AlreadyExists" {
                lastError = error
                lastError.retryAfterSeconds = 1
                lastError.hasDetails = true
            }
        }
        throw lastError
    }

    /// The DefaultStorageClass admission plugin: a claim with no class at all (neither
    /// `spec.storageClassName` nor the beta annotation) gets the default class, the newest
    /// one if several are marked (KK plugin/pkg/admission/storage/storageclass/setdefault).
    func assignDefaultStorageClass(_ claim: inout JSONValue) {
        let specClass = claim[path: ["spec", "storageClassName"]]
        guard specClass == nil || specClass?.isNull == true, claim.annotations[Annotations.betaStorageClass] == nil else { return }
        let defaults = store.snapshot(.storageClasses).objects.map(\.1).filter {
            $0.annotations[Annotations.defaultStorageClass] == "true"
        }
        let newest = defaults.max { a, b in
            let left = (a.string(at: "metadata", "creationTimestamp") ?? "", a.string(at: "metadata", "name") ?? "")
            let right = (b.string(at: "metadata", "creationTimestamp") ?? "", b.string(at: "metadata", "name") ?? "")
            return left < right
        }
        if let name = newest?.string(at: "metadata", "name") {
            claim[path: ["spec", "storageClassName"]] = .string(name)
        }
    }

    func insert(_ object: JSONValue, resource: ResourceType, name: String, dryRun: Bool) throws(APIStatus) -> JSONValue {
        let info = resource.info
        let key = Self.key(resource, namespace: object.string(at: "metadata", "namespace"), name: name)
        let outcome = try store.write(resource, key, dryRun: dryRun) { (current) throws(APIStatus) -> ObjectStore.Decision in
            if let current {
                throw APIStatus.alreadyExists(resource: info.plural, group: info.group, name: name,
                                              terminating: current.isTerminating)
            }
            return .put(object)
        }
        return outcome.object
    }

    /// `<prefix truncated to 58><5 random chars>` (AS storage/names/generate.go).
    func generateName(_ prefix: String) -> String {
        let base = prefix.utf8.count > 58 ? String(decoding: Array(prefix.utf8).prefix(58), as: UTF8.self) : prefix
        if let nameSuffix { return base + nameSuffix() }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        let suffix = random.withLock { rng in
            String((0..<5).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        }
        return base + suffix
    }

    // MARK: Update and patch

    /// PUT: replace an object (200), or its status with `subresource == .status`.
    /// (The direct API and the controllers: no field validation, no warnings.)
    func update(_ resource: ResourceType, namespace: String?, name: String, subresource: Subresource?,
                body: JSONValue, dryRun: Bool) throws(APIStatus) -> JSONValue
    {
        try update(resource, namespace: namespace, name: name, subresource: subresource, body: body,
                   options: WriteOptions(dryRun: dryRun, fieldValidation: .ignore)).object
    }

    /// PUT with its options.
    func update(_ resource: ResourceType, namespace: String?, name: String, subresource: Subresource?,
                body: JSONValue, options: WriteOptions) throws(APIStatus) -> WriteResult
    {
        if resource.info.readOnly { throw APIStatus.methodNotAllowed() }
        let object = try decodeBody(body, as: resource)
        return try guaranteedUpdate(resource, namespace: namespace, name: name, subresource: subresource, options: options) {
            _ in object
        }
    }

    /// PATCH: apply a JSON merge patch or JSON patch to the current object (200).
    /// (The direct API and the controllers: no field validation, no warnings.)
    func patch(_ resource: ResourceType, namespace: String?, name: String, subresource: Subresource?,
               type: PatchType, patch: JSONValue, dryRun: Bool) throws(APIStatus) -> JSONValue
    {
        try self.patch(resource, namespace: namespace, name: name, subresource: subresource, type: type, patch: patch,
                       options: WriteOptions(dryRun: dryRun, fieldValidation: .ignore)).object
    }

    /// PATCH with its options: JSON merge patch, JSON patch or strategic merge patch.
    func patch(_ resource: ResourceType, namespace: String?, name: String, subresource: Subresource?,
               type: PatchType, patch: JSONValue, options: WriteOptions) throws(APIStatus) -> WriteResult
    {
        try guaranteedUpdate(resource, namespace: namespace, name: name, subresource: subresource, options: options) {
            (current) throws(APIStatus) -> JSONValue in
            let patched: JSONValue
            switch type {
            case .mergePatch:
                guard patch.objectValue != nil else {
                    throw APIStatus.badRequest("error decoding patch: json: cannot unmarshal \(JSONPatch.typeName(patch)) into Go value of type map[string]interface {}")
                }
                patched = JSONMergePatch.apply(patch, to: current)
            case .jsonPatch:
                do throws(PatchError) {
                    patched = try JSONPatch.apply(patch, to: current)
                } catch {
                    throw Self.patchFailure(error)
                }
            case .strategicMergePatch:
                do throws(PatchError) {
                    patched = try StrategicMergePatch.apply(patch, to: current, schema: TypeSchema.of(resource))
                } catch {
                    throw Self.patchFailure(error)
                }
            case .applyPatch:
                throw APIStatus.unsupportedMediaType(PatchType.served.map(\.rawValue))
            }
            return try self.decodeBody(patched, as: resource)
        }
    }

    /// A patch that cannot be applied: a malformed document is 400; a failed operation 422
    /// (AS handlers/patch.go applyJSPatch: NewGenericServerResponse(422, ...)).
    static func patchFailure(_ error: PatchError) -> APIStatus {
        switch error {
        case .malformed(let message):
            return APIStatus.badRequest(message)
        case .operationFailed(let message):
            return APIStatus(code: 422, reason: "Invalid",
                             message: "the server rejected our request due to an error in our request",
                             causes: [.init(reason: "UnexpectedServerResponse", message: message, field: "")])
        }
    }

    /// The update loop of AS registry/generic/registry/store.go Update, done atomically under
    /// the store lock: build the new object from the current one, check resourceVersion,
    /// keep what the client may not change, validate, write. A terminating object whose
    /// finalizers become empty is deleted in the same request (store.go errEmptiedFinalizers).
    func guaranteedUpdate(_ resource: ResourceType, namespace: String?, name: String, subresource: Subresource?,
                          options: WriteOptions, _ makeObject: (JSONValue) throws(APIStatus) -> JSONValue) throws(APIStatus) -> WriteResult
    {
        let info = resource.info
        if info.readOnly { throw APIStatus.methodNotAllowed() }
        let key = Self.key(resource, namespace: namespace, name: name)
        let now = clock()
        var warnings: [String] = []
        let outcome = try store.write(resource, key, dryRun: options.dryRun) { (current) throws(APIStatus) -> ObjectStore.Decision in
            guard let current else {
                throw APIStatus.notFound(resource: info.plural, group: info.group, name: name)
            }
            var object = try makeObject(current)
            warnings = try FieldValidation.validate(new: object, old: current, resource: resource, options.fieldValidation)
            let bodyName = object.string(at: "metadata", "name") ?? ""
            if bodyName != name {
                throw APIStatus.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
            }
            try applyNamespace(&object, resource: resource, namespace: namespace)
            let currentVersion = current.string(at: "metadata", "resourceVersion") ?? ""
            let requestVersion = object.string(at: "metadata", "resourceVersion") ?? ""
            if requestVersion.isEmpty {
                guard info.allowsUnconditionalUpdate else {
                    throw APIStatus.invalid(kind: info.kind, group: info.group, name: name, errors: [
                        .invalidRaw("metadata.resourceVersion", "0x0", "must be specified for an update"),
                    ])
                }
                object[path: ["metadata", "resourceVersion"]] = .string(currentVersion)
            } else {
                _ = try parseResourceVersion(requestVersion)
                if requestVersion != currentVersion {
                    throw APIStatus.staleResourceVersion(resource: info.plural, group: info.group, name: name)
                }
            }
            MetadataRules.keepSystemFieldsOnUpdate(&object, old: current)
            Strategy.prepareForUpdate(resource, new: &object, old: current, subresource: subresource, now: now)
            Strategy.applyDefaults(resource, &object)
            let errors = MetadataRules.validateUpdate(object, old: current, resource: resource)
                + Strategy.validateUpdate(resource, new: object, old: current, subresource: subresource)
            if !errors.isEmpty { throw APIStatus.invalid(kind: info.kind, group: info.group, name: name, errors: errors) }
            if current.isTerminating, object.finalizers.isEmpty {
                return .delete
            }
            return .put(object)
        }
        return WriteResult(object: outcome.object, warnings: warnings)
    }
}

/// A successful write: the object as stored (or as it would be, for a dry run) and the
/// warnings for the response's `Warning` headers.
struct WriteResult: Sendable {
    var object: JSONValue
    var warnings: [String]
}

/// SplitMix64: a small seeded generator, so runs are reproducible.
struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
