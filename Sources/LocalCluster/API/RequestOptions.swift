// Query/body options of requests: ListOptions, DeleteOptions, dryRun.
//
// Parameter conversion follows AM runtime/conversion.go (a bool query parameter is true
// unless it is "0", "f" or "false"; integers must parse) and validation follows
// AM apis/meta/internalversion/validation/validation.go and apis/meta/v1/validation.

struct ListOptions: Sendable {
    var watch = false
    var resourceVersion: String?
    var resourceVersionMatch: String?
    var limit: Int64 = 0
    var continueToken: String?
    var labelSelector = LabelSelector.everything
    var fieldSelector = FieldSelector()
    var timeoutSeconds: Int64?
    var allowWatchBookmarks = false
    var sendInitialEvents: Bool?

    static func queryBool(_ value: String) -> Bool {
        !(value == "0" || value.lowercased() == "f" || value.lowercased() == "false")
    }

    static func queryInt(_ value: String) throws(APIStatus) -> Int64 {
        guard let number = Int64(value) else {
            throw .badRequest("strconv.ParseInt: parsing \(FieldError.quoted(value)): invalid syntax")
        }
        return number
    }

    /// Reads the options from query parameters (first value of each).
    static func parse(_ query: [String: [String]], resource: ResourceType) throws(APIStatus) -> ListOptions {
        var options = ListOptions()
        func first(_ key: String) -> String? { query[key]?.first }
        if let value = first("watch") { options.watch = queryBool(value) }
        if let value = first("resourceVersion"), !value.isEmpty { options.resourceVersion = value }
        if let value = first("resourceVersionMatch"), !value.isEmpty { options.resourceVersionMatch = value }
        if let value = first("limit") { options.limit = max(0, try queryInt(value)) }
        if let value = first("continue"), !value.isEmpty { options.continueToken = value }
        if let value = first("labelSelector") { options.labelSelector = try LabelSelector.parse(value) }
        if let value = first("fieldSelector") { options.fieldSelector = try FieldSelector.parse(value, resource: resource) }
        if let value = first("timeoutSeconds") { options.timeoutSeconds = try queryInt(value) }
        if let value = first("allowWatchBookmarks") { options.allowWatchBookmarks = queryBool(value) }
        if let value = first("sendInitialEvents") { options.sendInitialEvents = queryBool(value) }
        return options
    }

    /// ValidateListOptions; violations are a 422 on kind `ListOptions` of group meta.k8s.io.
    func validate() throws(APIStatus) {
        var errors: [FieldError] = []
        let field = "resourceVersionMatch"
        if watch {
            if sendInitialEvents != nil, resourceVersionMatch != "NotOlderThan" {
                errors.append(.forbidden(field, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
            }
            if let match = resourceVersionMatch {
                if sendInitialEvents == nil {
                    errors.append(.forbidden(field, "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
                }
                if match != "NotOlderThan" { errors.append(.notSupported(field, match, ["NotOlderThan"])) }
                if continueToken != nil {
                    errors.append(.forbidden(field, "resourceVersionMatch is forbidden when continue is provided"))
                }
            }
        } else {
            if let match = resourceVersionMatch {
                if resourceVersion == nil {
                    errors.append(.forbidden(field, "resourceVersionMatch is forbidden unless resourceVersion is provided"))
                }
                if continueToken != nil {
                    errors.append(.forbidden(field, "resourceVersionMatch is forbidden when continue is provided"))
                }
                if match != "Exact" && match != "NotOlderThan" {
                    errors.append(.notSupported(field, match, ["Exact", "NotOlderThan", ""]))
                }
                if match == "Exact" && resourceVersion == "0" {
                    errors.append(.forbidden(field, "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""))
                }
            }
            if sendInitialEvents != nil {
                errors.append(.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
            }
        }
        if !errors.isEmpty { throw APIStatus.invalid(kind: "ListOptions", group: "meta.k8s.io", name: "", errors: errors) }
    }
}

/// `resourceVersion` as the store's integer revision.
func parseResourceVersion(_ text: String) throws(APIStatus) -> Int64 {
    guard let revision = Int64(text), revision >= 0 else {
        throw .badRequest("invalid resource version: strconv.ParseUint: parsing \(FieldError.quoted(text)): invalid syntax")
    }
    return revision
}

/// `?dryRun=` values: only "All" is supported (AM apis/meta/v1/validation ValidateDryRun).
func parseDryRun(_ values: [String], optionsKind: String) throws(APIStatus) -> Bool {
    guard !values.isEmpty else { return false }
    if values.allSatisfy({ $0 == "All" }) { return true }
    let rendered = "[]string{" + values.map(FieldError.quoted).joined(separator: ", ") + "}"
    throw APIStatus.invalid(kind: optionsKind, group: "meta.k8s.io", name: "", errors: [
        FieldError(type: .notSupported, field: "dryRun", value: rendered, detail: "supported values: \"All\""),
    ])
}

struct DeleteOptions: Sendable {
    var preconditionUID: String?
    var preconditionResourceVersion: String?
    var propagationPolicy: String?
    var orphanDependents: Bool?
    var dryRun = false

    /// The body (a DeleteOptions object) if non-empty, else the query (AS handlers/delete.go).
    static func parse(body: [UInt8], query: [String: [String]]) throws(APIStatus) -> DeleteOptions {
        var options = DeleteOptions()
        if !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            let json: JSONValue
            do {
                json = try JSONValue.parse(body)
            } catch {
                throw APIStatus.badRequest("couldn't get version/kind; json parse error: \(error.reason)")
            }
            guard json.objectValue != nil else {
                throw APIStatus.badRequest("json: cannot unmarshal \(JSONPatch.typeName(json)) into Go value of type v1.DeleteOptions")
            }
            options.preconditionUID = json[path: ["preconditions", "uid"]]?.stringValue
            options.preconditionResourceVersion = json[path: ["preconditions", "resourceVersion"]]?.stringValue
            options.propagationPolicy = json["propagationPolicy"]?.stringValue
            options.orphanDependents = json["orphanDependents"]?.boolValue
            let dryRun = (json["dryRun"]?.arrayValue ?? []).compactMap(\.stringValue)
            options.dryRun = try parseDryRun(dryRun, optionsKind: "DeleteOptions")
        } else {
            options.propagationPolicy = query["propagationPolicy"]?.first
            options.orphanDependents = query["orphanDependents"]?.first.map(ListOptions.queryBool)
            options.dryRun = try parseDryRun(query["dryRun"] ?? [], optionsKind: "DeleteOptions")
        }
        try options.validate()
        return options
    }

    /// LocalCluster emulates only background propagation: PVs, PVCs, Leases and Events have
    /// no dependents, and Foreground/Orphan need the garbage collector (see README). They are
    /// refused the way the server refuses a policy it does not support.
    func validate() throws(APIStatus) {
        var errors: [FieldError] = []
        if let policy = propagationPolicy, policy != "Background" {
            errors.append(.notSupported("propagationPolicy", policy, ["Background"]))
        }
        if orphanDependents == true {
            errors.append(.invalidRaw("orphanDependents", "true", "orphaning dependents is not supported by this server"))
        }
        if propagationPolicy != nil, orphanDependents != nil {
            errors.append(.invalidRaw("orphanDependents", String(orphanDependents ?? false),
                                      "orphanDependents and deletionPropagation cannot be both set"))
        }
        if !errors.isEmpty { throw APIStatus.invalid(kind: "DeleteOptions", group: "meta.k8s.io", name: "", errors: errors) }
    }
}

/// The patch flavours (AM pkg/types/patch.go).
enum PatchType: String, Sendable {
    case jsonPatch = "application/json-patch+json"
    case mergePatch = "application/merge-patch+json"
    case strategicMergePatch = "application/strategic-merge-patch+json"
    case applyPatch = "application/apply-patch+yaml"

    /// The types LocalCluster applies (server-side apply is not served; see LocalCluster.md).
    static let served: [PatchType] = [.jsonPatch, .mergePatch, .strategicMergePatch]
}
