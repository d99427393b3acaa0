// The one place that decides whether a failed request is retried.
//
// Rule (api-conventions "retry guidance" and client-go's defaults, summarised in
// docs/kubernetes-api-behaviour.md, "Errors, retries and rate limits"):
// - Reads (GET of an object, LIST, the start of a WATCH) are always safe to repeat: they are
//   retried on 429, 500, 502, 503, 504 and on every transport failure except TLS errors
//   (a configuration problem retrying cannot fix) and oversized bodies.
// - Writes (POST/PUT/PATCH/DELETE) are retried only when the server cannot have acted:
//   * 429 (the priority-and-fairness / max-in-flight filter rejects before the handler),
//   * 503 (ServiceUnavailable: not served),
//   * any other 5xx that carries `Retry-After` or `details.retryAfterSeconds` (the server
//     itself asks for a retry: client-go rest/with_retry.go:307-318 retries any verb then),
//   * a transport `connectFailed` (no byte left the client).
//   A write whose connection broke or timed out after sending is NOT retried: it may have
//   been applied. Callers make writes safe to repeat at their level instead: PUT/PATCH carry
//   a resourceVersion (a repeat after success is a 409 Conflict handled by
//   `retryOnConflict`/`modify`), creates treat 409 AlreadyExists of their own deterministic
//   name as success, deletes carry uid preconditions and tolerate 404.
// - 401 is handled by the client itself (token re-read and one immediate retry).
// - Everything else (400, 403, 404, 409, 410, 422, ...) is terminal for the request.
import Foundation

/// What to do after a failed attempt.
package enum RetryDisposition: Sendable, Hashable {
    /// Retry; wait at least `serverHint` if the server gave one, else the backoff delay.
    case retry(serverHint: Duration?)
    /// Give up and report the error.
    case fail
}

extension KubeError {
    /// Whether the failed request `method` should be retried (see the rule above).
    package func retryDisposition(for method: HTTPMethod) -> RetryDisposition {
        let isRead = method == .get
        switch self {
        case .status, .http:
            guard let code else { return .fail }
            let hint = serverRetryAfter
            switch code {
            case 429, 503:
                return .retry(serverHint: hint)
            case 500, 502, 504:
                if isRead || hint != nil { return .retry(serverHint: hint) }
                return .fail
            case 501, 505...599:
                return hint != nil ? .retry(serverHint: hint) : .fail
            default:
                return .fail
            }
        case .transport(let error, _):
            switch error {
            case .connectFailed:
                return .retry(serverHint: nil)
            case .headTimeout, .connectionLost:
                return isRead ? .retry(serverHint: nil) : .fail
            case .tls, .bodyTooLarge, .invalidRequest:
                return .fail
            }
        default:
            return .fail
        }
    }

    /// The server's wait hint: the `Retry-After` header (seconds), else
    /// `details.retryAfterSeconds` (apimachinery errors.go `SuggestsClientDelay`).
    package var serverRetryAfter: Duration? {
        switch self {
        case .status(let status, _, _, let header):
            if let header { return header }
            if let seconds = status.details?.retryAfterSeconds, seconds > 0 { return .seconds(seconds) }
            return nil
        case .http(_, _, _, let header):
            return header
        default:
            return nil
        }
    }
}

/// Parses a `Retry-After` header given in seconds (client-go only honours this form,
/// rest/request.go `checkWait`); an HTTP-date or garbage yields `nil`.
func parseRetryAfter(_ value: String?) -> Duration? {
    guard let value = value?.trimmingCharacters(in: .whitespaces), let seconds = Int(value), seconds >= 0
    else { return nil }
    return .seconds(seconds)
}
