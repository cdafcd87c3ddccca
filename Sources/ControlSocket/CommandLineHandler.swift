import NIOCore

/// The first line a client sends, framed in the channel pipeline so that limits hold
/// before any async code runs: at most `maxBytes`, within `idleTimeout` of
/// connecting. A client that breaks either gets one `error: …` line and is closed.
/// End of input without a newline counts as the line (`printf status | socat …`).
final class CommandLineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = String
    typealias OutboundOut = ByteBuffer

    private let maxBytes: Int
    private let idleTimeout: TimeAmount
    private var buffer = ByteBuffer()
    private var timeout: Scheduled<Void>?
    private var delivered = false

    init(maxBytes: Int, idleTimeout: TimeAmount) {
        self.maxBytes = maxBytes
        self.idleTimeout = idleTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: idleTimeout) {
            let (handler, context) = loopBound.value
            handler.refuse(context: context, "idle timeout: send one command line within the time limit")
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !delivered else { return }
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex
            guard length <= maxBytes else { return refuse(context: context, "line longer than \(maxBytes) bytes") }
            var line = buffer.readString(length: length) ?? ""
            if line.hasSuffix("\r") { line.removeLast() }
            deliver(context: context, line)
        } else if buffer.readableBytes > maxBytes {
            refuse(context: context, "line longer than \(maxBytes) bytes")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Half-close from the client: what it sent so far is its line.
        if let event = event as? ChannelEvent, event == .inputClosed, !delivered {
            deliver(context: context, buffer.readString(length: buffer.readableBytes) ?? "")
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func deliver(context: ChannelHandlerContext, _ line: String) {
        delivered = true
        timeout?.cancel()
        buffer.clear()
        context.fireChannelRead(wrapInboundOut(line))
        // Reads reach the async side on read-complete; a line delivered on half-close
        // comes after the last one, so announce it ourselves.
        context.fireChannelReadComplete()
    }

    private func refuse(context: ChannelHandlerContext, _ message: String) {
        guard !delivered else { return }
        delivered = true
        timeout?.cancel()
        let channel = context.channel
        let reply = channel.allocator.buffer(string: "error: \(message)\n")
        context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
    }
}
