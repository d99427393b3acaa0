// Writing a watch response: HTTP 200, chunked `application/json`, one JSON object and "\n"
// per event, flushed per event (AS endpoints/handlers/watch.go serveWatch; framing AM
// runtime/serializer/json/json.go Encode). Ends cleanly at the timeout; an expired start is
// one ERROR event inside the 200 stream (AS storage/cacher/cacher.go newErrWatcher).

import NIOCore
import NIOHTTP1

/// How a watch response ended.
enum WatchEnd {
    /// The terminating chunk was written; the connection may serve more requests.
    case clean
    /// The connection was closed without a terminating chunk.
    case dropped
}

struct WatchStreamer {
    let handler: APIHandler
    let plan: WatchPlan
    let channel: any Channel
    let writer: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    let version: HTTPVersion

    var store: ObjectStore { handler.store }

    func run() async throws -> WatchEnd {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Cache-Control", value: "no-cache, private")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        let registration: ObjectStore.Registration
        switch store.subscribe(plan.filter, start: plan.start, bufferSize: handler.configuration.watchBufferSize) {
        case .failure(let status):
            try await writer.write(.head(HTTPResponseHead(version: version, status: .ok, headers: headers)))
            try await writer.write(.body(.byteBuffer(ByteBuffer(bytes: Self.line(WatchEvent(type: .error, object: status.json))))))
            try await writer.write(.end(nil))
            return .clean
        case .success(let value):
            registration = value
        }
        defer { store.unsubscribe(registration.id) }
        try await writer.write(.head(HTTPResponseHead(version: version, status: .ok, headers: headers)))

        let continuation = registration.continuation
        // A peer that goes away ends the stream at once, not at the next event.
        channel.closeFuture.whenComplete { _ in continuation.yield(.end) }

        return try await withThrowingTaskGroup(of: Void.self) { group in
            let timeout = plan.timeout
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return }
                continuation.yield(.end)
            }
            if plan.bookmarks, case .every(let range) = handler.configuration.bookmarks {
                let handler = self.handler
                let id = registration.id
                group.addTask {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: handler.jitter(range)) } catch { return }
                        if !handler.store.enqueueBookmark(id) { return }
                    }
                }
            }
            defer { group.cancelAll() }
            return try await stream(registration)
        }
    }

    /// Sends the initial events, then whatever the store delivers, applying the fault.
    func stream(_ registration: ObjectStore.Registration) async throws -> WatchEnd {
        var sent = 0
        let fault = plan.fault
        if fault?.dropAfterEvents == 0 { return try await drop() }
        if fault?.errorAfterEvents == 0 { return try await sendErrorAndEnd() }
        var headersSent = false
        func deliver(_ event: WatchEvent) async throws -> WatchEnd? {
            // Bookmarks (including watch-list's initial-events-end one) only for allowWatchBookmarks.
            if event.type == .bookmark && !plan.bookmarks { return nil }
            try await write(asTable(event, headers: !headersSent))
            if case .table = plan.format, event.type != .bookmark, event.type != .error { headersSent = true }
            sent += 1
            if let limit = fault?.dropAfterEvents, sent >= limit { return try await drop() }
            if let limit = fault?.errorAfterEvents, sent >= limit { return try await sendErrorAndEnd() }
            return nil
        }
        for event in registration.initialEvents {
            if let end = try await deliver(event) { return end }
        }
        for await signal in registration.stream {
            switch signal {
            case .event(let event):
                if let end = try await deliver(event) { return end }
            case .end:
                try await writer.write(.end(nil))
                return .clean
            }
        }
        // The store closed the stream: this watcher fell behind, or the server is stopping.
        if Task.isCancelled || !channel.isActive { return .dropped }
        try await writer.write(.end(nil))
        return .clean
    }

    /// With a Table format, an object event's object becomes a one-row Table; only the first
    /// carries the column definitions (AS endpoints/handlers/watch.go: later events have no
    /// headers). Bookmarks and errors are sent as they are.
    func asTable(_ event: WatchEvent, headers: Bool) -> WatchEvent {
        guard case .table(let version, let include) = plan.format, event.type != .bookmark, event.type != .error else { return event }
        let metadata: JSONValue = ["resourceVersion": event.object[path: ["metadata", "resourceVersion"]] ?? ""]
        let table = TableConvertor.table(plan.filter.resource, objects: [event.object], metadata: metadata, version: version,
                                         include: include, headers: headers, now: handler.registry.clock())
        return WatchEvent(type: event.type, object: table)
    }

    static func line(_ event: WatchEvent) -> [UInt8] {
        var bytes = event.json.encoded()
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    func write(_ event: WatchEvent) async throws {
        let bytes = Self.line(event)
        guard let size = plan.fault?.chunkSize, size > 0 else {
            try await writer.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            return
        }
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + size, bytes.count)
            try await writer.write(.body(.byteBuffer(ByteBuffer(bytes: bytes[offset..<end]))))
            offset = end
            if let delay = plan.fault?.chunkDelay { try await Task.sleep(for: delay) }
        }
    }

    func drop() async throws -> WatchEnd {
        try await channel.close()
        return .dropped
    }

    func sendErrorAndEnd() async throws -> WatchEnd {
        let revision = store.currentRevision
        let status = plan.fault?.errorStatus
            ?? APIStatus.expired("too old resource version: \(max(0, revision - 1)) (\(revision))")
        try await write(WatchEvent(type: .error, object: status.json))
        try await writer.write(.end(nil))
        return .clean
    }
}
