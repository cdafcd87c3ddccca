import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP server on a loopback port that answers what the test tells it to, and
/// records what it received. It plays the answers whitebit-sim never gives: malformed
/// 2xx bodies, redirects, oversized or stalled bodies.
final class CannedHTTPServer: Sendable {
    enum Answer: Sendable {
        case respond(status: Int, body: String, headers: [(String, String)] = [])
        /// Sends the head announcing `bodyLength` bytes, then nothing.
        case stallAfterHead(bodyLength: Int)
        /// Closes the connection without a byte of answer.
        case close
    }

    struct Received: Sendable {
        let method: String
        let uri: String
        let headers: [(String, String)]
        let body: String

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        /// The form fields of an `application/x-www-form-urlencoded` body, decoded.
        var formFields: [String: String] {
            var fields: [String: String] = [:]
            for pair in body.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                fields[percentDecoded(parts[0])] = parts.count > 1 ? percentDecoded(parts[1]) : ""
            }
            return fields
        }

        private func percentDecoded(_ text: Substring) -> String {
            var bytes: [UInt8] = []
            var iterator = text.utf8.makeIterator()
            while let byte = iterator.next() {
                if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                   let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                    bytes.append(value)
                } else {
                    bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Shared between the server object and its connection handlers.
    private final class Shared: Sendable {
        let answers: Mutex<[Answer]>
        let received = Mutex<[Received]>([])

        init(answers: [Answer]) { self.answers = Mutex(answers) }

        func next() -> Answer { answers.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] } }
        func record(_ request: Received) { received.withLock { $0.append(request) } }
    }

    private let channel: any Channel
    private let shared: Shared
    let port: Int

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var received: [Received] { shared.received.withLock { $0 } }

    /// Serves `answers` in order, one per request; the last one repeats.
    init(answers: [Answer]) async throws {
        precondition(!answers.isEmpty)
        let shared = Shared(answers: answers)
        self.shared = shared
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(next: shared.next, record: shared.record)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async throws {
        try await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let next: @Sendable () -> Answer
        let record: @Sendable (Received) -> Void
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(next: @escaping @Sendable () -> Answer, record: @escaping @Sendable (Received) -> Void) {
            self.next = next
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let head else { return }
                record(Received(
                    method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                    body: String(decoding: body, as: UTF8.self)
                ))
                answer(next(), context: context)
            }
        }

        private func answer(_ answer: Answer, context: ChannelHandlerContext) {
            switch answer {
            case .close:
                context.close(promise: nil)
            case .stallAfterHead(let length):
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: String(length))
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                    promise: nil
                )
            case .respond(let status, let text, let extra):
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(text.utf8.count))
                for (name, value) in extra { headers.add(name: name, value: value) }
                let responseHead = HTTPResponseHead(
                    version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers
                )
                context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
