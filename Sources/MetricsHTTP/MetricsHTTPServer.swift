import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The `[metrics]` listener (docs/design.md §8): plain HTTP/1.1 on one TCP address,
/// `GET /metrics` (and `HEAD`) answered with the exposition, 404 for any other path, 405
/// for another method on it. No authentication and no admin rights: it serves the same
/// aggregates as the control socket's `metrics`, which anyone who can connect may read.
///
/// SwiftNIO's HTTP1 codec rather than Hummingbird: the daemon already links NIOHTTP1 (through
/// async-http-client), and one route needs no router, middleware or a second server stack.
///
/// Bound in two steps so that a bad address (in use, not on this machine) stops the start
/// before READY=1: `bind` takes the socket, `serve` answers on it until cancelled.
public struct MetricsHTTPServer: Sendable {
    /// The text to serve, or a thrown error for a 500 (its description is not sent).
    public typealias Exposition = @Sendable () async throws -> String

    public struct Bound: Sendable {
        fileprivate let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        /// The port the socket has (the one asked for, or the kernel's pick for 0).
        public let port: Int
    }

    public let contentType: String
    /// A connection with no request under way for this long is closed.
    public var idleTimeout: Duration
    let logger: Logger

    public init(contentType: String, idleTimeout: Duration = .seconds(60), logger: Logger) {
        self.contentType = contentType
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    public func bind(host: String, port: Int) async throws -> Bound {
        let idle = TimeAmount.nanoseconds(
            Int64(idleTimeout.components.seconds) * 1_000_000_000 + idleTimeout.components.attoseconds / 1_000_000_000)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try child.pipeline.syncOperations.addHandler(CloseWhenIdle())
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: child)
                }
            }
        return Bound(channel: channel, port: channel.channel.localAddress?.port ?? port)
    }

    /// Answers on `bound` until the calling task is cancelled; then closes it.
    public func serve(_ bound: Bound, exposition: @escaping Exposition) async throws {
        let server = bound.channel
        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await answer(connection, exposition: exposition) }
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    private func answer(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, exposition: Exposition
    ) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var request: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        request = head
                    case .body:
                        continue
                    case .end:
                        guard let head = request else { continue }
                        request = nil
                        let (status, headers, body) = await response(to: head, exposition: exposition)
                        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
                        if head.method != .HEAD, let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
                        try await outbound.write(.end(nil))
                        if !head.isKeepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("metrics connection ended early", metadata: ["error": "\(error)"])
        }
    }

    private func response(to head: HTTPRequestHead, exposition: Exposition) async -> (HTTPResponseStatus, HTTPHeaders, String?) {
        let path = head.uri.prefix { $0 != "?" }
        var headers = HTTPHeaders()
        guard path == "/metrics" else {
            return Self.plain(.notFound, "not found: the exposition is at /metrics\n", headers: headers)
        }
        guard head.method == .GET || head.method == .HEAD else {
            headers.add(name: "Allow", value: "GET, HEAD")
            return Self.plain(.methodNotAllowed, "method not allowed: use GET\n", headers: headers)
        }
        do {
            let text = try await exposition()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(text.utf8.count))
            return (.ok, headers, text)
        } catch {
            logger.error("the metrics exposition failed", metadata: ["error": "\(error)"])
            return Self.plain(.internalServerError, "the exposition could not be read; see the daemon's log\n", headers: headers)
        }
    }

    private static func plain(_ status: HTTPResponseStatus, _ text: String, headers: HTTPHeaders) -> (HTTPResponseStatus, HTTPHeaders, String?) {
        var headers = headers
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        return (status, headers, text)
    }
}

/// Closes a connection when `IdleStateHandler` says nothing was read for its timeout: a
/// scraper that keeps its connection between scrapes reads again within the interval.
private final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
