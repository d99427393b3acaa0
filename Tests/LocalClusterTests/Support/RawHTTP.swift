// A raw TCP client: sends a request and keeps the exact bytes of the answer, so tests can
// check the HTTP/1.1 chunked framing itself (chunk sizes, terminating chunk, abrupt close).

import NIOCore
import NIOPosix

struct RawExchange: Sendable {
    /// Everything the server sent.
    var bytes: [UInt8]
    /// The server closed the connection.
    var closedByPeer: Bool

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The response head (status line and headers).
    var head: String {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return text }
        return String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
    }

    /// Decodes the chunked body: the size of every chunk and the concatenated payload.
    /// Fails (returns nil) on any framing error.
    func chunks() -> (sizes: [Int], payload: [UInt8], terminated: Bool)? {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        var index = end.upperBound
        var sizes: [Int] = []
        var payload: [UInt8] = []
        while index < bytes.count {
            guard let lineEnd = bytes[index...].firstRange(of: Array("\r\n".utf8)) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText, radix: 16) else { return nil }
            index = lineEnd.upperBound
            if size == 0 {
                return (sizes, payload, true)
            }
            guard index + size + 2 <= bytes.count, bytes[index + size] == 13, bytes[index + size + 1] == 10 else {
                // An incomplete last chunk is a framing error only if the peer finished sending it.
                return closedByPeer && index + size > bytes.count ? (sizes, payload, false) : nil
            }
            sizes.append(size)
            payload.append(contentsOf: bytes[index..<index + size])
            index += size + 2
        }
        return (sizes, payload, false)
    }

    /// The JSON lines of the body.
    func lines() -> [String] {
        guard let decoded = chunks() else { return [] }
        return String(decoding: decoded.payload, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

enum RawHTTP {
    /// Sends `request` verbatim and reads until `done` says so, the peer closes, or `timeout`.
    static func exchange(port: Int, _ request: String, timeout: Duration = .seconds(10),
                         until done: @escaping @Sendable ([UInt8]) -> Bool) async throws -> RawExchange
    {
        // Connect first, wrap afterwards: an async channel made in the initializer of a
        // connection that then fails is dropped with its writer unfinished (a NIO trap). The
        // server sends nothing before the request, so no bytes can be missed.
        let connected = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        let channel = try await connected.eventLoop.submit {
            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: connected)
        }.get()
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            return try await withThrowingTaskGroup(of: RawExchange?.self) { group in
                group.addTask {
                    var bytes: [UInt8] = []
                    for try await var buffer in inbound {
                        bytes.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
                        if done(bytes) { return RawExchange(bytes: bytes, closedByPeer: false) }
                    }
                    return RawExchange(bytes: bytes, closedByPeer: true)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let first else { throw TestHTTPError(description: "raw exchange timed out") }
                return first
            }
        }
    }

    /// A GET with `Connection: close`.
    static func get(port: Int, _ path: String, timeout: Duration = .seconds(10),
                    until done: @escaping @Sendable ([UInt8]) -> Bool = { _ in false }) async throws -> RawExchange
    {
        try await exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                           timeout: timeout, until: done)
    }

    /// True once the terminating chunk has arrived.
    static func endsChunkedBody(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 5 && Array(bytes.suffix(5)) == Array("0\r\n\r\n".utf8)
    }
}
