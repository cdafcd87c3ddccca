import NIOCore

/// Answers a framed line on the event loop when `answer` can, so that cheap
/// commands (`status`) skip the hand-offs to Swift concurrency and back: a busy
/// pool delays each of them. A line `answer` declines goes on to the async side
/// unchanged. An answered connection closes the way `NIOAsyncChannel` closes one
/// after the async handler: reply written and flushed, then the channel closed.
final class ImmediateAnswerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = String
    typealias InboundOut = String
    typealias OutboundOut = ByteBuffer

    private let answer: ControlServer.ImmediateHandler

    init(answer: @escaping ControlServer.ImmediateHandler) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        // On the channel's event loop the kernel is asked right away and the future
        // is already complete, so this callback runs inline.
        PeerCredentials.future(of: context.channel).whenComplete { result in
            let (handler, context) = loopBound.value
            if case .success(let peer) = result, let reply = handler.answer(line, peer) {
                let channel = context.channel
                context.writeAndFlush(handler.wrapOutboundOut(channel.allocator.buffer(string: reply))).whenComplete { _ in
                    channel.close(promise: nil)
                }
            } else {
                context.fireChannelRead(handler.wrapInboundOut(line))
                context.fireChannelReadComplete()
            }
        }
    }
}
