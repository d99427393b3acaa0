// The Kubernetes API client: one generic client for every `KubeResource`, over an
// injectable `HTTPTransport`. This file holds construction and the request loop (rate
// limit -> auth -> send -> classify -> retry); the verbs are in the `KubeClient+*.swift`
// files.
import Foundation
public import Logging

/// A Kubernetes API client. Safe to share between tasks.
///
/// Every method throws ``KubeError`` (or `CancellationError` when its task is cancelled).
/// Failed requests are retried automatically within ``RetryPolicy`` bounds where a retry
/// is safe (see `KubeError+Retry.swift` for the rule); requests are paced by a client-side
/// token bucket (``RateLimit``).
///
/// Changing existing objects: the models decode only the fields they know, so writing back
/// a whole decoded object (PUT, ``update(_:)``) drops fields the models do not know (for
/// example a PV's CSI source, or fields of a newer server). Therefore:
/// - change objects you did not create with ``modify(_:name:namespace:startingFrom:subresource:maxAttempts:_:)``,
///   which sends a JSON merge patch of only the fields the closure changed, conditional on
///   the resourceVersion it was computed from (409 -> re-GET, re-apply, retry);
/// - use ``update(_:)``/``retryOnConflict(_:name:namespace:startingFrom:maxAttempts:_:)``
///   (PUT) only for objects whose every field is modelled and owned by this program (the
///   leader-election Lease).
public final class KubeClient: Sendable {
    /// The configuration this client was built with.
    public let configuration: KubeClientConfiguration
    let transport: any HTTPTransport
    let clock: any EngineClock
    let jitter: JitterSource
    let logger: Logger
    private let rateLimiter: RateLimiter
    private let tokenSource: BearerTokenSource?

    /// - Parameters:
    ///   - configuration: server, credentials and limits.
    ///   - transport: how bytes move; production code passes an `AsyncHTTPClientTransport`
    ///     made from the same configuration.
    ///   - clock: monotonic clock for backoff, rate limiting and token refresh.
    ///   - jitter: random source for backoff jitter and watch timeouts.
    ///   - logger: where retries, token re-reads and errors are logged.
    public init(configuration: KubeClientConfiguration, transport: any HTTPTransport,
                clock: any EngineClock = SystemEngineClock(), jitter: JitterSource = .system,
                logger: Logger) {
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
        self.jitter = jitter
        self.logger = logger
        self.rateLimiter = RateLimiter(configuration.rateLimit, clock: clock)
        self.tokenSource = configuration.bearerToken.map {
            BearerTokenSource($0, refreshInterval: configuration.tokenRefreshInterval, clock: clock, logger: logger)
        }
    }

    /// Shuts the transport down. The client is unusable afterwards.
    public func shutdown() async throws {
        try await transport.shutdown()
    }

    /// The rate-limit priority of the requests the current task sends (``RequestPriority``):
    /// `.background` for work nothing waits on, such as Events.
    @TaskLocal package static var requestPriority: RequestPriority = .normal

    /// Sends `request`, retrying per the policy, and returns a 2xx response whose body may
    /// still be streaming.
    func send(_ request: KubeRequest) async throws -> TransportResponse {
        let summary = request.summary
        var backoff = configuration.retry.backoff
        var attempt = 0
        var retriedUnauthorized = false
        while true {
            attempt += 1
            try await rateLimiter.acquire(Self.requestPriority)
            let transportRequest = try makeTransportRequest(request)
            let failure: KubeError
            do {
                let response = try await transport.send(transportRequest)
                if (200..<300).contains(response.status) { return response }
                failure = await errorFromResponse(response, request: summary)
            } catch let error as TransportError {
                failure = .transport(error, request: summary)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failure = .transport(.connectionLost(String(describing: error)), request: summary)
            }
            try Task.checkCancellation()
            // A 401 drops the cached token (it may have been rotated); the request is
            // repeated once with a freshly read one (a 401 means the server did not act).
            if failure.isUnauthorized, !retriedUnauthorized, tokenSource?.invalidate() == true {
                retriedUnauthorized = true
                logger.info("unauthorized; re-reading the token file and retrying once",
                            metadata: ["request": "\(summary)"])
                continue
            }
            switch failure.retryDisposition(for: request.method) {
            case .fail:
                throw failure
            case .retry(let hint):
                guard attempt < configuration.retry.maxAttempts else {
                    logger.warning("giving up after \(attempt) attempts", metadata: ["request": "\(summary)", "error": "\(failure)"])
                    throw failure
                }
                let delay: Duration
                if let hint, hint > .zero {
                    delay = min(hint, configuration.retry.maxServerDelay)
                } else {
                    delay = backoff.next(jitter)
                }
                logger.info("request failed; retrying", metadata: [
                    "request": "\(summary)", "error": "\(failure)", "attempt": "\(attempt)", "delay": "\(delay)",
                ])
                try await clock.sleep(for: delay)
            }
        }
    }

    /// Sends `request` and reads the whole (bounded) response body.
    func sendAndCollect(_ request: KubeRequest) async throws -> [UInt8] {
        let response = try await send(request)
        do {
            return try await response.body.collect(upTo: configuration.maxResponseBytes)
        } catch let error as TransportError {
            throw KubeError.transport(error, request: request.summary)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw KubeError.transport(.connectionLost(String(describing: error)), request: request.summary)
        }
    }

    private func makeTransportRequest(_ request: KubeRequest) throws(KubeError) -> TransportRequest {
        var headers = [
            HeaderField("Accept", "application/json"),
            HeaderField("User-Agent", configuration.userAgent),
        ]
        if let tokenSource {
            headers.append(HeaderField("Authorization", "Bearer \(try tokenSource.token())"))
        }
        if let contentType = request.contentType {
            headers.append(HeaderField("Content-Type", contentType))
        }
        let pathAndQuery = configuration.server.pathPrefix + request.path + QueryEncoding.encode(request.query)
        let url = "\(configuration.server.scheme)://\(configuration.server.authority)\(pathAndQuery)"
        return TransportRequest(method: request.method, url: url, pathAndQuery: pathAndQuery, headers: headers,
                                body: request.body, headTimeout: configuration.requestTimeout)
    }

    /// Turns an error response into a `KubeError`, keeping a Status intact or the raw text
    /// of any other body (some filters answer in plain text).
    private func errorFromResponse(_ response: TransportResponse, request: RequestSummary) async -> KubeError {
        let retryAfter = parseRetryAfter(response.header("Retry-After"))
        let bytes: [UInt8]
        do {
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            // The head is all we have; the body's failure is reported with it.
            return .http(code: response.status, body: "(error body unreadable: \(error))",
                         request: request, retryAfter: retryAfter)
        }
        // Not a Status (plain text, HTML from a proxy, empty): the body text is kept instead.
        if let status = try? JSONCoding.decoder.decode(Status.self, from: Data(bytes)),
           status.kind == "Status" || status.code != nil || status.reason != nil {
            return .status(status, httpCode: response.status, request: request, retryAfter: retryAfter)
        }
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self).trimmingWhitespace()
        return .http(code: response.status, body: text, request: request, retryAfter: retryAfter)
    }

    /// Decodes a response body as `T`.
    func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], request: RequestSummary) throws(KubeError) -> T {
        do {
            return try JSONCoding.decoder.decode(T.self, from: Data(bytes))
        } catch {
            throw .malformedResponse(request: request, detail: describeDecodingError(error))
        }
    }
}

/// A request before it becomes bytes: path relative to the server's prefix.
struct KubeRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var query: [(String, String)] = []
    var body: [UInt8]? = nil
    var contentType: String? = nil

    var summary: RequestSummary { RequestSummary(method: method.rawValue, path: path) }
}

/// Percent-encoding of query strings (RFC 3986 unreserved characters pass through).
enum QueryEncoding {
    static func encode(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.append(Character(Unicode.Scalar(byte)))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result.append("%")
                result.append(Character(Unicode.Scalar(hex[Int(byte >> 4)])))
                result.append(Character(Unicode.Scalar(hex[Int(byte & 0xF)])))
            }
        }
        return result
    }
}
