// Lets a TLS connection finish its handshake on the event loop before the server's task
// for that connection runs, and keeps what the client sends afterwards until it does.
//
// Accepted connections do not read until `HTTPServer.serve` wraps them (see
// `HTTPServer.bind`). For plain HTTP that only delays the request. For HTTPS it would also
// delay the handshake, and clients bound the handshake by their connect timeout
// (async-http-client: 10 s by default), so a server whose Swift tasks are slow to be
// scheduled (a busy cooperative pool) would look unreachable. This handler sits right after
// `NIOSSLServerHandler` from the moment the connection is accepted: it asks for one read
// when the connection becomes active, NIOSSL keeps reading while the handshake has produced
// no plaintext, and the first plaintext (at most one read's worth: reading stops because
// autoRead is off) is held here. `release` hands it on once the HTTP pipeline and the async
// wrapper are in place, and removes the handler.

import NIOCore

final class TLSHandshakeHold: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var held: [ByteBuffer] = []
    private var heldReadComplete = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Added to a channel that is active already: start the handshake's reads now.
        if context.channel.isActive { context.read() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        heldReadComplete = true
    }

    /// Hands on what was held and leaves the pipeline. Call on the channel's event loop,
    /// after the handlers that consume the plaintext have been added behind this one.
    func release() {
        guard let context else { return }
        let buffers = held
        held = []
        for buffer in buffers { context.fireChannelRead(wrapInboundOut(buffer)) }
        if heldReadComplete || !buffers.isEmpty { context.fireChannelReadComplete() }
        heldReadComplete = false
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
