// Fault injection rules: which requests, how often, what fault (item 37 of "What
// LocalCluster reproduces" in docs/kubernetes-api-behaviour.md).

/// The kind of API request, as the apiserver's request info names verbs.
public enum RequestVerb: String, Sendable, Hashable, CaseIterable {
    case get, list, watch, create, update, patch, delete, deleteCollection
}

/// A rule that makes matching HTTP requests fail or misbehave.
///
/// ```swift
/// // The next two PUTs of a PVC answer 409 Conflict.
/// let rule = cluster.injectFault(FaultRule(method: "PUT", path: .contains("/persistentvolumeclaims/"),
///                                          trigger: .times(2), action: .conflict))
/// // ... later
/// #expect(cluster.fireCount(rule) == 2)
/// ```
public struct FaultRule: Sendable {
    /// Which paths a rule applies to (the path without the query).
    public enum PathMatch: Sendable {
        case any
        case contains(String)
        case predicate(@Sendable (String) -> Bool)

        func matches(_ path: String) -> Bool {
            switch self {
            case .any: true
            case .contains(let text): path.contains(text)
            case .predicate(let test): test(path)
            }
        }
    }

    /// How often a matching request gets the fault.
    public enum Trigger: Sendable {
        /// Every matching request.
        case always
        /// The first N matching requests.
        case times(Int)
        /// Each matching request with this probability, drawn from the cluster's seeded generator.
        case probability(Double)
    }

    /// HTTP method to match (`"GET"`, `"PUT"`, ...), nil = any.
    public var method: String?
    public var path: PathMatch
    /// Request kind to match, nil = any.
    public var verb: RequestVerb?
    public var trigger: Trigger
    public var action: FaultAction

    public init(method: String? = nil, path: PathMatch = .any, verb: RequestVerb? = nil,
                trigger: Trigger = .times(1), action: FaultAction)
    {
        self.method = method
        self.path = path
        self.verb = verb
        self.trigger = trigger
        self.action = action
    }
}

/// What happens to a request a rule fires on.
public enum FaultAction: Sendable {
    /// Answer with a JSON `Status` of this code/reason/message; `retryAfterSeconds` also sets
    /// the `Retry-After` header (client-go retries 429/5xx only with that header).
    case status(code: Int, reason: String, message: String, retryAfterSeconds: Int?)
    /// 409 Conflict with the apiserver's optimistic-lock message for the addressed object.
    case conflict
    /// 429 with a JSON Status (reason TooManyRequests) and a `Retry-After` header.
    case tooManyRequests(retryAfterSeconds: Int)
    /// 429 as priority-and-fairness writes it: plain text "Too many requests, please try again
    /// later." and a `Retry-After` header (AS server/filters/priority-and-fairness.go).
    case tooManyRequestsPlainText(retryAfterSeconds: Int)
    /// Close the connection without answering.
    case closeConnection
    /// Hold the request for a while, then serve it normally.
    case delay(Duration)
    /// Serve a list with at most this many items per page (a short page, still with `continue`).
    case shortPage(maxItems: Int)
    /// Misbehave inside a watch stream.
    case watch(WatchFault)

    /// 500 InternalError.
    public static var internalError: FaultAction {
        .status(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault", retryAfterSeconds: nil)
    }

    /// 503 ServiceUnavailable.
    public static func serviceUnavailable(retryAfterSeconds: Int? = nil) -> FaultAction {
        .status(code: 503, reason: "ServiceUnavailable", message: "the server is currently unable to handle the request",
                retryAfterSeconds: retryAfterSeconds)
    }

    /// 504 Timeout.
    public static func gatewayTimeout(retryAfterSeconds: Int? = nil) -> FaultAction {
        .status(code: 504, reason: "Timeout", message: "Timeout: request did not complete within the allowed duration",
                retryAfterSeconds: retryAfterSeconds)
    }
}

/// Ways to break a watch stream. Several may be combined in one fault.
public struct WatchFault: Sendable {
    /// Close the connection abruptly (no terminating chunk) after this many events; 0 = right
    /// after the response head.
    public var dropAfterEvents: Int?
    /// After this many events send one ERROR event, then end the stream cleanly.
    public var errorAfterEvents: Int?
    /// The Status of that ERROR event; nil = 410 Expired "too old resource version".
    public var errorStatus: APIStatus?
    /// Write each event in chunks of at most this many bytes (1 = every byte its own chunk).
    public var chunkSize: Int?
    /// Pause between chunks (slow delivery).
    public var chunkDelay: Duration?

    public init(dropAfterEvents: Int? = nil, errorAfterEvents: Int? = nil, errorStatus: APIStatus? = nil,
                chunkSize: Int? = nil, chunkDelay: Duration? = nil)
    {
        self.dropAfterEvents = dropAfterEvents
        self.errorAfterEvents = errorAfterEvents
        self.errorStatus = errorStatus
        self.chunkSize = chunkSize
        self.chunkDelay = chunkDelay
    }

    /// Drop the connection after `events` events.
    public static func drop(afterEvents events: Int) -> WatchFault { WatchFault(dropAfterEvents: events) }

    /// An ERROR event (default 410 Expired) after `events` events.
    public static func error(afterEvents events: Int, status: APIStatus? = nil) -> WatchFault {
        WatchFault(errorAfterEvents: events, errorStatus: status)
    }

    /// Split every event into `size`-byte chunks, optionally pausing between them.
    public static func split(chunkSize size: Int, delay: Duration? = nil) -> WatchFault {
        WatchFault(chunkSize: size, chunkDelay: delay)
    }
}

/// Identifies an injected rule, to read how often it fired or to remove it.
public struct FaultHandle: Sendable, Hashable {
    let id: Int
}

/// One served request, as the request log records it.
public struct RequestRecord: Sendable, Equatable {
    public var method: String
    public var path: String
    /// The raw query string (without `?`), "" when none.
    public var query: String
    /// The verb the request was routed to, nil for paths outside the resources.
    public var verb: RequestVerb?
    /// The HTTP status sent, nil when the connection was dropped without an answer.
    public var status: Int?
    /// The fault rule that fired on this request, if any.
    public var fault: FaultHandle?

    public init(method: String, path: String, query: String, verb: RequestVerb?, status: Int?, fault: FaultHandle?) {
        self.method = method
        self.path = path
        self.query = query
        self.verb = verb
        self.status = status
        self.fault = fault
    }
}
