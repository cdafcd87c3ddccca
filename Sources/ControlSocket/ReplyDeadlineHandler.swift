import NIOCore

/// Closes a connection whose reply is not drained in time. A client that asks for a
/// large answer (`grants` on a big store, `audit 1000`) and never reads would otherwise
/// keep its descriptor, its slot and the unsent reply forever; enough of them exhaust
/// the daemon's descriptors. The clock starts at the first byte written, so the time a
/// command takes to run does not count against the client.
final class ReplyDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    /// Its name in the pipeline: a held connection (`ControlAnswer.held`) removes it.
    static let name = "reply-deadline"

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if deadline == nil {
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: timeout) {
                // Closing fails the pending writes, which frees the reply's buffers.
                channel.close(promise: nil)
            }
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}

/// Answers a connection that arrived while every slot was busy with a reply: one
/// `error: …` line, written only as far as the fresh socket takes it at once (never
/// waited on), then the connection is closed. Nothing of it is kept.
final class OverCapacityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func channelActive(context: ChannelHandlerContext) {
        let reply = context.channel.allocator.buffer(
            string: "error: too many connections (all \(capacity) are busy answering); try again shortly\n")
        // The flush writes what the kernel takes without blocking; the close drops the rest.
        context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
