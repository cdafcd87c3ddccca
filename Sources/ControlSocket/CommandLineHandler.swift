import NIOCore

/// The first line a client sends, framed in the channel pipeline so that limits hold
/// before any async code runs: at most `maxBytes`, within `idleTimeout` of
/// connecting. A client that breaks either gets one `error: …` line and is closed.
/// End of input without a newline counts as the line (`printf status | socat …`).
/// Sent down a connection's pipeline to make room for a newcomer.
struct Eviction: Sendable {}

final class CommandLineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = String
    typealias OutboundOut = ByteBuffer

    private let maxBytes: Int
    private let idleTimeout: TimeAmount
    private var buffer = ByteBuffer()
    private var timeout: Scheduled<Void>?
    private var delivered = false
    private var refused = false
    private let lineReceived: () -> Void

    init(maxBytes: Int, idleTimeout: TimeAmount, lineReceived: @escaping () -> Void = {}) {
        self.maxBytes = maxBytes
        self.idleTimeout = idleTimeout
        self.lineReceived = lineReceived
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
        // After a line or a refusal, whatever else arrives is read and dropped.
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
        if event is Eviction {
            refuse(context: context, "too many connections; closing the longest-idle one")
            return
        }
        // Half-close from the client: what it sent so far is its line.
        if let event = event as? ChannelEvent, event == .inputClosed {
            if refused {
                context.close(promise: nil)
            } else if !delivered {
                deliver(context: context, buffer.readString(length: buffer.readableBytes) ?? "")
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func deliver(context: ChannelHandlerContext, _ line: String) {
        delivered = true
        timeout?.cancel()
        buffer.clear()
        lineReceived()
        context.fireChannelRead(wrapInboundOut(line))
        // Reads reach the async side on read-complete; a line delivered on half-close
        // comes after the last one, so announce it ourselves.
        context.fireChannelReadComplete()
    }

    /// Answers with the error and closes our side only, then drains the client's
    /// input until it closes (or a second passes): closing with unread input would
    /// reset the connection and the client would never see why.
    private func refuse(context: ChannelHandlerContext, _ message: String) {
        guard !delivered else { return }
        delivered = true
        refused = true
        timeout?.cancel()
        buffer.clear()
        let channel = context.channel
        let reply = channel.allocator.buffer(string: "error: \(message)\n")
        context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        }
    }
}
