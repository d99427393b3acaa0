// Reads: get, one list page, and the whole list with pagination (restarted when a
// continue token expires).

/// Options of a LIST request (apimachinery ListOptions, types.go:361-500).
public struct ListOptions: Sendable, Hashable {
    package var labelSelector: String?
    package var fieldSelector: String?
    /// Page size; the server may return fewer items and still set `continue`.
    package var limit: Int?
    /// The token from the previous page's `metadata.continue`.
    package var continueToken: String?
    /// Unset: a consistent (quorum) read. `"0"`: any cached state. Other values: at least
    /// as new as that revision (compared by the server; the client never orders RVs).
    package var resourceVersion: String?
    /// `Exact` or `NotOlderThan`; requires `resourceVersion`.
    package var resourceVersionMatch: String?

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil,
                continueToken: String? = nil, resourceVersion: String? = nil, resourceVersionMatch: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
    }

    var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { items.append(("fieldSelector", fieldSelector)) }
        if let limit, limit > 0 { items.append(("limit", String(limit))) }
        if let continueToken, !continueToken.isEmpty { items.append(("continue", continueToken)) }
        if let resourceVersion { items.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch, !resourceVersionMatch.isEmpty {
            items.append(("resourceVersionMatch", resourceVersionMatch))
        }
        return items
    }
}

extension KubeClient {
    /// Reads one object.
    ///
    /// - Parameters:
    ///   - namespace: required for namespaced types, must be nil/empty for cluster-scoped ones.
    /// - Throws: ``KubeError``; `isNotFound` when it does not exist.
    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil) async throws -> T {
        let request = KubeRequest(method: .get, path: try Paths.item(T.resource, name: name, namespace: namespace))
        return try decode(T.self, from: try await sendAndCollect(request), request: request.summary)
    }

    /// Reads one page of a list. `namespace` nil lists a namespaced type across all
    /// namespaces. Items that do not decode are returned in `failures`.
    package func list<T: KubeResource>(_ type: T.Type, namespace: String? = nil,
                                      options: ListOptions = ListOptions()) async throws -> ObjectList<T> {
        let request = KubeRequest(method: .get, path: try Paths.collection(T.resource, namespace: namespace),
                                  query: options.queryItems)
        return try decode(ObjectList<T>.self, from: try await sendAndCollect(request), request: request.summary)
    }

    /// Reads a whole list page by page (`limit`/`continue`) and returns all items with the
    /// list's resourceVersion (constant across pages: one consistent snapshot).
    ///
    /// If a continue token expires (410 `Expired` on a later page), the snapshot is lost:
    /// the list restarts from the first page, up to `maxRestarts` times (client-go's pager
    /// falls back to a full list in the same case, tools/pager/pager.go:110-114). A 410 on
    /// the first page is thrown (the caller asked for a revision the server no longer has).
    ///
    /// - Parameters:
    ///   - pageSize: items per page (client-go's pager uses 500); nil for one unpaged list.
    ///   - options: selectors and the starting `resourceVersion`; `limit`/`continueToken`
    ///     are managed here.
    public func listAll<T: KubeResource>(_ type: T.Type, namespace: String? = nil, options: ListOptions = ListOptions(),
                                         pageSize: Int? = 500, maxRestarts: Int = 3) async throws -> ObjectList<T> {
        var restarts = 0
        restart: while true {
            var result = ObjectList<T>()
            var pageOptions = options
            pageOptions.limit = pageSize
            pageOptions.continueToken = nil
            var first = true
            while true {
                let page: ObjectList<T>
                do {
                    page = try await list(T.self, namespace: namespace, options: pageOptions)
                } catch let error as KubeError where error.isExpired && !first {
                    restarts += 1
                    guard restarts <= maxRestarts else { throw error }
                    logger.info("continue token expired; restarting the list", metadata: [
                        "resource": "\(T.resource)", "restart": "\(restarts)", "error": "\(error)",
                    ])
                    continue restart
                }
                if first { result.metadata.resourceVersion = page.metadata.resourceVersion }
                first = false
                result.items.append(contentsOf: page.items)
                result.failures.append(contentsOf: page.failures)
                guard let token = page.metadata.continue, !token.isEmpty else { return result }
                // A continuation must not repeat the resourceVersion (the server rejects
                // it: the token already pins the snapshot).
                pageOptions.continueToken = token
                pageOptions.resourceVersion = nil
                pageOptions.resourceVersionMatch = nil
            }
        }
    }
}

/// Builds and validates request paths (names are checked before sending, see
/// `NameValidation.swift`).
enum Paths {
    static func collection(_ resource: ResourceDescriptor, namespace: String?) throws(KubeError) -> String {
        let namespace = namespace ?? ""
        if !resource.namespaced, !namespace.isEmpty {
            throw .invalidRequest("\(resource.kind) is cluster-scoped; namespace \"\(namespace)\" must not be given")
        }
        if !namespace.isEmpty { try NameValidation.checkNamespace(namespace) }
        return resource.collectionPath(namespace: namespace)
    }

    static func item(_ resource: ResourceDescriptor, name: String, namespace: String?,
                     subresource: String? = nil) throws(KubeError) -> String {
        let namespace = namespace ?? ""
        if resource.namespaced, namespace.isEmpty {
            throw .invalidRequest("\(resource.kind) \"\(name)\" is namespaced; a namespace is required")
        }
        try NameValidation.checkName(name, of: resource)
        let base = try collection(resource, namespace: namespace) + "/" + name
        return subresource.map { base + "/" + $0 } ?? base
    }
}
