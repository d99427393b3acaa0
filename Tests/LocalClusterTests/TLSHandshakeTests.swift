// The TLS handshake does not wait for the server's Swift tasks: a connection accepted while
// nothing consumes the listener (as when the cooperative pool is busy) still completes its
// handshake, and the request it sends meanwhile is answered once serving starts.

import Foundation
@testable import LocalCluster
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization
import Testing
import TestSupport

/// Client side of one raw TLS connection: when the handshake completed, and every byte the
/// server sent until it closed.
private final class HandshakeWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let handshake: EventLoopPromise<Void>
    let reply: EventLoopPromise<String>
    private let received = Mutex("")

    init(eventLoop: any EventLoop) {
        handshake = eventLoop.makePromise()
        reply = eventLoop.makePromise()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { handshake.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        received.withLock { $0 += String(buffer: buffer) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.fail(ChannelError.eof)
        reply.succeed(received.withLock { $0 })
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        handshake.fail(error)
        reply.fail(error)
        context.close(promise: nil)
    }
}

@Suite("TLS handshake")
struct TLSHandshakeTests {
    @Test func handshakeCompletesBeforeTheServerServes_andTheHeldRequestIsAnswered() async throws {
        let certificates = try await LocalClusterTLS.makeCertificates()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        var configuration = LocalClusterConfiguration()
        configuration.tls = .init(certificateChainPath: certificates.certificatePath, privateKeyPath: certificates.keyPath,
                                  certificateAuthorityPath: certificates.caPath)
        let registry = Registry(store: ObjectStore(historyLimit: configuration.historyLimit), clock: configuration.clock,
                                addsProtectionFinalizers: configuration.addsProtectionFinalizers,
                                tooLargeResourceVersionWait: configuration.tooLargeResourceVersionWait,
                                seed: configuration.seed)
        let handler = APIHandler(registry: registry, faults: FaultInjector(seed: configuration.seed, logLimit: 10),
                                 configuration: configuration)
        // Bound, but not serving: nothing takes connections out of the listener yet.
        let server = try await HTTPServer.bind(configuration: configuration, handler: handler)

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificates.caPath))
        let clientContext = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.any()
        let watcher = HandshakeWatcher(eventLoop: eventLoop)
        let channel = try await ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        NIOSSLClientHandler(context: clientContext, serverHostname: "localhost"), watcher)
                }
            }
            .connect(host: "127.0.0.1", port: server.port).get()
        // Bounded: without the fix the handshake waits for `serve`, which never runs here.
        let giveUp = eventLoop.scheduleTask(in: .seconds(10)) {
            watcher.handshake.fail(ChannelError.connectTimeout(.seconds(10)))
        }
        var handshakeError: (any Error)?
        do { try await watcher.handshake.futureResult.get() } catch { handshakeError = error }
        giveUp.cancel()
        #expect(handshakeError == nil, "the handshake did not complete: \(handshakeError.map { "\($0)" } ?? "")")

        // Sent before the server serves: held on the server until it does. (Without a
        // handshake the client keeps the write until there is one: do not wait for it then.)
        let noAnswer = eventLoop.scheduleTask(in: .seconds(30)) { channel.close(promise: nil) }
        let request = "GET /version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        let written = eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(ByteBuffer(string: request), promise: written)
        if handshakeError == nil { try await written.futureResult.get() }
        let serving = Task { await server.run() }
        let reply = try await watcher.reply.futureResult.get()
        noAnswer.cancel()
        await server.close()
        await serving.value
        #expect(reply.hasPrefix("HTTP/1.1 200"), "reply: \(reply.prefix(200))")
        #expect(reply.contains("gitVersion"))
    }
}
