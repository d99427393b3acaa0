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

/// How many connections the HTTP endpoint keeps, and for how long without a request.
struct HTTPConnectionLimits: Sendable {
    /// A connection that makes no progress for this long is closed (`--http-idle-timeout`):
    /// no whole request since it opened or since the last response, or a response not
    /// taken.
    var idleTimeout: Duration = .seconds(10)
    /// The most connections open at once (`--http-max-connections`). A connection beyond
    /// it closes the one idle the longest; if none is idle, the new one is closed.
    var maximumConnections: Int = 64
}

/// The daemon's HTTP endpoint: `/metrics` (Prometheus text format), `/healthz` (the
/// process is alive and serving), `/readyz` (200 when ready, 503 otherwise, with details).
/// A small SwiftNIO HTTP/1.1 server run as a service: graceful shutdown stops it and
/// closes its connections.
///
/// It is unauthenticated and, by default, on every interface, so it bounds what a client
/// can hold: connections that send no (whole) request are closed after
/// ``HTTPConnectionLimits/idleTimeout``, and at most
/// ``HTTPConnectionLimits/maximumConnections`` are open (a new one evicts the longest
/// idle), so idle connections cannot take the file descriptors that the API watches and
/// the members need, nor keep the kubelet's probes out.
struct HTTPEndpointService: Service {
    let host: String
    let port: Int
    var limits = HTTPConnectionLimits()
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
        let connections = ConnectionTable(maximum: limits.maximumConnections)
        let idleTimeout = TimeAmount.nanoseconds(Int64(clamping: limits.idleTimeout.components.seconds * 1_000_000_000
            + limits.idleTimeout.components.attoseconds / 1_000_000_000))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        IdleConnectionHandler(table: connections, idleTimeout: idleTimeout))
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

/// The open connections of the endpoint: which are idle (no request in progress) and
/// since when, to evict the longest idle when the table is full.
final class ConnectionTable: Sendable {
    private struct Entry {
        var channel: any Channel
        /// nil while a request is in progress; otherwise when it became idle (a sequence
        /// number: only the order matters).
        var idleSince: UInt64?
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var clock: UInt64 = 0
    }

    let maximum: Int
    private let state = Mutex(State())

    init(maximum: Int) { self.maximum = max(1, maximum) }

    /// Registers a new connection (idle until its first request). When the table is full,
    /// the longest-idle connection is closed to make room; when every connection is busy,
    /// the new one is refused (false).
    func admit(_ channel: any Channel) -> Bool {
        let evicted: (any Channel)?? = state.withLock { s in
            var victim: (any Channel)?
            if s.entries.count >= maximum {
                guard let oldest = s.entries.filter({ $0.value.idleSince != nil })
                    .min(by: { $0.value.idleSince! < $1.value.idleSince! }) else { return .none }
                s.entries[oldest.key] = nil
                victim = oldest.value.channel
            }
            s.clock += 1
            s.entries[ObjectIdentifier(channel)] = Entry(channel: channel, idleSince: s.clock)
            return .some(victim)
        }
        guard let evicted else { return false }
        evicted?.close(promise: nil)
        return true
    }

    func setBusy(_ channel: any Channel, _ busy: Bool) {
        state.withLock { s in
            guard s.entries[ObjectIdentifier(channel)] != nil else { return }
            s.clock += 1
            s.entries[ObjectIdentifier(channel)]?.idleSince = busy ? nil : s.clock
        }
    }

    func remove(_ channel: any Channel) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    var count: Int { state.withLock { $0.entries.count } }
}

/// Closes a connection that makes no progress for `idleTimeout`: one that sends no request,
/// or sends its request (head or body) too slowly, or keeps an idle keep-alive connection
/// after a response, or does not read its response. One rolling timer, restarted when the
/// connection opens, when a request has arrived whole and when a response has been
/// written. Keeps the connection table current (busy from a request's head to its
/// response's end: only idle connections are evicted).
final class IdleConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let table: ConnectionTable
    private let idleTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var requestsInProgress = 0

    init(table: ConnectionTable, idleTimeout: TimeAmount) {
        self.table = table
        self.idleTimeout = idleTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        guard table.admit(context.channel) else {
            context.close(promise: nil)
            return
        }
        restartTimer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        table.remove(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestsInProgress += 1
            table.setBusy(context.channel, true)
        case .body:
            break
        case .end:
            // The request is whole; now the response must be written (and read) in time.
            restartTimer(context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            requestsInProgress = max(0, requestsInProgress - 1)
            if requestsInProgress == 0 { table.setBusy(context.channel, false) }
            restartTimer(context)
        }
        context.write(data, promise: promise)
    }

    private func restartTimer(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: idleTimeout) {
            channel.close(promise: nil)
        }
    }
}
