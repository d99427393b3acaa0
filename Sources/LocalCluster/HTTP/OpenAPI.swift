// OpenAPI v3 (`/openapi/v3`, https://kubernetes.io/docs/concepts/overview/kubernetes-api/#openapi-v3):
// an index of one document per group version, and the documents, generated from
// `TypeSchema` and the resources LocalCluster serves.
//
// kubectl reads them to decide two things: whether the server validates fields itself
// (a `fieldValidation` query parameter on the kind's PATCH operation; without it kubectl
// falls back to client-side validation against OpenAPI v2, which LocalCluster does not
// serve), and how to compute the strategic merge patch of `kubectl apply` (the
// `x-kubernetes-patch-strategy` / `-merge-key` of each list in the kind's schema).
// Operations carry `x-kubernetes-action` and `x-kubernetes-group-version-kind` as the real
// documents do; schemas are inlined below each kind rather than split into `$ref`s.

enum OpenAPI {
    /// The group versions with a document, as index keys: `api/v1`, `apis/<group>/<version>`.
    static var groupVersionPaths: [String] {
        var seen: [String] = []
        for type in ResourceType.allCases {
            let path = String(type.info.groupVersionPath.dropFirst())
            if !seen.contains(path) { seen.append(path) }
        }
        return seen
    }

    /// `GET /openapi/v3`: where each document is; the hash changes with the document.
    static func index(version: LocalClusterConfiguration.Version) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for path in groupVersionPaths {
            let hash = fnv1a(document(path, version: version)?.encoded() ?? [])
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(hash)")]
        }
        return ["paths": .object(paths)]
    }

    /// The document of one group version (`api/v1`, `apis/storage.k8s.io/v1`), nil if none.
    static func document(_ path: String, version: LocalClusterConfiguration.Version) -> JSONValue? {
        let resources = ResourceType.allCases.filter { String($0.info.groupVersionPath.dropFirst()) == path }
        guard !resources.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [:]
        for resource in resources {
            for (key, value) in self.paths(resource) { paths[key] = value }
            let name = TypeSchema.definitionName(resource)
            schemas[name] = withKind(schema(TypeSchema.of(resource)), resource.info.kind, resource)
            schemas[name + "List"] = withKind(listSchema(resource), resource.info.listKind, resource)
        }
        return [
            "openapi": "3.0.0",
            "info": ["title": "Kubernetes", "version": .string(version.gitVersion)],
            "paths": .object(paths),
            "components": ["schemas": .object(schemas)],
        ]
    }

    static func withKind(_ schema: JSONValue, _ kind: String, _ resource: ResourceType) -> JSONValue {
        var out = schema
        out["x-kubernetes-group-version-kind"] = [gvk(resource, kind: kind)]
        return out
    }

    static func gvk(_ resource: ResourceType, kind: String? = nil) -> JSONValue {
        ["group": .string(resource.info.group), "version": .string(resource.info.version), "kind": .string(kind ?? resource.info.kind)]
    }

    // MARK: Schemas

    static func schema(_ type: TypeSchema) -> JSONValue {
        switch type {
        case .string: return ["type": "string"]
        case .int32: return ["type": "integer", "format": "int32"]
        case .int64: return ["type": "integer", "format": "int64"]
        case .boolean: return ["type": "boolean"]
        case .quantity: return ["oneOf": [["type": "string"], ["type": "number"]]]
        case .time: return ["type": "string", "format": "date-time"]
        case .object(let fields):
            var properties: [String: JSONValue] = [:]
            for (name, field) in fields { properties[name] = schema(field) }
            return ["type": "object", "properties": .object(properties)]
        case .map(let value):
            return ["type": "object", "additionalProperties": schema(value)]
        case .list(let item, let strategy):
            var out: JSONValue = ["type": "array", "items": schema(item)]
            switch strategy {
            case .atomic:
                out["x-kubernetes-list-type"] = "atomic"
            case .mergeSet:
                out["x-kubernetes-list-type"] = "set"
                out["x-kubernetes-patch-strategy"] = "merge"
            case .mergeByKey(let key):
                out["x-kubernetes-list-type"] = "map"
                out["x-kubernetes-list-map-keys"] = [.string(key)]
                out["x-kubernetes-patch-strategy"] = "merge"
                out["x-kubernetes-patch-merge-key"] = .string(key)
            }
            return out
        case .any:
            return ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
        }
    }

    static func listSchema(_ resource: ResourceType) -> JSONValue {
        [
            "type": "object", "required": ["items"],
            "properties": [
                "apiVersion": ["type": "string"], "kind": ["type": "string"],
                "metadata": schema(TypeSchema.listMeta),
                "items": ["type": "array", "items": ["$ref": .string("#/components/schemas/\(TypeSchema.definitionName(resource))")]],
            ],
        ]
    }

    // MARK: Paths

    static func parameter(_ name: String, in location: String = "query", type: String = "string", _ description: String) -> JSONValue {
        var out: JSONValue = ["name": .string(name), "in": .string(location), "description": .string(description),
                              "schema": ["type": .string(type), "uniqueItems": true]]
        if location == "path" { out["required"] = true }
        return out
    }

    static let writeParameters: [JSONValue] = [
        parameter("dryRun", "When present, indicates that modifications should not be persisted. The only valid value is All."),
        parameter("fieldManager", "A name associated with the actor or entity that is making these changes; at most 128 printable characters."),
        parameter("fieldValidation", "How to treat unknown fields: Ignore, Warn (the default: a Warning header per field) or Strict (the request fails)."),
    ]

    static let listParameters: [JSONValue] = [
        parameter("allowWatchBookmarks", type: "boolean", "Request BOOKMARK events on a watch."),
        parameter("continue", "The continue token of the previous page."),
        parameter("fieldSelector", "A selector on the object's fields."),
        parameter("labelSelector", "A selector on the object's labels."),
        parameter("limit", type: "integer", "The largest number of items to return."),
        parameter("resourceVersion", "Which version of the resource to read (see the API concepts)."),
        parameter("resourceVersionMatch", "How resourceVersion applies to a list: Exact or NotOlderThan."),
        parameter("sendInitialEvents", type: "boolean", "Start a watch with the current state (watch-list)."),
        parameter("timeoutSeconds", type: "integer", "Timeout of the list or watch call."),
        parameter("watch", type: "boolean", "Watch for changes and return them as a stream."),
    ]

    static func reference(_ name: String) -> JSONValue {
        ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(name)")]]]
    }

    static func operation(_ resource: ResourceType, action: String, id: String, description: String,
                          parameters: [JSONValue], response: String, requestBody: JSONValue? = nil,
                          codes: [String] = ["200"]) -> JSONValue
    {
        var responses: [String: JSONValue] = ["401": ["description": "Unauthorized"]]
        for code in codes { responses[code] = ["description": "OK", "content": reference(response)] }
        var out: JSONValue = [
            "description": .string(description), "operationId": .string(id), "parameters": .array(parameters),
            "responses": .object(responses), "x-kubernetes-action": .string(action),
            "x-kubernetes-group-version-kind": gvk(resource),
            "tags": .array([.string(tag(resource))]),
        ]
        if let requestBody { out["requestBody"] = requestBody }
        return out
    }

    static func tag(_ resource: ResourceType) -> String {
        let group = resource.info.group.isEmpty ? "core" : String(resource.info.group.split(separator: ".").first ?? "")
        return "\(group)_\(resource.info.version)"
    }

    /// `getCoreV1NamespacedPersistentVolumeClaim`-style operation identifiers.
    static func operationID(_ verb: String, _ resource: ResourceType, namespaced: Bool, list: Bool = false, suffix: String = "") -> String {
        let group = resource.info.group.isEmpty ? "Core" : (resource.info.group.split(separator: ".").first.map { $0.prefix(1).uppercased() + $0.dropFirst() } ?? "")
        let version = resource.info.version.prefix(1).uppercased() + resource.info.version.dropFirst()
        return "\(verb)\(group)\(version)\(namespaced ? "Namespaced" : "")\(resource.info.kind)\(list ? "List" : "")\(suffix)"
    }

    static func paths(_ resource: ResourceType) -> [(String, JSONValue)] {
        let info = resource.info
        let name = TypeSchema.definitionName(resource)
        let prefix = info.groupVersionPath
        let namespaceParameter = parameter("namespace", in: "path", "object name and auth scope, such as for teams and projects")
        let nameParameter = parameter("name", in: "path", "name of the \(info.kind)")
        let collection = info.namespaced ? "\(prefix)/namespaces/{namespace}/\(info.plural)" : "\(prefix)/\(info.plural)"
        let item = "\(collection)/{name}"
        let body: JSONValue = ["content": reference(name), "required": true]
        let patchBody: JSONValue = [
            "content": .object(Dictionary(uniqueKeysWithValues: PatchType.served.map {
                ($0.rawValue, JSONValue.object(["schema": ["type": "object"]]))
            })),
            "required": true,
        ]
        let scope: [JSONValue] = info.namespaced ? [namespaceParameter] : []
        var collectionPath: JSONValue = [
            "get": operation(resource, action: "list", id: operationID("list", resource, namespaced: info.namespaced),
                             description: "list or watch objects of kind \(info.kind)", parameters: listParameters,
                             response: name + "List"),
            "parameters": .array(scope),
        ]
        var itemPath: JSONValue = [
            "get": operation(resource, action: "get", id: operationID("read", resource, namespaced: info.namespaced),
                             description: "read the specified \(info.kind)", parameters: [], response: name),
            "parameters": .array(scope + [nameParameter]),
        ]
        if !info.readOnly {
            collectionPath["post"] = operation(resource, action: "post", id: operationID("create", resource, namespaced: info.namespaced),
                                               description: "create a \(info.kind)", parameters: writeParameters,
                                               response: name, requestBody: body, codes: ["200", "201", "202"])
            collectionPath["delete"] = operation(resource, action: "deletecollection",
                                                 id: operationID("deleteCollection", resource, namespaced: info.namespaced),
                                                 description: "delete collection of \(info.kind)", parameters: listParameters,
                                                 response: name + "List")
            itemPath["put"] = operation(resource, action: "put", id: operationID("replace", resource, namespaced: info.namespaced),
                                        description: "replace the specified \(info.kind)", parameters: writeParameters,
                                        response: name, requestBody: body, codes: ["200", "201"])
            itemPath["patch"] = operation(resource, action: "patch", id: operationID("patch", resource, namespaced: info.namespaced),
                                          description: "partially update the specified \(info.kind)", parameters: writeParameters,
                                          response: name, requestBody: patchBody, codes: ["200", "201"])
            itemPath["delete"] = operation(resource, action: "delete", id: operationID("delete", resource, namespaced: info.namespaced),
                                           description: "delete a \(info.kind)",
                                           parameters: [parameter("dryRun", "When present, indicates that modifications should not be persisted."),
                                                        parameter("propagationPolicy", "Only Background is supported.")],
                                           response: name, codes: ["200", "202"])
        }
        var out: [(String, JSONValue)] = [(collection, collectionPath), (item, itemPath)]
        if info.namespaced {
            out.append(("\(prefix)/\(info.plural)", [
                "get": operation(resource, action: "list", id: operationID("list", resource, namespaced: false, suffix: "ForAllNamespaces"),
                                 description: "list or watch objects of kind \(info.kind) in all namespaces",
                                 parameters: listParameters, response: name + "List"),
            ]))
        }
        if info.hasStatusSubresource {
            out.append(("\(item)/status", [
                "get": operation(resource, action: "get", id: operationID("read", resource, namespaced: info.namespaced, suffix: "Status"),
                                 description: "read status of the specified \(info.kind)", parameters: [], response: name),
                "put": operation(resource, action: "put", id: operationID("replace", resource, namespaced: info.namespaced, suffix: "Status"),
                                 description: "replace status of the specified \(info.kind)", parameters: writeParameters,
                                 response: name, requestBody: body, codes: ["200", "201"]),
                "patch": operation(resource, action: "patch", id: operationID("patch", resource, namespaced: info.namespaced, suffix: "Status"),
                                   description: "partially update status of the specified \(info.kind)", parameters: writeParameters,
                                   response: name, requestBody: patchBody, codes: ["200", "201"]),
                "parameters": .array(scope + [nameParameter]),
            ]))
        }
        return out
    }

    /// FNV-1a (64 bit) in hex: the cache-busting `hash` of a document's URL.
    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
