// Writes: create, update (PUT), the status subresource, JSON merge patch and delete
// (see docs/kubernetes-api-behaviour.md, "Writes").
import Foundation

/// A subresource addressed by a write.
package enum Subresource: String, Sendable, Hashable {
    /// `/status`: the only way status is written (main-resource writes ignore it).
    case status
}

/// What a DELETE achieved.
public enum DeleteResult<Object: KubeResource>: Sendable {
    /// The object is gone. PV/PVC deletes return its last state; others (Lease, Event)
    /// return only a Status, so the object is nil.
    case deleted(Object?)
    /// The object still exists, terminating until its finalizers are removed.
    case pendingFinalizers(Object)
    /// It did not exist (404): reported distinctly so callers can treat it as done
    /// (the object is already gone).
    case notFound
}

extension KubeClient {
    /// Creates `object` and returns it as stored.
    ///
    /// `metadata.resourceVersion`, `uid`, `creationTimestamp`, `deletionTimestamp` and
    /// `deletionGracePeriodSeconds` are never sent (the server rejects a resourceVersion
    /// on create and sets the others). The name (or `generateName` prefix) and namespace
    /// are validated first.
    ///
    /// - Throws: ``KubeError``; `isAlreadyExists` when the name is taken (a provisioner
    ///   creating `pvc-<uid>` treats that as success).
    public func create<T: KubeResource>(_ object: T) async throws -> T {
        var object = object
        object.metadata.resourceVersion = ""
        object.metadata.uid = ""
        object.metadata.creationTimestamp = nil
        object.metadata.deletionTimestamp = nil
        object.metadata.deletionGracePeriodSeconds = nil
        if object.metadata.name.isEmpty {
            guard !object.metadata.generateName.isEmpty else {
                throw KubeError.invalidRequest("\(T.resource.kind): neither metadata.name nor metadata.generateName is set")
            }
            if let problem = NameValidation.generateNameProblem(object.metadata.generateName) {
                throw KubeError.invalidRequest("\(T.resource.kind) generateName \"\(object.metadata.generateName)\" \(problem)")
            }
        } else {
            try NameValidation.checkName(object.metadata.name, of: T.resource)
        }
        if T.resource.namespaced, object.metadata.namespace.isEmpty {
            throw KubeError.invalidRequest("\(T.resource.kind) \"\(object.metadata.name)\" is namespaced; metadata.namespace is required")
        }
        let path = try Paths.collection(T.resource, namespace: try namespaceForWrite(object))
        let request = KubeRequest(method: .post, path: path, body: try encodeObject(object), contentType: "application/json")
        return try decode(T.self, from: try await sendAndCollect(request), request: request.summary)
    }

    /// Creates `object`, or returns the stored object of that name if it already exists
    /// (a provisioner re-creating its deterministic `pvc-<uid>` PV after a lost
    /// response or a restart must treat 409 AlreadyExists as success).
    ///
    /// The caller must check that an existing object is the one it meant (for a PV, that
    /// `spec.claimRef.uid` is its claim's uid): the name alone does not prove it.
    ///
    /// - Returns: the object and whether this call created it.
    package func createOrGetExisting<T: KubeResource>(_ object: T) async throws -> (object: T, created: Bool) {
        guard !object.metadata.name.isEmpty else {
            throw KubeError.invalidRequest("\(T.resource.kind): createOrGetExisting needs metadata.name (not generateName)")
        }
        do {
            return (try await create(object), true)
        } catch let error as KubeError where error.isAlreadyExists {
            let namespace = T.resource.namespaced ? object.metadata.namespace : nil
            return (try await get(T.self, name: object.metadata.name, namespace: namespace), false)
        }
    }

    /// Replaces `object` (PUT) if its `metadata.resourceVersion` is still current.
    ///
    /// An RV-less PUT would overwrite concurrent changes blindly, so it is refused here.
    /// Fields the model does not know are dropped by a PUT: see the type documentation.
    ///
    /// - Throws: ``KubeError``; `isConflict` when the object changed since it was read.
    package func update<T: KubeResource>(_ object: T) async throws -> T {
        try await put(object, subresource: nil)
    }

    /// Replaces the status of `object` through `/status`; the server ignores spec changes
    /// there. Needs `metadata.resourceVersion` like ``update(_:)``.
    package func updateStatus<T: KubeResource>(_ object: T) async throws -> T {
        try await put(object, subresource: .status)
    }

    /// Applies an RFC 7386 JSON merge patch (`application/merge-patch+json`).
    ///
    /// - Parameters:
    ///   - patch: the patch; `null` members delete, lists are replaced whole.
    ///   - resourceVersion: if given, it is written into `metadata.resourceVersion` of the
    ///     patch, making it conditional: 409 Conflict if the object changed.
    ///   - subresource: `.status` to patch the status.
    package func mergePatch<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil, patch: JSONValue,
                                            resourceVersion: String? = nil, subresource: Subresource? = nil) async throws -> T {
        guard case .object = patch else {
            throw KubeError.invalidRequest("merge patch of \(T.resource.kind) \"\(name)\" must be a JSON object")
        }
        var patch = patch
        if let resourceVersion, !resourceVersion.isEmpty {
            var metadata = patch["metadata"] ?? .object([:])
            if case .null = metadata { metadata = .object([:]) }
            metadata["resourceVersion"] = .string(resourceVersion)
            patch["metadata"] = metadata
        }
        let path = try Paths.item(T.resource, name: name, namespace: namespace, subresource: subresource?.rawValue)
        let body: [UInt8]
        do {
            body = Array(try JSONCoding.encoder.encode(patch))
        } catch {
            throw KubeError.encoding(resource: T.resource, detail: String(describing: error))
        }
        let request = KubeRequest(method: .patch, path: path, body: body, contentType: "application/merge-patch+json")
        return try decode(T.self, from: try await sendAndCollect(request), request: request.summary)
    }

    /// Deletes an object, sending `options` (preconditions, propagation) as the body.
    ///
    /// - Returns: ``DeleteResult``; a missing object is `.notFound`, not an error.
    /// - Throws: ``KubeError``; `isConflict` when a precondition (uid, resourceVersion)
    ///   does not hold.
    public func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil,
                                        options: DeleteOptions = DeleteOptions()) async throws -> DeleteResult<T> {
        let path = try Paths.item(T.resource, name: name, namespace: namespace)
        let body: [UInt8]
        do {
            var value = try JSONValue(encoding: options)
            value["kind"] = .string("DeleteOptions")
            value["apiVersion"] = .string("v1")
            body = Array(try JSONCoding.encoder.encode(value))
        } catch {
            throw KubeError.encoding(resource: T.resource, detail: String(describing: error))
        }
        let request = KubeRequest(method: .delete, path: path, body: body, contentType: "application/json")
        let bytes: [UInt8]
        do {
            bytes = try await sendAndCollect(request)
        } catch let error as KubeError where error.isNotFound {
            return .notFound
        }
        let head = try decode(TypeMeta.self, from: bytes, request: request.summary)
        if head.kind == "Status" {
            return .deleted(nil)
        }
        let object = try decode(T.self, from: bytes, request: request.summary)
        if object.metadata.isTerminating, !object.metadata.finalizers.isEmpty {
            return .pendingFinalizers(object)
        }
        return .deleted(object)
    }

    private func put<T: KubeResource>(_ object: T, subresource: Subresource?) async throws -> T {
        let name = object.metadata.name
        guard !object.metadata.resourceVersion.isEmpty else {
            throw KubeError.invalidRequest(
                "\(T.resource.kind) \"\(name)\": refusing a PUT without metadata.resourceVersion (it would overwrite blindly)")
        }
        let path = try Paths.item(T.resource, name: name, namespace: try namespaceForWrite(object),
                                  subresource: subresource?.rawValue)
        let request = KubeRequest(method: .put, path: path, body: try encodeObject(object), contentType: "application/json")
        return try decode(T.self, from: try await sendAndCollect(request), request: request.summary)
    }

    private func namespaceForWrite<T: KubeResource>(_ object: T) throws(KubeError) -> String? {
        T.resource.namespaced ? object.metadata.namespace : (object.metadata.namespace.isEmpty ? nil : object.metadata.namespace)
    }

    /// The object as JSON with `apiVersion` and `kind` from its resource descriptor.
    func encodeObject<T: KubeResource>(_ object: T) throws(KubeError) -> [UInt8] {
        do {
            var value = try JSONValue(encoding: object)
            value["apiVersion"] = .string(T.resource.apiVersion)
            value["kind"] = .string(T.resource.kind)
            return Array(try JSONCoding.encoder.encode(value))
        } catch {
            throw .encoding(resource: T.resource, detail: String(describing: error))
        }
    }
}

/// `kind` and `apiVersion` of any object.
struct TypeMeta: Decodable, Sendable {
    var kind: String?
    var apiVersion: String?
}
