import ControlSocket
import Foundation
import Glibc
import Logging
import Synchronization
import Testing
import WBKeydHarness

/// `ControlAnswer.held` (docs/design.md §12): held connections outlive the reply
/// deadline while read, keep out of the ordinary slots, have their own cap, bound what a
/// client leaves unread, and end their body when the client leaves.
@Suite struct HeldConnectionTests {
    func withServer(
        maxConnections: Int = 64, replyTimeout: Duration = .seconds(10), maxHeld: Int = 64, maxPending: Int = 1 << 20,
        answering: @escaping ControlServer.AnswerHandler, _ body: (String) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("held-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("control.sock").path
        let server = ControlServer(
            listener: .path(path, mode: 0o600, gid: nil), maxConnections: maxConnections, replyTimeout: replyTimeout,
            maxHeldConnections: maxHeld, maxHeldPendingBytes: maxPending, logger: Logger(label: "test"))
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self)
        let task = Task { try await server.run(listening: { readyContinuation.yield() }, answering: answering) }
        for await _ in ready { break }
        defer { task.cancel() }
        try await body(path)
    }

    @Test func aHeldStreamThatIsReadOutlivesTheReplyDeadline() async throws {
        try await withServer(replyTimeout: .milliseconds(200), answering: { _, _ in
            .held(group: "test") { stream in
                for n in 1...8 {
                    stream.send("line \(n)\n")
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }) { path in
            let client = try RawConnection(path: path)
            client.send("stream\n")
            let text = try await offPool { client.readText(timeoutSeconds: 10) }
            #expect(text == (1...8).map { "line \($0)\n" }.joined())
        }
    }

    @Test func heldConnectionsLeaveTheOrdinarySlotsAndHaveTheirOwnCap() async throws {
        try await withServer(maxConnections: 2, maxHeld: 3, answering: { line, _ in
            guard line == "hold" else { return .reply("answer to \(line)\n") }
            return .held(group: "test") { stream in
                stream.send("held\n")
                await stream.closed()
            }
        }) { path in
            // One at a time: with two ordinary slots, a third newcomer arriving while two
            // lines are still being answered (not yet held) is refused, as it should be.
            var held: [RawConnection] = []
            let reader = HeldLineReader()
            for _ in 1...3 {
                let client = try RawConnection(path: path)
                client.send("hold\n")
                #expect(try await offPool { reader.firstLine(client) } == "held")
                held.append(client)
            }
            let status = try RawConnection(path: path)
            status.send("status\n")
            #expect(try await offPool { status.readText() } == "answer to status\n")
            let fourth = try RawConnection(path: path)
            fourth.send("hold\n")
            #expect(try await offPool { fourth.readText() }.hasPrefix("error: too many held connections (all 3 for test are taken)"))
            // A client that leaves frees its held slot.
            held.removeFirst()
            var admitted = false
            for _ in 0..<50 where !admitted {
                let again = try RawConnection(path: path)
                again.send("hold\n")
                admitted = try await offPool { reader.firstLine(again) } == "held"
                if !admitted { try await Task.sleep(for: .milliseconds(100)) }
                held.append(again)
            }
            #expect(admitted)
        }
    }

    @Test func aClientThatDoesNotReadOverflowsWithoutBlockingTheSenderAndGetsTheLastLine() async throws {
        let outcome = Mutex<(sent: Int, overflowed: Bool)>((0, false))
        try await withServer(maxPending: 64 * 1024, answering: { _, _ in
            .held(group: "test") { stream in
                let line = String(repeating: "x", count: 1023) + "\n"
                for _ in 0..<100_000 {
                    let sent = stream.send(line)
                    if sent == .overflow {
                        outcome.withLock { $0.overflowed = true }
                        stream.end(lastLine: "error: cut off\n")
                        break
                    }
                    outcome.withLock { $0.sent += 1 }
                }
                await stream.closed()
            }
        }) { path in
            let client = try RawConnection(path: path)
            client.send("flood\n")
            let overflowed = try await eventuallyTrue { outcome.withLock { $0.overflowed } }
            #expect(overflowed, "the sender was never told")
            let text = try await offPool { client.readText(timeoutSeconds: 10) }
            let lines = text.split(separator: "\n")
            #expect(lines.last == "error: cut off")
            #expect(lines.count - 1 == outcome.withLock { $0.sent }, "every queued line arrives before the last one")
            #expect(outcome.withLock { $0.sent } < 100_000)
        }
    }

    @Test func theBodyEndsWhenTheClientLeaves() async throws {
        let ended = Mutex(false)
        try await withServer(answering: { _, _ in
            .held(group: "test") { stream in
                stream.send("hello\n")
                await stream.closed()
                ended.withLock { $0 = true }
            }
        }) { path in
            var client: RawConnection? = try RawConnection(path: path)
            client?.send("hold\n")
            let first = try await offPool { [client] in HeldLineReader().firstLine(client!) }
            #expect(first == "hello")
            client = nil
            #expect(try await eventuallyTrue { ended.withLock { $0 } })
        }
    }

    func eventuallyTrue(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<200 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}

/// Reads one line, byte by byte, leaving the connection open. The wait is long: the
/// answer comes from the tests' own two-thread pool, which the whole suite keeps busy.
struct HeldLineReader: Sendable {
    func firstLine(_ client: RawConnection) -> String {
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(client.descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(client.descriptor, &byte, 1) == 1, byte != UInt8(ascii: "\n") { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
