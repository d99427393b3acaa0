// The one error type of the Kubernetes client and watch pipeline. It keeps the server's
// Status intact (code, reason, message, details), survives non-JSON error bodies (the
// plain-text 429 of the priority-and-fairness filter, written before any API handler
// runs) and names the request or resource it concerns. Whether an error is worth
// retrying is decided in one place: `KubeError+Retry.swift`.

/// `METHOD path` of a request, for error messages and logs.
public struct RequestSummary: Sendable, Hashable, CustomStringConvertible {
    package var method: String
    public var path: String

    package init(method: String, path: String) {
        self.method = method
        self.path = path
    }

    public var description: String { "\(method) \(path)" }
}

/// Everything that can go wrong talking to the API server.
public enum KubeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered `httpCode` with a `Status` body (also used for an `ERROR` event
    /// inside a watch stream, with the Status's own code). `retryAfter` is the
    /// `Retry-After` header, if any.
    case status(Status, httpCode: Int, request: RequestSummary, retryAfter: Duration?)
    /// The server answered `code` with a body that is not a `Status`; the text is kept.
    case http(code: Int, body: String, request: RequestSummary, retryAfter: Duration?)
    /// No (complete) response: the connection failed, broke, timed out or TLS failed.
    case transport(TransportError, request: RequestSummary)
    /// A successful response whose body does not decode.
    case malformedResponse(request: RequestSummary, detail: String)
    /// An object (list item or watch event object) that does not decode as the model.
    case malformedObject(resource: ResourceDescriptor, detail: String)
    /// Bytes in a watch stream that are not a sequence of JSON values.
    case malformedStream(resource: ResourceDescriptor, detail: String)
    /// A watch stream that ended in the middle of a JSON value.
    case truncatedStream(resource: ResourceDescriptor, pendingBytes: Int)
    /// A watch event whose `type` is not ADDED/MODIFIED/DELETED/BOOKMARK/ERROR.
    case unknownEventType(resource: ResourceDescriptor, type: String)
    /// A watch event carrying an object of another kind than the watched one.
    case unexpectedKind(resource: ResourceDescriptor, kind: String, apiVersion: String)
    /// A watch that ended cleanly almost at once without any event (client-go
    /// reflector.go:1092-1095 "very short watch"): the watcher backs off before re-watching.
    case watchEndedEarly(resource: ResourceDescriptor, after: Duration)
    /// A request the client refused to send (invalid name, missing namespace, ...).
    case invalidRequest(String)
    /// Credentials could not be obtained (token file unreadable and no earlier token).
    case credentials(path: String, reason: String)
    /// An object could not be encoded for sending.
    case encoding(resource: ResourceDescriptor, detail: String)

    public var description: String {
        switch self {
        case .status(let status, let code, let request, _):
            let reason = status.reason.map { " \($0.rawValue)" } ?? ""
            let message = status.message.map { ": \($0)" } ?? ""
            return "\(request): \(code)\(reason)\(message)"
        case .http(let code, let body, let request, _):
            let text = body.count > 300 ? String(body.prefix(300)) + "..." : body
            return "\(request): \(code) (non-Status body): \(text)"
        case .transport(let error, let request):
            return "\(request): \(error)"
        case .malformedResponse(let request, let detail):
            return "\(request): malformed response: \(detail)"
        case .malformedObject(let resource, let detail):
            return "\(resource): malformed object: \(detail)"
        case .malformedStream(let resource, let detail):
            return "watch \(resource): malformed stream: \(detail)"
        case .truncatedStream(let resource, let pending):
            return "watch \(resource): stream ended inside a JSON value (\(pending) bytes pending)"
        case .unknownEventType(let resource, let type):
            return "watch \(resource): unknown event type \"\(type)\""
        case .unexpectedKind(let resource, let kind, let apiVersion):
            return "watch \(resource): expected kind \(resource.kind), got \"\(kind)\" (\(apiVersion))"
        case .watchEndedEarly(let resource, let after):
            return "watch \(resource): ended after \(after) without events"
        case .invalidRequest(let detail):
            return "invalid request: \(detail)"
        case .credentials(let path, let reason):
            return "credentials: \(path): \(reason)"
        case .encoding(let resource, let detail):
            return "\(resource): cannot encode object: \(detail)"
        }
    }

    /// The HTTP status code (or the Status code of an in-stream ERROR event).
    package var code: Int? {
        switch self {
        case .status(let status, let httpCode, _, _): return status.code ?? httpCode
        case .http(let code, _, _, _): return code
        default: return nil
        }
    }

    /// The server's Status, when it sent one.
    public var status: Status? {
        if case .status(let status, _, _, _) = self { return status }
        return nil
    }

    /// The Status reason, when the server sent one.
    package var reason: StatusReason? { status?.reason }

    /// 404: the object (or collection) does not exist.
    package var isNotFound: Bool { code == 404 }

    /// 409 with reason `Conflict`: a stale resourceVersion or failed precondition.
    package var isConflict: Bool {
        code == 409 && (reason == nil || reason == .conflict)
    }

    /// 409 with reason `AlreadyExists`: a create of an existing name.
    package var isAlreadyExists: Bool { code == 409 && reason == .alreadyExists }

    /// 410 `Expired`/`Gone`: a resourceVersion or continue token too old (relist).
    package var isExpired: Bool {
        code == 410 || reason == .expired || reason == .gone
    }

    /// 401: the credentials were rejected.
    package var isUnauthorized: Bool { code == 401 }

    /// 422 `Invalid`: the server's validation rejected the object.
    package var isInvalid: Bool { code == 422 }
}
