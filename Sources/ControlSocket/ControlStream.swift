import NIOCore
import Synchronization

/// What the async handler answers a line with: one reply, as every command had until
/// `events` and `wait` (docs/design.md §12), or a held connection that the handler keeps
/// open and writes to while it runs.
public enum ControlAnswer: Sendable {
    /// Written whole within the reply deadline, then the connection closes.
    case reply(String)
    /// The connection leaves the ordinary slots for one of `group`'s held ones
    /// (`ControlServer.maxHeldConnections` per group, so one kind of held connection cannot
    /// crowd out another), the reply deadline no longer applies, and `body` runs with the
    /// connection's `ControlStream`. The body is cancelled when the client goes away; when
    /// it returns, what it wrote is flushed and the connection closes.
    case held(group: String, @Sendable (ControlStream) async -> Void)
}

/// The write side of a held connection: lines go out in the order sent, through a
/// buffer of at most `maxPendingBytes` that the client has not yet taken. `send` never
/// waits: it is called from wherever the lines come from (the store's writer, for
/// `events`), and a client that does not read must cost its sender nothing. When the
/// buffer would overflow, `send` answers `.overflow` once and the stream takes nothing
/// more; the sender says why with `end(lastLine:)`.
public final class ControlStream: Sendable {
    public enum SendOutcome: Sendable, Equatable {
        case queued
        /// The client has more than `maxPendingBytes` unread: nothing of this was queued.
        case overflow
        /// Ended or closed: nothing was queued.
        case closed
    }

    private struct State {
        var pendingBytes = 0
        var ending = false
    }

    public let maxPendingBytes: Int
    let channel: Channel
    /// How long a client has to take the last line once the stream ends.
    let endGrace: TimeAmount
    private let state = Mutex(State())

    init(channel: Channel, maxPendingBytes: Int, endGrace: TimeAmount) {
        self.channel = channel
        self.maxPendingBytes = maxPendingBytes
        self.endGrace = endGrace
    }

    /// Queues `lines` (each ending in a newline) as one write.
    @discardableResult
    public func send(_ lines: [String]) -> SendOutcome {
        let bytes = lines.reduce(0) { $0 + $1.utf8.count }
        let outcome = state.withLock { state -> SendOutcome in
            if state.ending { return .closed }
            if state.pendingBytes + bytes > maxPendingBytes {
                state.ending = true
                return .overflow
            }
            state.pendingBytes += bytes
            return .queued
        }
        guard outcome == .queued, !lines.isEmpty else { return outcome }
        channel.eventLoop.execute { [self] in
            var buffer = channel.allocator.buffer(capacity: bytes)
            for line in lines { buffer.writeString(line) }
            channel.writeAndFlush(buffer).whenComplete { [self] _ in
                state.withLock { $0.pendingBytes -= bytes }
            }
        }
        return .queued
    }

    @discardableResult
    public func send(_ line: String) -> SendOutcome { send([line]) }

    /// Bytes queued and not yet taken by the client.
    public var pendingBytes: Int { state.withLock { $0.pendingBytes } }

    /// Writes `lastLine` after everything queued (even past the buffer's bound: it is
    /// one line), then closes our side. A client that does not take it within the grace
    /// (the reply deadline) is closed on anyway: holding its buffers longer would let it
    /// keep them for ever.
    public func end(lastLine: String? = nil) {
        state.withLock { $0.ending = true }
        let channel = channel
        let grace = endGrace
        channel.eventLoop.execute {
            var buffer = channel.allocator.buffer(capacity: lastLine?.utf8.count ?? 0)
            if let lastLine { buffer.writeString(lastLine) }
            let deadline = channel.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
            channel.writeAndFlush(buffer).whenComplete { result in
                guard case .success = result else { return }
                // Our side only, then a moment for the client to finish reading: closing
                // with its input unread would reset the connection (see CommandLineHandler).
                channel.close(mode: .output, promise: nil)
                deadline.cancel()
                channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
            }
        }
    }

    /// Returns once the connection has closed (the client left, or `end` finished).
    /// Cancelling the waiting task closes the connection.
    public func closed() async {
        let channel = channel
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    public var isClosed: Bool { !channel.isActive }
}
