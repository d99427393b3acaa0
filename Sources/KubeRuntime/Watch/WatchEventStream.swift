// A raw watch: the events of one WATCH request, decoded as they arrive (pull-based: the
// body is read only as fast as the consumer asks, so nothing buffers without bound).

/// Options of a WATCH request.
package struct WatchOptions: Sendable, Hashable {
    /// Where to start: a resourceVersion from a list, an event or a bookmark. Unset or
    /// `"0"` start with synthetic ADDED events for every existing object.
    package var resourceVersion: String?
    /// The server ends the watch cleanly after this many seconds (keep watches finite).
    package var timeoutSeconds: Int?
    /// Ask for BOOKMARK events (client-go always does, reflector.go:597).
    package var allowWatchBookmarks: Bool
    package var labelSelector: String?
    package var fieldSelector: String?

    package init(resourceVersion: String? = nil, timeoutSeconds: Int? = nil, allowWatchBookmarks: Bool = true,
                labelSelector: String? = nil, fieldSelector: String? = nil) {
        self.resourceVersion = resourceVersion
        self.timeoutSeconds = timeoutSeconds
        self.allowWatchBookmarks = allowWatchBookmarks
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    var queryItems: [(String, String)] {
        var items: [(String, String)] = [("watch", "true")]
        if let resourceVersion { items.append(("resourceVersion", resourceVersion)) }
        if allowWatchBookmarks { items.append(("allowWatchBookmarks", "true")) }
        if let timeoutSeconds { items.append(("timeoutSeconds", String(timeoutSeconds))) }
        if let labelSelector, !labelSelector.isEmpty { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { items.append(("fieldSelector", fieldSelector)) }
        return items
    }
}

extension KubeClient {
    /// Starts a watch and returns its events as they arrive.
    ///
    /// The request start is retried like any read; an HTTP error (e.g. 410 for a too old
    /// resourceVersion on some servers) is thrown here. Most consumers want a ``Watcher``,
    /// which lists, watches, resumes and relists on top of this.
    package func watch<T: KubeResource>(_ type: T.Type, namespace: String? = nil,
                                       options: WatchOptions = WatchOptions()) async throws -> WatchEventStream<T> {
        let request = KubeRequest(method: .get, path: try Paths.collection(T.resource, namespace: namespace),
                                  query: options.queryItems)
        let response = try await send(request)
        return WatchEventStream(body: response.body, request: request.summary)
    }
}

/// The events of one watch request.
///
/// Elements are per-event results: an event that cannot be decoded (malformed object,
/// unknown type, wrong kind) is a `.failure` element and the stream goes on. Failures of
/// the stream itself (broken connection, bytes that are not JSON, a value cut off by the
/// end of the stream) are thrown by the iterator as ``KubeError`` and end the stream. A
/// clean end (the server's `timeoutSeconds`, a server restart) returns nil.
package struct WatchEventStream<Object: KubeResource>: AsyncSequence, Sendable {
    package typealias Element = Result<WatchEvent<Object>, KubeError>

    let body: ResponseBody
    let request: RequestSummary

    package init(body: ResponseBody, request: RequestSummary) {
        self.body = body
        self.request = request
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: body.makeAsyncIterator(), request: request)
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var body: ResponseBody.AsyncIterator
        let request: RequestSummary
        var framing = JSONStreamDecoder()
        var finished = false

        package mutating func next() async throws -> Element? {
            guard !finished else { return nil }
            let resource = Object.resource
            while true {
                let value: [UInt8]?
                do {
                    value = try framing.next()
                } catch {
                    finished = true
                    throw KubeError.malformedStream(resource: resource, detail: error.description)
                }
                if let value {
                    return WatchEventDecoder.decode(value, as: Object.self)
                }
                let chunk: [UInt8]?
                do {
                    chunk = try await body.next()
                } catch let error as TransportError {
                    finished = true
                    throw KubeError.transport(error, request: request)
                } catch is CancellationError {
                    finished = true
                    throw CancellationError()
                } catch {
                    finished = true
                    throw KubeError.transport(.connectionLost(String(describing: error)), request: request)
                }
                guard let chunk else {
                    finished = true
                    let pending = framing.pendingByteCount
                    if pending > 0 { throw KubeError.truncatedStream(resource: resource, pendingBytes: pending) }
                    return nil
                }
                framing.append(chunk)
            }
        }
    }
}
