// The HTTP/1.1 (optionally TLS) server on SwiftNIO: accepts connections, reads requests,
// hands them to the APIHandler and writes replies. One task per connection, all children of
// the server's task group; shutdown closes the listener and every connection.

import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

typealias HTTPConnection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

/// Every accepted connection, and whether the server is closing. One lock for both: a
/// connection is either closed by `closeAll()` or refused when it registers.
final class ConnectionRegistry: Sendable {
    let state = Mutex<(open: [ObjectIdentifier: any Channel], closing: Bool)>(([:], false))

    /// Registers a new connection; false when the server is closing.
    func register(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            if !state.closing { state.open[id] = channel }
            return !state.closing
        }
        if accepted {
            channel.closeFuture.whenComplete { _ in _ = self.state.withLock { $0.open.removeValue(forKey: id) } }
        }
        return accepted
    }

    var isClosing: Bool { state.withLock { $0.closing } }

    func closeAll() {
        let open = state.withLock { state in
            state.closing = true
            return Array(state.open.values)
        }
        for channel in open { channel.close(promise: nil) }
    }
}

final class HTTPServer: Sendable {
    let handler: APIHandler
    let listener: NIOAsyncChannel<any Channel, Never>
    let connections: ConnectionRegistry
    let logger: Logger

    /// The bound port.
    let port: Int

    private init(handler: APIHandler, listener: NIOAsyncChannel<any Channel, Never>, connections: ConnectionRegistry,
                 port: Int, logger: Logger)
    {
        self.handler = handler
        self.listener = listener
        self.connections = connections
        self.port = port
        self.logger = logger
    }

    /// Binds the listening socket (fast: no I/O beyond bind/listen).
    ///
    /// Accepted connections come out of the listener as plain channels that do not read yet
    /// (autoRead off; with TLS, only the handshake reads: see TLSHandshakeHold); `serve`
    /// builds their HTTP pipeline and async wrapper and then starts reading. An async channel
    /// made in the accept initializer could be dropped unconsumed when the listener closes at
    /// the same moment, and NIO traps on such a writer ("Deinited NIOAsyncWriter without
    /// calling finish()"); a plain channel is just closed.
    static func bind(configuration: LocalClusterConfiguration, handler: APIHandler) async throws -> HTTPServer {
        let sslContext: NIOSSLContext?
        if let tls = configuration.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
            sslContext = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        } else {
            sslContext = nil
        }
        let connections = ConnectionRegistry()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: false)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard connections.register(channel) else { throw ChannelError.ioOnClosedChannel }
                    if let sslContext {
                        // The handshake runs now, on the event loop (see TLSHandshakeHold).
                        try channel.pipeline.syncOperations.addHandlers(NIOSSLServerHandler(context: sslContext),
                                                                        TLSHandshakeHold())
                    }
                    return channel
                }
            }
        guard let port = listener.channel.localAddress?.port else {
            try await listener.channel.close()
            throw LocalClusterError.bindFailed(host: configuration.host, port: configuration.port, reason: "no local port after bind")
        }
        return HTTPServer(handler: handler, listener: listener, connections: connections,
                          port: port, logger: configuration.logger)
    }

    /// Accepts connections until the listener closes (shutdown closes it and every
    /// connection, so this returns once their tasks have ended).
    func run() async {
        do {
            try await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await channel in inbound {
                        group.addTask { await self.serve(channel) }
                    }
                }
            }
        } catch {
            logger.debug("LocalCluster listener ended", metadata: ["error": "\(error)"])
        }
    }

    /// Closes the listener and every open connection.
    func close() async {
        connections.closeAll()
        do {
            try await listener.channel.close()
        } catch {
            logger.debug("LocalCluster listener close", metadata: ["error": "\(error)"])
        }
    }

    /// Builds the connection's HTTP pipeline (behind the TLS handlers added when it was
    /// accepted), wraps it for async use, hands on what TLS held and starts reading.
    func wrap(_ channel: any Channel) async throws -> HTTPConnection {
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            let connection = try HTTPConnection(wrappingChannelSynchronously: channel)
            if let hold = try? channel.pipeline.syncOperations.handler(type: TLSHandshakeHold.self) {
                hold.release()
            }
            try channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
            return connection
        }.get()
    }

    func serve(_ channel: any Channel) async {
        let connection: HTTPConnection
        do {
            guard !connections.isClosing else { throw ChannelError.ioOnClosedChannel }
            connection = try await wrap(channel)
        } catch {
            channel.close(promise: nil)
            return
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                var tooLarge = false
                let limit = handler.configuration.maxRequestBodyBytes
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body = []
                        tooLarge = false
                    case .body(var buffer):
                        if body.count + buffer.readableBytes > limit {
                            tooLarge = true
                        } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                            body.append(contentsOf: bytes)
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let keepGoing = try await respond(to: requestHead, body: body, tooLarge: tooLarge,
                                                          channel: channel, outbound: outbound)
                        if !keepGoing { return }
                    }
                }
            }
        } catch {
            logger.trace("LocalCluster connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Handles one request; returns whether the connection may serve another.
    func respond(to head: HTTPRequestHead, body: [UInt8], tooLarge: Bool, channel: any Channel,
                 outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws -> Bool
    {
        let (path, rawQuery) = Self.splitURI(head.uri)
        var headers: [String: String] = [:]
        for (name, value) in head.headers { headers[name.lowercased()] = value }
        let request = HTTPRequest(method: head.method.rawValue, path: path, rawQuery: rawQuery,
                                  query: Router.parseQuery(rawQuery), headers: headers, body: body, bodyTooLarge: tooLarge)
        let (reply, verb, fault) = await handler.handle(request)
        logger.trace("LocalCluster request", metadata: [
            "method": "\(request.method)", "path": "\(path)", "query": "\(rawQuery)",
            "fault": "\(fault.map { String($0.id) } ?? "-")",
        ])
        var record = RequestRecord(method: request.method, path: path, query: rawQuery, verb: verb, status: nil, fault: fault)
        let keepAlive = head.isKeepAlive
        switch reply {
        case .drop:
            handler.faults.record(record)
            try await channel.close()
            return false
        case .response(let status, let extraHeaders, let bytes):
            var responseHeaders = HTTPHeaders(extraHeaders)
            responseHeaders.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
            if !keepAlive { responseHeaders.replaceOrAdd(name: "Connection", value: "close") }
            record.status = status
            handler.faults.record(record)
            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: status),
                                                            headers: responseHeaders)))
            if !bytes.isEmpty, head.method != .HEAD {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            }
            try await outbound.write(.end(nil))
            return keepAlive
        case .watch(let plan):
            record.status = 200
            handler.faults.record(record)
            let streamer = WatchStreamer(handler: handler, plan: plan, channel: channel, writer: outbound, version: head.version)
            switch try await streamer.run() {
            case .clean: return keepAlive && channel.isActive
            case .dropped: return false
            }
        }
    }

    static func splitURI(_ uri: String) -> (String, String) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<mark]), String(uri[uri.index(after: mark)...]))
    }
}
