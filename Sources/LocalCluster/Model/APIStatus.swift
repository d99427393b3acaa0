// The `Status` object of a failed request, with the constructors the apiserver uses.
//
// Shapes and messages follow AM api/errors/errors.go (NewNotFound, NewAlreadyExists,
// NewConflict, NewInvalid, NewBadRequest, NewTimeoutError, NewResourceExpired, ...) and
// AM apis/meta/v1/types.go (Status, StatusDetails, StatusCause).

/// A failed API request: the `Status` body the server answers with, and its HTTP code.
public struct APIStatus: Error, Sendable, Equatable, CustomStringConvertible {
    /// One `details.causes[]` entry.
    public struct Cause: Sendable, Equatable {
        /// The cause type, e.g. `FieldValueInvalid` (JSON key `reason`).
        public var reason: String
        public var message: String
        public var field: String

        public init(reason: String, message: String, field: String) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    /// HTTP status code (also `code` in the body).
    public var code: Int
    /// `reason`, e.g. `NotFound`; empty for an unknown reason (omitted from the body).
    public var reason: String
    public var message: String
    public var name: String?
    public var group: String?
    /// `details.kind`: the resource plural for most errors, the Kind for some.
    public var kind: String?
    public var uid: String?
    public var causes: [Cause]
    public var retryAfterSeconds: Int?
    /// Whether the body carries a `details` object at all.
    public var hasDetails: Bool
    /// `metadata.continue` (a 410 for an expired continue token may carry a fresh one).
    public var continueToken: String?

    public init(
        code: Int, reason: String, message: String, name: String? = nil, group: String? = nil,
        kind: String? = nil, uid: String? = nil, causes: [Cause] = [], retryAfterSeconds: Int? = nil,
        hasDetails: Bool? = nil
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.uid = uid
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
        self.hasDetails = hasDetails ?? (name != nil || group != nil || kind != nil || uid != nil || !causes.isEmpty || retryAfterSeconds != nil)
    }

    public var description: String { "\(code) \(reason): \(message)" }

    /// The `Status` JSON body.
    public var json: JSONValue {
        var body: [String: JSONValue] = [
            "kind": "Status", "apiVersion": "v1",
            "metadata": continueToken.map { ["continue": .string($0)] } ?? .emptyObject,
            "status": "Failure", "message": .string(message), "code": .int(Int64(code)),
        ]
        if !reason.isEmpty { body["reason"] = .string(reason) }
        if hasDetails {
            var details: [String: JSONValue] = [:]
            if let name, !name.isEmpty { details["name"] = .string(name) }
            if let group, !group.isEmpty { details["group"] = .string(group) }
            if let kind, !kind.isEmpty { details["kind"] = .string(kind) }
            if let uid, !uid.isEmpty { details["uid"] = .string(uid) }
            if !causes.isEmpty {
                details["causes"] = .array(causes.map { cause in
                    var entry: [String: JSONValue] = [:]
                    if !cause.reason.isEmpty { entry["reason"] = .string(cause.reason) }
                    if !cause.message.isEmpty { entry["message"] = .string(cause.message) }
                    if !cause.field.isEmpty { entry["field"] = .string(cause.field) }
                    return .object(entry)
                })
            }
            if let retryAfterSeconds { details["retryAfterSeconds"] = .int(Int64(retryAfterSeconds)) }
            body["details"] = .object(details)
        }
        return .object(body)
    }
}

// MARK: - Constructors (AM api/errors/errors.go)

extension APIStatus {
    /// `<resource>[.<group>]`, as `schema.GroupResource.String()` writes it.
    static func qualified(_ resource: String, _ group: String) -> String {
        group.isEmpty ? resource : "\(resource).\(group)"
    }

    static func notFound(resource: String, group: String, name: String) -> APIStatus {
        APIStatus(code: 404, reason: "NotFound", message: "\(qualified(resource, group)) \"\(name)\" not found",
                  name: name, group: group, kind: resource)
    }

    /// The 404 for a path the server does not serve.
    static let pathNotFound = APIStatus(
        code: 404, reason: "NotFound", message: "the server could not find the requested resource", hasDetails: true)

    static func alreadyExists(resource: String, group: String, name: String, terminating: Bool) -> APIStatus {
        let base = "\(qualified(resource, group)) \"\(name)\" already exists"
        // AS registry/generic/registry/store.go Create: a terminating object's 409 says so.
        return APIStatus(code: 409, reason: "AlreadyExists", message: terminating ? "object is being deleted: \(base)" : base,
                         name: name, group: group, kind: resource)
    }

    static func conflict(resource: String, group: String, name: String, detail: String) -> APIStatus {
        APIStatus(code: 409, reason: "Conflict",
                  message: "Operation cannot be fulfilled on \(qualified(resource, group)) \"\(name)\": \(detail)",
                  name: name, group: group, kind: resource)
    }

    /// The optimistic-concurrency failure (AS registry/generic/registry/store.go, OptimisticLockErrorMsg).
    static let optimisticLockMessage = "the object has been modified; please apply your changes to the latest version and try again"

    static func staleResourceVersion(resource: String, group: String, name: String) -> APIStatus {
        conflict(resource: resource, group: group, name: name, detail: optimisticLockMessage)
    }

    static func invalid(kind: String, group: String, name: String, errors: [FieldError]) -> APIStatus {
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        var message = "\(qualifiedKind) \"\(name)\" is invalid"
        if errors.count == 1 {
            message += ": \(errors[0].text)"
        } else if errors.count > 1 {
            message += ": [\(errors.map(\.text).joined(separator: ", "))]"
        }
        return APIStatus(code: 422, reason: "Invalid", message: message, name: name, group: group, kind: kind,
                         causes: errors.map { Cause(reason: $0.type.causeType, message: $0.body, field: $0.field) },
                         hasDetails: true)
    }

    static func badRequest(_ message: String) -> APIStatus {
        APIStatus(code: 400, reason: "BadRequest", message: message)
    }

    /// A body that does not decode as the expected kind (AS handlers: "cannot be handled as a").
    static func undecodable(kind: String, apiVersion: String, detail: String) -> APIStatus {
        let version = apiVersion.split(separator: "/").last.map(String.init) ?? apiVersion
        return badRequest("\(kind) in version \"\(version)\" cannot be handled as a \(kind): \(detail)")
    }

    static func methodNotAllowed() -> APIStatus {
        APIStatus(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource",
                  hasDetails: true)
    }

    static func unsupportedMediaType(_ accepted: [String]) -> APIStatus {
        APIStatus(code: 415, reason: "UnsupportedMediaType",
                  message: "the body of the request was in an unknown format - accepted media types include: \(accepted.joined(separator: ", "))")
    }

    static func notAcceptable() -> APIStatus {
        APIStatus(code: 406, reason: "NotAcceptable", message: "only the following media types are accepted: application/json")
    }

    static func expired(_ message: String) -> APIStatus {
        APIStatus(code: 410, reason: "Expired", message: message)
    }

    /// AS storage/errors.go NewTooLargeResourceVersionError.
    static func resourceVersionTooLarge(requested: Int64, current: Int64) -> APIStatus {
        APIStatus(code: 504, reason: "Timeout",
                  message: "Timeout: Too large resource version: \(requested), current: \(current)",
                  causes: [Cause(reason: "ResourceVersionTooLarge", message: "Too large resource version", field: "")],
                  retryAfterSeconds: 1)
    }

    static func internalError(_ message: String) -> APIStatus {
        APIStatus(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)",
                  causes: [Cause(reason: "", message: message, field: "")])
    }

    static let unauthorized = APIStatus(code: 401, reason: "Unauthorized", message: "Unauthorized")

    static func requestEntityTooLarge(limit: Int) -> APIStatus {
        APIStatus(code: 413, reason: "RequestEntityTooLarge",
                  message: "Request entity too large: limit is \(limit)")
    }
}
