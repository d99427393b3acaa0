// meta/v1 Status: the body of every API error (apimachinery types.go:826-894, 1072-1095).

/// The server's account of a failed (or, for some deletes, successful) request.
public struct Status: Sendable, Hashable, Codable, CustomStringConvertible {
    public var kind: String?
    public var apiVersion: String?
    public var metadata: ListMeta?
    /// `Success` or `Failure`.
    public var status: String?
    public var message: String?
    /// Machine-readable reason; see ``StatusReason``.
    public var reason: StatusReason?
    public var details: StatusDetails?
    /// The HTTP status code the server meant.
    public var code: Int?

    public init(status: String? = "Failure", message: String? = nil, reason: StatusReason? = nil,
                details: StatusDetails? = nil, code: Int? = nil) {
        self.kind = "Status"
        self.apiVersion = "v1"
        self.status = status
        self.message = message
        self.reason = reason
        self.details = details
        self.code = code
    }

    public var description: String {
        var parts: [String] = []
        if let code { parts.append(String(code)) }
        if let reason { parts.append(reason.rawValue) }
        if let message, !message.isEmpty { parts.append(message) }
        return parts.isEmpty ? "Status (empty)" : parts.joined(separator: " ")
    }
}

/// meta/v1 StatusDetails.
public struct StatusDetails: Sendable, Hashable, Codable {
    public var name: String?
    public var group: String?
    /// For most errors the resource plural; for delete preconditions the Kind.
    public var kind: String?
    public var uid: String?
    package var causes: [StatusCause]?
    /// The server's hint how long to wait before retrying.
    package var retryAfterSeconds: Int?

    public init(name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil,
                causes: [StatusCause]? = nil, retryAfterSeconds: Int? = nil) {
        self.name = name
        self.group = group
        self.kind = kind
        self.uid = uid
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// meta/v1 StatusCause (the JSON key of the cause type is `reason`).
public struct StatusCause: Sendable, Hashable, Codable {
    public var reason: String?
    public var message: String?
    package var field: String?

    public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
        self.reason = reason
        self.message = message
        self.field = field
    }
}

/// A `Status.reason`. An open set: unknown reasons decode and compare by their text.
public struct StatusReason: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static let notFound = StatusReason(rawValue: "NotFound")
    package static let alreadyExists = StatusReason(rawValue: "AlreadyExists")
    package static let conflict = StatusReason(rawValue: "Conflict")
    public static let invalid = StatusReason(rawValue: "Invalid")
    public static let gone = StatusReason(rawValue: "Gone")
    package static let expired = StatusReason(rawValue: "Expired")
    package static let badRequest = StatusReason(rawValue: "BadRequest")
    package static let unauthorized = StatusReason(rawValue: "Unauthorized")
    package static let forbidden = StatusReason(rawValue: "Forbidden")
    public static let methodNotAllowed = StatusReason(rawValue: "MethodNotAllowed")
    package static let tooManyRequests = StatusReason(rawValue: "TooManyRequests")
    package static let internalError = StatusReason(rawValue: "InternalError")
    package static let serverTimeout = StatusReason(rawValue: "ServerTimeout")
    public static let serviceUnavailable = StatusReason(rawValue: "ServiceUnavailable")
    public static let timeout = StatusReason(rawValue: "Timeout")
    package static let unsupportedMediaType = StatusReason(rawValue: "UnsupportedMediaType")
}

/// meta/v1 DeleteOptions, sent as the DELETE body (as client-go does).
public struct DeleteOptions: Sendable, Hashable, Codable {
    /// Only delete if the stored object still has this uid / resourceVersion (409 if not).
    package var preconditions: Preconditions?
    /// `Background` (what PV/PVC deletes use), `Foreground` or `Orphan`.
    package var propagationPolicy: String?
    package var gracePeriodSeconds: Int64?
    /// `["All"]` for a dry run.
    package var dryRun: [String]?

    public init(preconditions: Preconditions? = nil, propagationPolicy: String? = nil,
                gracePeriodSeconds: Int64? = nil, dryRun: [String]? = nil) {
        self.preconditions = preconditions
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.dryRun = dryRun
    }

    public struct Preconditions: Sendable, Hashable, Codable {
        public var uid: String?
        package var resourceVersion: String?

        public init(uid: String? = nil, resourceVersion: String? = nil) {
            self.uid = uid
            self.resourceVersion = resourceVersion
        }
    }
}
