// A scripted `HTTPTransport` for client and watcher tests: responses are queued per
// method and path, requests are recorded, bodies can be split into chunks, fail mid-way,
// hang until cancelled, or be fed by the test while the code under test reads them.
import Engine
package import KubeRuntime
import VolumeStorage
import Synchronization

/// How a fake response body ends after its chunks.
package enum FakeBodyEnd: Sendable {
    /// The stream ends normally.
    case clean
    /// The connection breaks.
    case fail(TransportError)
    /// The stream stays open until the reading task is cancelled.
    case hang
}

/// A scripted response.
package enum FakeResponse: Sendable {
    /// `status` with a body given as text, delivered as chunks of the given sizes (all of it
    /// in one chunk when `chunkSizes` is empty), then `end`.
    case body(status: Int, text: String, headers: [HeaderField] = [], chunkSizes: [Int] = [], end: FakeBodyEnd = .clean)
    /// `status` with a body fed by the test through `feed`.
    case fed(status: Int, headers: [HeaderField] = [], feed: FakeBodyFeed)
    /// The request fails without a response.
    case failure(TransportError)
    /// Computed by a closure (for assertions on the request or dynamic answers).
    case handler(@Sendable (TransportRequest) async throws -> TransportResponse)

    /// A JSON body (`Content-Type: application/json`).
    package static func json(_ status: Int, _ text: String, headers: [HeaderField] = []) -> FakeResponse {
        .body(status: status, text: text, headers: [HeaderField("Content-Type", "application/json")] + headers)
    }

    /// A plain-text body.
    package static func text(_ status: Int, _ text: String, headers: [HeaderField] = []) -> FakeResponse {
        .body(status: status, text: text, headers: [HeaderField("Content-Type", "text/plain; charset=utf-8")] + headers)
    }

    /// A watch stream: the given lines, chunked, then `end`.
    package static func watch(_ lines: [String], chunkSizes: [Int] = [], end: FakeBodyEnd = .clean) -> FakeResponse {
        .body(status: 200, text: lines.map { $0 + "\n" }.joined(), headers: [HeaderField("Content-Type", "application/json")],
              chunkSizes: chunkSizes, end: end)
    }
}

/// The test's end of a body that is read while the test writes it.
package final class FakeBodyFeed: Sendable {
    let stream: AsyncThrowingStream<[UInt8], any Error>
    private let continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation

    package init() {
        (stream, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self, throwing: (any Error).self)
    }

    /// Sends bytes to the reader.
    package func send(_ text: String) {
        continuation.yield(Array(text.utf8))
    }

    /// Ends the body normally.
    package func finish() {
        continuation.finish()
    }

    /// Breaks the body.
    package func fail(_ error: TransportError) {
        continuation.finish(throwing: error)
    }
}

/// The scripted transport.
package final class FakeKubeTransport: HTTPTransport {
    private struct Route {
        var method: HTTPMethod?
        var path: String?
        var response: FakeResponse
    }

    private struct State {
        var routes: [Route] = []
        var requests: [TransportRequest] = []
        var shutDown = false
    }

    private let state = Mutex(State())

    package init() {}

    /// Queues `response` for the next request with this method and path (path without the
    /// query; nil matches any). Routes are used once, first queued first.
    package func enqueue(_ method: HTTPMethod? = nil, _ path: String? = nil, _ response: FakeResponse) {
        state.withLock { $0.routes.append(Route(method: method, path: path, response: response)) }
    }

    /// Every request received so far, in order.
    package var requests: [TransportRequest] {
        state.withLock { $0.requests }
    }

    /// Routes not used yet.
    package var unusedRouteCount: Int {
        state.withLock { $0.routes.count }
    }

    package var isShutDown: Bool {
        state.withLock { $0.shutDown }
    }

    package func send(_ request: TransportRequest) async throws -> TransportResponse {
        let path = request.path
        let response: FakeResponse? = state.withLock { state in
            state.requests.append(request)
            guard let index = state.routes.firstIndex(where: {
                ($0.method == nil || $0.method == request.method) && ($0.path == nil || $0.path == path)
            }) else { return nil }
            return state.routes.remove(at: index).response
        }
        guard let response else {
            throw TransportError.invalidRequest("FakeKubeTransport: nothing queued for \(request.method.rawValue) \(request.pathAndQuery)")
        }
        switch response {
        case .failure(let error):
            throw error
        case .handler(let handler):
            return try await handler(request)
        case .fed(let status, let headers, let feed):
            let stream = feed.stream
            return TransportResponse(status: status, headers: headers, body: ResponseBody {
                let box = StreamIteratorBox(stream.makeAsyncIterator())
                return { try await box.next() }
            })
        case .body(let status, let text, let headers, let chunkSizes, let end):
            let chunks = Self.split(Array(text.utf8), sizes: chunkSizes)
            return TransportResponse(status: status, headers: headers, body: ResponseBody {
                let cursor = ChunkCursor(chunks: chunks, end: end)
                return { try await cursor.next() }
            })
        }
    }

    package func shutdown() async throws {
        state.withLock { $0.shutDown = true }
    }

    /// Splits `bytes` into chunks of the given sizes (cycled); one chunk if none given.
    package static func split(_ bytes: [UInt8], sizes: [Int]) -> [[UInt8]] {
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { return bytes.isEmpty ? [] : [bytes] }
        var chunks: [[UInt8]] = []
        var index = 0
        var sizeIndex = 0
        while index < bytes.count {
            let size = sizes[sizeIndex % sizes.count]
            chunks.append(Array(bytes[index..<min(bytes.count, index + size)]))
            index += size
            sizeIndex += 1
        }
        return chunks
    }
}

/// Hands out scripted chunks, then ends as scripted.
private final class ChunkCursor: Sendable {
    private let chunks: Mutex<[[UInt8]]>
    private let end: FakeBodyEnd

    init(chunks: [[UInt8]], end: FakeBodyEnd) {
        self.chunks = Mutex(chunks.reversed())
        self.end = end
    }

    func next() async throws -> [UInt8]? {
        if let chunk = chunks.withLock({ $0.popLast() }) { return chunk }
        switch end {
        case .clean:
            return nil
        case .fail(let error):
            throw error
        case .hang:
            // Wait for cancellation without a timer: an AsyncStream that never yields ends
            // its iteration when the task is cancelled.
            let (stream, continuation) = AsyncStream.makeStream(of: Never.self)
            for await _ in stream {}
            withExtendedLifetime(continuation) {}
            throw CancellationError()
        }
    }
}

/// Lets a stream iterator be driven from a `@Sendable` closure (one reader at a time).
private final class StreamIteratorBox: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator

    init(_ iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> [UInt8]? {
        try await iterator.next()
    }
}

extension TransportRequest {
    /// The path without the query.
    package var path: String {
        String(pathAndQuery.prefix { $0 != "?" })
    }

    /// The query parameters, percent-decoded (last value wins).
    package var query: [String: String] {
        guard let mark = pathAndQuery.firstIndex(of: "?") else { return [:] }
        var result: [String: String] = [:]
        for pair in pathAndQuery[pathAndQuery.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.percentDecode(String(parts[0]))
            result[name] = parts.count > 1 ? Self.percentDecode(String(parts[1])) : ""
        }
        return result
    }

    /// The body as text.
    package var bodyText: String? {
        body.map { String(decoding: $0, as: UTF8.self) }
    }

    private static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
