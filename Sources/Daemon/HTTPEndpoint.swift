import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// What `/readyz` reports.
struct Readiness: Sendable {
    var ready: Bool
    /// One line per fact, e.g. "caches: synced", "leadership: leader", "member nfs-a: healthy".
    var details: [String]
}

/// The daemon's HTTP endpoint: `/metrics` (Prometheus text format), `/healthz` (the
/// process is alive and serving), `/readyz` (200 when ready, 503 otherwise, with details).
/// A small SwiftNIO HTTP/1.1 server run as a service: graceful shutdown stops it and
/// closes its connections.
struct HTTPEndpointService: Service {
    let host: String
    let port: Int
    let metrics: @Sendable () -> [UInt8]
    let readiness: @Sendable () async -> Readiness
    let logger: Logger
    /// Receives the bound port (useful with port 0).
    let onBound: @Sendable (Int) -> Void

    /// Parses `[host]:port`, `host:port` or `:port` (all interfaces).
    static func parseAddress(_ text: String) -> (host: String, port: Int)? {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return nil }  // bare IPv6 needs brackets
        } else {
            return nil
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let boundPort = server.channel.localAddress?.port ?? port
        logger.info("serving /metrics, /healthz and /readyz", metadata: ["address": "\(host):\(boundPort)"])
        onBound(boundPort)
        // On graceful shutdown everything here is cancelled: the listener and any kept-alive
        // connections (a scraper's idle connection must not hold the process up).
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await self.serve(connection) }
                        }
                    }
                }
            }
        } catch {
            // Stopped by the shutdown: not a failure of the service.
            if Task.isCancelled || error is CancellationError { return }
            try Task.checkCancellation()
            throw error
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let h): head = h
                    case .body: break
                    case .end:
                        guard let h = head else { continue }
                        let (status, type, body) = await respond(to: h)
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: type)
                        headers.add(name: "Content-Length", value: "\(body.count)")
                        if !h.isKeepAlive { headers.add(name: "Connection", value: "close") }
                        try await outbound.write(.head(HTTPResponseHead(version: h.version, status: status, headers: headers)))
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                        try await outbound.write(.end(nil))
                        if !h.isKeepAlive { return }
                        head = nil
                    }
                }
            }
        } catch {
            logger.debug("HTTP connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    private func respond(to head: HTTPRequestHead) async -> (HTTPResponseStatus, String, [UInt8]) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "text/plain; charset=utf-8", Array("only GET\n".utf8))
        }
        switch path {
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics())
        case "/healthz", "/livez":
            return (.ok, "text/plain; charset=utf-8", Array("ok\n".utf8))
        case "/readyz":
            let r = await readiness()
            let text = (r.ready ? "ready\n" : "not ready\n") + r.details.map { $0 + "\n" }.joined()
            return (r.ready ? .ok : .serviceUnavailable, "text/plain; charset=utf-8", Array(text.utf8))
        default:
            return (.notFound, "text/plain; charset=utf-8", Array("not found: try /metrics, /healthz or /readyz\n".utf8))
        }
    }
}
