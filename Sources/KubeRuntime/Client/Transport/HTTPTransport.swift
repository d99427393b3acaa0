// The seam between the client and the network. Production uses async-http-client
// (`AsyncHTTPClientTransport`); tests script responses with a fake. The client above it
// owns retries, auth headers, rate limiting and decoding; a transport only moves bytes.
import Synchronization

/// An HTTP method the client uses.
package enum HTTPMethod: String, Sendable, Hashable {
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case patch = "PATCH"
    case delete = "DELETE"
}

/// One header field.
package struct HeaderField: Sendable, Hashable {
    package var name: String
    package var value: String

    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A request as the transport sees it: the full URL is already built.
public struct TransportRequest: Sendable {
    package var method: HTTPMethod
    /// Absolute URL, e.g. `https://10.0.0.1:6443/api/v1/persistentvolumes?limit=500`.
    package var url: String
    /// Path and query only (for fakes and logs).
    package var pathAndQuery: String
    package var headers: [HeaderField]
    package var body: [UInt8]?
    /// How long to wait for the response head (the body of a watch is not limited).
    package var headTimeout: Duration

    package init(method: HTTPMethod, url: String, pathAndQuery: String, headers: [HeaderField],
                body: [UInt8]?, headTimeout: Duration) {
        self.method = method
        self.url = url
        self.pathAndQuery = pathAndQuery
        self.headers = headers
        self.body = body
        self.headTimeout = headTimeout
    }

    /// The first header named `name` (case-insensitive).
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A response head and its body, which may still be arriving (watch).
public struct TransportResponse: Sendable {
    public var status: Int
    package var headers: [HeaderField]
    package var body: ResponseBody

    package init(status: Int, headers: [HeaderField], body: ResponseBody) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header named `name` (case-insensitive).
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A response body as a sequence of byte chunks, pulled on demand (so a slow consumer
/// slows the network read instead of growing a buffer). Dropping the iterator before the
/// end cancels the request and closes the stream.
package struct ResponseBody: AsyncSequence, Sendable {
    package typealias Element = [UInt8]

    private let makeNext: @Sendable () -> @Sendable () async throws -> [UInt8]?

    /// - Parameter makeNext: called once per iteration; returns the function yielding the
    ///   next chunk (`nil` at the end). It may throw ``TransportError``.
    package init(_ makeNext: @escaping @Sendable () -> @Sendable () async throws -> [UInt8]?) {
        self.makeNext = makeNext
    }

    /// A body that is already complete.
    package static func bytes(_ bytes: [UInt8]) -> ResponseBody {
        ResponseBody {
            let box = OneShot(bytes)
            return { box.take() }
        }
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        let next: @Sendable () async throws -> [UInt8]?

        package mutating func next() async throws -> [UInt8]? {
            try await next()
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(next: makeNext())
    }

    /// Reads the whole body, failing with `TransportError.bodyTooLarge` past `limit` bytes.
    package func collect(upTo limit: Int) async throws -> [UInt8] {
        var result: [UInt8] = []
        for try await chunk in self {
            guard result.count + chunk.count <= limit else { throw TransportError.bodyTooLarge(limit: limit) }
            result.append(contentsOf: chunk)
        }
        return result
    }
}

/// Hands out its value once (a complete body).
private final class OneShot: Sendable {
    private let value: Mutex<[UInt8]?>

    init(_ value: [UInt8]) {
        self.value = Mutex(value.isEmpty ? nil : value)
    }

    func take() -> [UInt8]? {
        value.withLock { current in
            defer { current = nil }
            return current
        }
    }
}

/// Why a request got no (complete) response. The distinction matters for retries: only a
/// `connectFailed` request is known never to have reached the server.
public enum TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The connection could not be established (refused, DNS, connect timeout): nothing
    /// was sent.
    case connectFailed(String)
    /// The request was sent (perhaps partly) but no response head arrived in time.
    case headTimeout(Duration)
    /// The connection broke during the exchange; the server may have acted.
    case connectionLost(String)
    /// TLS handshake or certificate verification failed (a configuration problem).
    case tls(String)
    /// A body exceeded the client's limit.
    case bodyTooLarge(limit: Int)
    /// The transport could not build the request (bad URL, ...).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .connectFailed(let detail): return "connection failed: \(detail)"
        case .headTimeout(let timeout): return "no response within \(timeout)"
        case .connectionLost(let detail): return "connection lost: \(detail)"
        case .tls(let detail): return "TLS failure: \(detail)"
        case .bodyTooLarge(let limit): return "response body larger than \(limit) bytes"
        case .invalidRequest(let detail): return "cannot send request: \(detail)"
        }
    }
}

/// Moves one request and its response. Implementations must be safe to call concurrently.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns once the response head has arrived (within
    /// `request.headTimeout`); the body streams afterwards.
    ///
    /// - Throws: ``TransportError`` (or `CancellationError`).
    func send(_ request: TransportRequest) async throws -> TransportResponse

    /// Releases connections. The transport is unusable afterwards.
    func shutdown() async throws
}
