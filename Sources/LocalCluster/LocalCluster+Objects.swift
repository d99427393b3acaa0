// The direct object API (no HTTP, same rules), test hooks, fault injection and the request log.

extension LocalCluster {
    // MARK: Objects

    /// The resource of an object from its `apiVersion` and `kind`.
    static func resource(of object: JSONValue) throws(APIStatus) -> ResourceType {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        guard let resource = ResourceType.lookup(apiVersion: apiVersion, kind: kind) else {
            throw APIStatus.badRequest("LocalCluster does not serve \(kind) in \(apiVersion)")
        }
        return resource
    }

    /// Creates an object (like POST): the resource comes from `apiVersion`/`kind`, the
    /// namespace from `metadata.namespace`. Returns the stored object.
    @discardableResult
    public func create(_ object: JSONValue, dryRun: Bool = false) throws(APIStatus) -> JSONValue {
        let resource = try Self.resource(of: object)
        return try registry.create(resource, namespace: object.string(at: "metadata", "namespace"), body: object, dryRun: dryRun)
    }

    /// Replaces an object (like PUT), or its status (PUT `/status`) with `status: true`.
    @discardableResult
    public func update(_ object: JSONValue, status: Bool = false) throws(APIStatus) -> JSONValue {
        let resource = try Self.resource(of: object)
        return try registry.update(resource, namespace: object.string(at: "metadata", "namespace"),
                                   name: object.string(at: "metadata", "name") ?? "", subresource: status ? .status : nil,
                                   body: object, dryRun: false)
    }

    /// Applies a JSON merge patch (like PATCH `application/merge-patch+json`).
    @discardableResult
    public func mergePatch(_ resource: ResourceType, namespace: String? = nil, name: String, _ patch: JSONValue,
                           status: Bool = false) throws(APIStatus) -> JSONValue
    {
        try registry.patch(resource, namespace: namespace, name: name, subresource: status ? .status : nil,
                           type: .mergePatch, patch: patch, dryRun: false)
    }

    /// Deletes an object (like DELETE). Returns what the server would answer: the object for
    /// PV/PVC (terminating while finalizers are pending), a `Status` for the others.
    @discardableResult
    public func delete(_ resource: ResourceType, namespace: String? = nil, name: String,
                       preconditionUID: String? = nil, preconditionResourceVersion: String? = nil) throws(APIStatus) -> JSONValue
    {
        var options = DeleteOptions()
        options.preconditionUID = preconditionUID
        options.preconditionResourceVersion = preconditionResourceVersion
        return try registry.delete(resource, namespace: namespace, name: name, options: options).body
    }

    /// The current object, or nil.
    public func get(_ resource: ResourceType, namespace: String? = nil, name: String) -> JSONValue? {
        store.object(resource, Registry.key(resource, namespace: namespace, name: name))
    }

    /// The current objects of a resource (one namespace, or all), in name order, each with
    /// its kind and apiVersion.
    public func list(_ resource: ResourceType, namespace: String? = nil) -> [JSONValue] {
        store.snapshot(resource).objects.compactMap { key, object -> JSONValue? in
            guard let namespace, resource.info.namespaced else { return object }
            // `.none`, not `nil`: in `cond ? object : nil` the nil becomes a JSON null (JSONValue
            // is ExpressibleByNilLiteral) and compactMap keeps it.
            return key.namespace == namespace ? object : .none
        }
    }

    /// The changes of one resource from now on, in revision order, as a watch without HTTP
    /// would see them: for drivers that need every change cheaply (benchmarks). The stream
    /// ends when its consumer falls `bufferSize` changes behind, at shutdown, or when the
    /// consumer stops iterating.
    public func changes(of resource: ResourceType, bufferSize: Int = 100_000) -> AsyncStream<ObjectChange> {
        guard case .success(let registration) = store.subscribe(ObjectFilter(resource: resource), start: .now, bufferSize: bufferSize) else {
            return AsyncStream { $0.finish() }
        }
        let store = self.store
        let (stream, continuation) = AsyncStream<ObjectChange>.makeStream(bufferingPolicy: .bufferingOldest(max(1, bufferSize)))
        let forward = Task {
            for await signal in registration.stream {
                guard case .event(let event) = signal else { break }
                let kind: ObjectChange.Kind
                switch event.type {
                case .added: kind = .added
                case .modified: kind = .modified
                case .deleted: kind = .deleted
                case .bookmark, .error: continue
                }
                if case .dropped = continuation.yield(ObjectChange(kind: kind, object: event.object)) { break }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in
            forward.cancel()
            store.unsubscribe(registration.id)
        }
        return stream
    }

    /// The current global revision (what a list would report as its resourceVersion).
    public var resourceVersion: String { String(store.currentRevision) }

    // MARK: Hooks

    /// Plays the scheduler for a WaitForFirstConsumer claim: sets
    /// `volume.kubernetes.io/selected-node` through a normal (conflict-checked) write.
    @discardableResult
    public func selectNode(namespace: String, claim: String, node: String) throws(APIStatus) -> JSONValue {
        let patch: JSONValue = ["metadata": ["annotations": .object([Annotations.selectedNode: .string(node)])]]
        return try mergePatch(.persistentVolumeClaims, namespace: namespace, name: claim, patch)
    }

    /// Marks a claim as used (or no longer used) by a pod: pvc-protection keeps the finalizer
    /// of a terminating claim while it is in use. Claims are not in use by default.
    public func setClaimInUse(namespace: String, claim: String, _ inUse: Bool) {
        let key = ObjectKey(namespace: namespace, name: claim)
        controller.claimsInUse.withLock { claims in
            if inUse { claims.insert(key) } else { claims.remove(key) }
        }
        controller.enqueueClaim(key)
    }

    /// Drops the event history: watches and exact lists from any earlier revision get 410.
    public func compactHistory() { store.compact() }

    /// Runs one pass of the binder and the protection controllers now, on the caller's task
    /// (they also run by themselves; this makes a test step deterministic).
    public func syncControllers() { controller.syncAll() }

    /// Waits until `condition` holds, re-checking after every write, up to `timeout`.
    /// Returns whether it held (no polling: it wakes on the store's change notifications).
    public func waitUntil(timeout: Duration = .seconds(10), _ condition: @escaping @Sendable (LocalCluster) -> Bool) async -> Bool {
        await store.waitUntil(timeout: timeout) { condition(self) }
    }

    // MARK: Faults and the request log

    /// Adds a fault rule; rules are tried in the order they were added.
    @discardableResult
    public func injectFault(_ rule: FaultRule) -> FaultHandle { handler.faults.add(rule) }

    /// How many requests a rule has fired on (also after it was removed).
    public func fireCount(_ handle: FaultHandle) -> Int { handler.faults.fireCount(handle) }

    public func removeFault(_ handle: FaultHandle) { handler.faults.remove(handle) }

    public func removeAllFaults() { handler.faults.removeAll() }

    /// The served requests, oldest first (bounded by `requestLogLimit`). A watch is recorded
    /// when its response starts.
    public var requestLog: [RequestRecord] { handler.faults.log }

    public func clearRequestLog() { handler.faults.clearLog() }
}

/// One change of an object (``LocalCluster/changes(of:bufferSize:)``).
public struct ObjectChange: Sendable {
    public enum Kind: Sendable { case added, modified, deleted }
    public var kind: Kind
    /// The object after the change (for a deletion, its last state).
    public var object: JSONValue
}
