// DELETE: preconditions, finalizers, what the response carries.
//
// AS registry/generic/registry/store.go Delete (markAsDeleting, deleteWithoutFinalizers),
// AS registry/rest/delete.go BeforeDelete (preconditions, a repeated delete of a terminating
// object is a no-op).

extension Registry {
    /// What a DELETE answers with.
    enum DeleteResult: Sendable {
        /// The object: terminating (finalizers pending) or, for PV/PVC, its last state.
        case object(JSONValue, removed: Bool)
        /// `Status{status: Success}` for kinds without ReturnDeletedObject (Lease, Event, StorageClass).
        case status(JSONValue)

        var body: JSONValue {
            switch self {
            case .object(let object, _): object
            case .status(let status): status
            }
        }
    }

    func delete(_ resource: ResourceType, namespace: String?, name: String, options: DeleteOptions) throws(APIStatus) -> DeleteResult {
        let info = resource.info
        if info.readOnly { throw APIStatus.methodNotAllowed() }
        let key = Self.key(resource, namespace: namespace, name: name)
        let now = clock()
        let outcome = try store.write(resource, key, dryRun: options.dryRun) { (current) throws(APIStatus) -> ObjectStore.Decision in
            guard let current else {
                throw APIStatus.notFound(resource: info.plural, group: info.group, name: name)
            }
            let uid = current.string(at: "metadata", "uid") ?? ""
            if let expected = options.preconditionUID, expected != uid {
                throw APIStatus.conflict(resource: info.kind, group: info.group, name: name,
                                         detail: "the UID in the precondition (\(expected)) does not match the UID in record (\(uid)). The object might have been deleted and then recreated")
            }
            let version = current.string(at: "metadata", "resourceVersion") ?? ""
            if let expected = options.preconditionResourceVersion, expected != version {
                throw APIStatus.conflict(resource: info.kind, group: info.group, name: name,
                                         detail: "the ResourceVersion in the precondition (\(expected)) does not match the ResourceVersion in record (\(version)). The object might have been modified")
            }
            if current.finalizers.isEmpty { return .delete }
            // Finalizers pending: mark as deleting (once); the object stays until they are gone.
            if current.isTerminating { return .keep(current) }
            var terminating = current
            terminating[path: ["metadata", "deletionTimestamp"]] = .string(now.rfc3339)
            terminating[path: ["metadata", "deletionGracePeriodSeconds"]] = 0
            return .put(terminating)
        }
        switch outcome {
        case .deleted(let last):
            if info.returnsDeletedObject { return .object(last, removed: true) }
            var details: [String: JSONValue] = ["name": .string(name), "kind": .string(info.plural)]
            if !info.group.isEmpty { details["group"] = .string(info.group) }
            if let uid = last.string(at: "metadata", "uid") { details["uid"] = .string(uid) }
            return .status(["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success",
                            "details": .object(details)])
        case .written(let object), .unchanged(let object):
            return .object(object, removed: false)
        }
    }
}
