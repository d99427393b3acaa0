// Optimistic concurrency helpers (never a blind overwrite): on 409 Conflict re-GET,
// re-apply the change, write again; bounded. client-go's
// retry.RetryOnConflict(DefaultRetry) makes 5 attempts 10 ms apart with 10 % jitter
// (util/retry/util.go:28-43); the same bounds apply here.

extension KubeClient {
    /// Changes an object with a conditional JSON merge patch, retrying on conflict.
    ///
    /// Each attempt takes the current object (`startingFrom` for the first attempt if given,
    /// typically from a cache; a fresh GET otherwise), lets `mutate` change it, and sends
    /// only the difference as a merge patch carrying the resourceVersion it started from.
    /// A 409 Conflict (someone else wrote in between) starts over with a fresh GET. Fields
    /// the models do not know are never sent and so never lost.
    ///
    /// - Parameters:
    ///   - subresource: `.status` to write status changes (spec changes are then ignored
    ///     by the server; write them without a subresource).
    ///   - maxAttempts: attempts before the last 409 is thrown. Default 5.
    ///   - mutate: changes the object; may throw to abort (the error is rethrown as is). If
    ///     it changes nothing, nothing is sent and the object is returned.
    /// - Returns: the object as stored after the write.
    package func modify<T: KubeResource>(
        _ type: T.Type, name: String, namespace: String? = nil, startingFrom current: T? = nil,
        subresource: Subresource? = nil, maxAttempts: Int = 5, _ mutate: (inout T) throws -> Void
    ) async throws -> T {
        try await onConflictRetry(T.self, name: name, namespace: namespace, startingFrom: current,
                                  maxAttempts: maxAttempts, operation: "modify", mutate) { original, modified in
            let before: JSONValue
            let after: JSONValue
            do {
                before = try JSONValue(encoding: original)
                after = try JSONValue(encoding: modified)
            } catch {
                throw KubeError.encoding(resource: T.resource, detail: String(describing: error))
            }
            guard let patch = JSONValue.mergePatch(from: before, to: after) else { return original }
            return try await self.mergePatch(T.self, name: name, namespace: namespace, patch: patch,
                                             resourceVersion: original.metadata.resourceVersion, subresource: subresource)
        }
    }

    /// Changes an object with PUT (whole object, RV-checked), retrying on conflict.
    ///
    /// Like ``modify(_:name:namespace:startingFrom:subresource:maxAttempts:_:)`` but writes
    /// the whole object, so fields the model does not know are lost: use it only for
    /// objects this program owns entirely (the leader-election Lease).
    package func retryOnConflict<T: KubeResource>(
        _ type: T.Type, name: String, namespace: String? = nil, startingFrom current: T? = nil,
        maxAttempts: Int = 5, _ mutate: (inout T) throws -> Void
    ) async throws -> T {
        try await onConflictRetry(T.self, name: name, namespace: namespace, startingFrom: current,
                                  maxAttempts: maxAttempts, operation: "retryOnConflict", mutate) { original, modified in
            var modified = modified
            modified.metadata.resourceVersion = original.metadata.resourceVersion
            do {
                if try JSONValue(encoding: modified) == JSONValue(encoding: original) { return original }
            } catch {
                throw KubeError.encoding(resource: T.resource, detail: String(describing: error))
            }
            return try await self.update(modified)
        }
    }

    /// The loop both helpers share: take the object (`startingFrom` on the first attempt,
    /// else a GET), apply `mutate`, hand the original and the changed object to `write`
    /// (which returns the stored object, or the original when there is nothing to send);
    /// on a 409 Conflict wait about 10 ms and start over, at most `maxAttempts` times.
    private func onConflictRetry<T: KubeResource>(
        _ type: T.Type, name: String, namespace: String?, startingFrom current: T?, maxAttempts: Int,
        operation: String, _ mutate: (inout T) throws -> Void, write: (T, T) async throws -> T
    ) async throws -> T {
        var current = current
        var backoff = JitteredBackoff(initial: .milliseconds(10), maximum: .milliseconds(10), factor: 1, jitter: 0.1)
        for attempt in 1...max(1, maxAttempts) {
            let original: T
            if let current { original = current } else { original = try await get(T.self, name: name, namespace: namespace) }
            current = nil
            var modified = original
            try mutate(&modified)
            do {
                return try await write(original, modified)
            } catch let error as KubeError where error.isConflict && attempt < maxAttempts {
                logger.debug("conflict; re-reading and retrying", metadata: [
                    "resource": "\(T.resource)", "name": "\(name)", "attempt": "\(attempt)",
                ])
                try await clock.sleep(for: backoff.next(jitter))
            }
        }
        // Unreachable: the last attempt either returns or throws.
        throw KubeError.invalidRequest("\(operation) \(T.resource.kind) \"\(name)\": no attempt made")
    }
}
