import Glibc
import Logging
import NIOCore
import NIOPosix

/// The control socket (docs/design.md §7): a stream Unix socket; the client sends one
/// line, gets one answer, and the connection closes. SwiftNIO does the socket work;
/// the kernel's SO_PEERCRED says who is asking. Limits: line length, idle timeout,
/// a bounded number of connections (the longest-idle one makes room for a newcomer; when
/// all are busy answering, the newcomer is refused), and a deadline for each reply to be
/// read, so a client that never reads cannot keep its connection.
///
/// A handler may instead hold the connection (`ControlAnswer.held`: `events`, `wait`,
/// docs/design.md §12). A held connection leaves the ordinary slots, so subscribers and
/// waiters never crowd out `status`; held connections have their own cap
/// (`maxHeldConnections`), and each one's unread output is bounded (`maxHeldPendingBytes`).
public struct ControlServer: Sendable {
    public enum Listener: Sendable {
        /// Bind this path; the socket gets `mode` and, when given, group `gid`.
        case path(String, mode: mode_t, gid: gid_t?)
        /// A listening socket systemd passed (socket activation).
        case inherited(descriptor: Int32)
    }

    public typealias Handler = @Sendable (_ line: String, _ peer: PeerCredentials) async -> String
    /// The same, for a handler that may hold the connection open.
    public typealias AnswerHandler = @Sendable (_ line: String, _ peer: PeerCredentials) async -> ControlAnswer
    /// Called on the event loop with the framed line: an answer, or nil to hand the
    /// line to the async `Handler`. It must not block (no I/O, no waiting on locks
    /// held across I/O): every connection on that loop waits while it runs.
    public typealias ImmediateHandler = @Sendable (_ line: String, _ peer: PeerCredentials) -> String?

    public var listener: Listener
    public var maxConnections: Int
    public var idleTimeout: Duration
    public var maxLineBytes: Int
    /// How long a client has to read its whole reply once the first byte is written.
    public var replyTimeout: Duration
    /// Held connections open at once in each group (`events` subscribers, `wait`ers); one
    /// more is answered with an error and closed.
    public var maxHeldConnections: Int
    /// What a held connection may have written and its client not yet read (beyond what
    /// the kernel's socket buffer holds) before `ControlStream.send` answers `.overflow`.
    public var maxHeldPendingBytes: Int
    let logger: Logger

    public static let defaultMaxHeldConnections = 64
    public static let defaultMaxHeldPendingBytes = 1 << 20

    public init(
        listener: Listener, maxConnections: Int = 64, idleTimeout: Duration = .seconds(5), maxLineBytes: Int = 4096,
        replyTimeout: Duration = .seconds(10), maxHeldConnections: Int = ControlServer.defaultMaxHeldConnections,
        maxHeldPendingBytes: Int = ControlServer.defaultMaxHeldPendingBytes, logger: Logger
    ) {
        self.listener = listener
        self.maxConnections = maxConnections
        self.maxHeldConnections = maxHeldConnections
        self.maxHeldPendingBytes = maxHeldPendingBytes
        self.idleTimeout = idleTimeout
        self.maxLineBytes = maxLineBytes
        self.replyTimeout = replyTimeout
        self.logger = logger
    }

    /// Binds, calls `listening` once the socket accepts connections, then serves
    /// until the calling task is cancelled. Each line goes to `immediate` first when
    /// given, and to `handler` when `immediate` declines it.
    public func run(
        listening: @Sendable () async -> Void = {}, immediate: ImmediateHandler? = nil, handler: @escaping Handler
    ) async throws {
        try await run(listening: listening, immediate: immediate, answering: { line, peer in .reply(await handler(line, peer)) })
    }

    /// The same, with a handler that may hold connections open (`ControlAnswer.held`).
    public func run(
        listening: @Sendable () async -> Void = {}, immediate: ImmediateHandler? = nil, answering handler: @escaping AnswerHandler
    ) async throws {
        let timeout = Self.timeAmount(idleTimeout)
        let replyTimeout = Self.timeAmount(replyTimeout)
        let maxLineBytes = maxLineBytes
        let maxConnections = maxConnections
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        // Admitted, marked and released in the pipeline, so that connections answered
        // on the event loop count against the limit like the others.
        let slots = ConnectionSlots(capacity: maxConnections)
        let held = HeldConnections(capacity: maxHeldConnections)
        let initializer: @Sendable (Channel) -> EventLoopFuture<NIOAsyncChannel<String, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ReplyDeadlineHandler(timeout: replyTimeout), name: ReplyDeadlineHandler.name)
                guard let slot = slots.admit(channel) else {
                    try channel.pipeline.syncOperations.addHandler(OverCapacityHandler(capacity: maxConnections))
                    return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
                channel.closeFuture.whenComplete { _ in slots.release(slot) }
                try channel.pipeline.syncOperations.addHandler(
                    CommandLineHandler(maxBytes: maxLineBytes, idleTimeout: timeout, lineReceived: { slots.lineReceived(slot) }))
                if let immediate {
                    try channel.pipeline.syncOperations.addHandler(ImmediateAnswerHandler(answer: immediate))
                }
                return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        let server: NIOAsyncChannel<NIOAsyncChannel<String, ByteBuffer>, Never>
        switch listener {
        case .path(let path, let mode, let gid):
            server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            try secure(path: path, mode: mode, gid: gid)
        case .inherited(let descriptor):
            server = try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
        }
        await listening()
        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask {
                            await serve(connection, slots: slots, held: held, handler: handler)
                        }
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    private func serve(
        _ connection: NIOAsyncChannel<String, ByteBuffer>, slots: ConnectionSlots, held: HeldConnections, handler: AnswerHandler
    ) async {
        do {
            try await connection.executeThenClose { inbound, _ in
                var lines = inbound.makeAsyncIterator()
                // None when the line was answered on the event loop or refused there.
                guard let line = try await lines.next() else { return }
                let peer = try await PeerCredentials.of(connection.channel)
                switch await handler(line, peer) {
                case .reply(let reply):
                    // Awaited to the last byte: `outbound.write` returns once the write is queued,
                    // and the close that follows would drop whatever the socket had not taken
                    // yet (a reply larger than its buffer). The reply deadline bounds the wait.
                    try await connection.channel.writeAndFlush(ByteBuffer(string: reply)).get()
                case .held(let group, let body):
                    try await hold(connection.channel, group: group, slots: slots, held: held, body: body)
                }
            }
        } catch {
            logger.debug("control connection ended early", metadata: ["error": "\(error)"])
        }
    }

    /// Moves the connection from the ordinary slots to the held ones and runs `body` until
    /// it returns (then its last lines are flushed) or the client leaves (then it is
    /// cancelled). Returns once the connection has closed.
    private func hold(
        _ channel: Channel, group: String, slots: ConnectionSlots, held: HeldConnections,
        body: @escaping @Sendable (ControlStream) async -> Void
    ) async throws {
        guard held.take(group) else {
            let refusal = "error: too many held connections (all \(maxHeldConnections) for \(group) are taken); try again shortly\n"
            try await channel.writeAndFlush(ByteBuffer(string: refusal)).get()
            return
        }
        defer { held.release(group) }
        slots.release(channel)
        try await channel.pipeline.removeHandler(name: ReplyDeadlineHandler.name).get()
        let stream = ControlStream(channel: channel, maxPendingBytes: maxHeldPendingBytes, endGrace: Self.timeAmount(replyTimeout))
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await body(stream)
                return true
            }
            group.addTask {
                try? await channel.closeFuture.get()
                return false
            }
            // The body first: end the stream; the connection closes once its lines are out.
            // The client first: the body is told to stop.
            if await group.next() == true {
                stream.end()
            } else {
                group.cancelAll()
            }
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Sets the socket's group and mode right after bind. The daemon runs with
    /// umask 077, so until this the socket is reachable by its owner only.
    private func secure(path: String, mode: mode_t, gid: gid_t?) throws {
        if let gid, chown(path, uid_t.max, gid) != 0 {
            throw ControlSocketError.cannotSecure(path: path, errno: errno)
        }
        if chmod(path, mode) != 0 {
            throw ControlSocketError.cannotSecure(path: path, errno: errno)
        }
    }
}
