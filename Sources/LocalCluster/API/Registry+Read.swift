// GET and LIST with the resourceVersion semantics of the real server, and pagination.
//
// AM apis/meta/v1/types.go:511-528 and AS storage/cacher/delegator: unset = latest,
// "0" = any, N = not older than N (504 ResourceVersionTooLarge after a wait when the store
// has not reached N), Exact N (or legacy N with limit) = exactly N (410 when compacted).
// Continue tokens pin the list's revision (AS storage/etcd3 continue handling).

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Registry {
    /// Waits for the store to reach `revision`; 504 ResourceVersionTooLarge if it does not.
    func awaitRevision(_ revision: Int64) async throws(APIStatus) {
        if store.currentRevision >= revision { return }
        if await store.waitForRevision(revision, timeout: tooLargeResourceVersionWait) { return }
        throw APIStatus.resourceVersionTooLarge(requested: revision, current: store.currentRevision)
    }

    func get(_ resource: ResourceType, namespace: String?, name: String, resourceVersion: String?) async throws(APIStatus) -> JSONValue {
        if let resourceVersion, resourceVersion != "0" {
            try await awaitRevision(try parseResourceVersion(resourceVersion))
        }
        let info = resource.info
        guard let object = store.object(resource, Self.key(resource, namespace: namespace, name: name)) else {
            throw APIStatus.notFound(resource: info.plural, group: info.group, name: name)
        }
        return object
    }

    /// An opaque continue token: which list, at which revision, after which key.
    struct ContinueToken: Equatable {
        var resource: String
        /// The pinned revision, or -1 for "latest" (the inconsistent continuation after a 410).
        var revision: Int64
        var after: ObjectKey

        var encoded: String {
            let json: JSONValue = [
                "v": "meta.k8s.io/v1", "r": .string(resource), "rv": .int(revision),
                "ns": .string(after.namespace), "n": .string(after.name),
            ]
            // base64url without padding (as etcd3 EncodeContinue), safe in a query string.
            return Data(json.encoded()).base64EncodedString()
                .replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
        }

        static func decode(_ text: String, resource: ResourceType) throws(APIStatus) -> ContinueToken {
            var standard = text.replacing("-", with: "+").replacing("_", with: "/")
            standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
            guard let data = Data(base64Encoded: standard) else {
                throw APIStatus.badRequest("continue key is not valid: illegal base64 data")
            }
            let json: JSONValue
            do {
                json = try JSONValue.parse(Array(data))
            } catch {
                throw APIStatus.badRequest("continue key is not valid: \(error.reason)")
            }
            guard json["v"]?.stringValue == "meta.k8s.io/v1", let revision = json["rv"]?.intValue,
                let namespace = json["ns"]?.stringValue, let name = json["n"]?.stringValue,
                json["r"]?.stringValue == resource.rawValue
            else {
                throw APIStatus.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            }
            return ContinueToken(resource: resource.rawValue, revision: revision, after: ObjectKey(namespace: namespace, name: name))
        }
    }

    /// LIST. `pageLimit` (from a fault) caps the page below `limit`, to produce short pages.
    func list(_ resource: ResourceType, namespace: String?, options: ListOptions, pageLimit: Int? = nil) async throws(APIStatus) -> JSONValue {
        try options.validate()
        let info = resource.info
        let filter = ObjectFilter(resource: resource, namespace: info.namespaced ? namespace : nil,
                                  labels: options.labelSelector, fields: options.fieldSelector)
        var atRevision: Int64?
        var after: ObjectKey?
        if let token = options.continueToken {
            if let version = options.resourceVersion, version != "0" {
                throw APIStatus.badRequest("specifying resource version is not allowed when using continue")
            }
            let decoded = try ContinueToken.decode(token, resource: resource)
            atRevision = decoded.revision >= 0 ? decoded.revision : nil
            after = decoded.after
        } else if let version = options.resourceVersion, version != "0" {
            let revision = try parseResourceVersion(version)
            try await awaitRevision(revision)
            let exact = options.resourceVersionMatch == "Exact" || (options.resourceVersionMatch == nil && options.limit > 0)
            if exact { atRevision = revision }
        }
        var limit = options.limit > 0 ? Int(clamping: options.limit) : Int.max
        if let pageLimit { limit = min(limit, max(0, pageLimit)) }
        guard let (revision, page, more, remaining) = store.page(matching: filter, at: atRevision, after: after, limit: limit) else {
            if let after {
                // AS storage/etcd3 handleCompactedErrorForPaging: 410 with a token that
                // continues at the next key of the latest state (inconsistent).
                var status = APIStatus.expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
                status.continueToken = ContinueToken(resource: resource.rawValue, revision: -1, after: after).encoded
                throw status
            }
            throw APIStatus.expired("The resourceVersion for the provided list is too old.")
        }
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(revision))]
        if more {
            // The last key of this page, or (for an empty short page) the key before the rest.
            let last = page.last?.0 ?? after ?? ObjectKey(namespace: "", name: "")
            metadata["continue"] = .string(ContinueToken(resource: resource.rawValue, revision: revision, after: last).encoded)
            if filter.selectsEverything { metadata["remainingItemCount"] = .int(Int64(remaining)) }
        }
        // Items of a typed list carry no kind/apiVersion (the list has them).
        let items = page.map { _, object -> JSONValue in
            var item = object
            item["kind"] = nil
            item["apiVersion"] = nil
            return item
        }
        return [
            "kind": .string(info.listKind), "apiVersion": .string(info.apiVersion),
            "metadata": .object(metadata), "items": .array(items),
        ]
    }
}
