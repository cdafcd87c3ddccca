import ControlSocket
import Foundation
import Glibc
import Logging
import Synchronization
import Testing
import WBKeydHarness

@Suite struct ControlServerTests {
    /// Starts a server on a fresh path with an echoing handler; stops it after `body`.
    func withServer(
        maxConnections: Int = 64, idleTimeout: Duration = .seconds(5), replyTimeout: Duration = .seconds(10), mode: mode_t = 0o660,
        immediate: ControlServer.ImmediateHandler? = nil,
        handler: @escaping ControlServer.Handler = { line, peer in "got \(line) from uid \(peer.uid) gid \(peer.gid)\n" },
        _ body: (String) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("control.sock").path
        let server = ControlServer(listener: .path(path, mode: mode, gid: nil), maxConnections: maxConnections, idleTimeout: idleTimeout,
            replyTimeout: replyTimeout, logger: Logger(label: "test"))
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self)
        let task = Task { try await server.run(listening: { readyContinuation.yield() }, immediate: immediate, handler: handler) }
        for await _ in ready { break }
        defer { task.cancel() }
        try await body(path)
    }

    func socat(_ input: String, _ path: String) async throws -> String {
        try await offPool { try Self.runSocat(input, path) }
    }

    static func runSocat(_ input: String, _ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
        process.arguments = ["-t", "60", "-", "UNIX-CONNECT:\(path)"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    @Test func answersSocatWithThePeersRealCredentials() async throws {
        // The idle limit is not under test here: a loaded machine may take seconds
        // between socat's connect and its half-close (a CI run saw 5 s pass).
        try await withServer(idleTimeout: .seconds(60)) { path in
            let me = "uid \(getuid()) gid \(getgid())"
            let status = try await socat("status\n", path)
            let unterminated = try await socat("grants json", path)
            let crlf = try await socat("status\r\n", path)
            #expect(status == "got status from \(me)\n")
            #expect(unterminated == "got grants json from \(me)\n")
            #expect(crlf == "got status from \(me)\n")
        }
    }

    @Test func theSocketGetsTheConfiguredMode() async throws {
        try await withServer(mode: 0o660) { path in
            var status = stat()
            #expect(lstat(path, &status) == 0)
            #expect(status.st_mode & 0o7777 == 0o660)
            #expect(status.st_mode & S_IFMT == S_IFSOCK)
        }
    }

    @Test func overlongLinesAreRefused() async throws {
        try await withServer { path in
            let client = try RawConnection(path: path)
            client.send(String(repeating: "x", count: 5000))
            #expect(try await offPool { client.readText() } == "error: line longer than 4096 bytes\n")
        }
    }

    @Test func idleClientsTimeOut() async throws {
        try await withServer(idleTimeout: .milliseconds(200)) { path in
            let client = try RawConnection(path: path)
            client.send("sta")
            #expect(try await offPool { client.readText() }.hasPrefix("error: idle timeout"))
        }
    }

    @Test func aCrowdOfIdleClientsCannotLockOutStatus() async throws {
        try await withServer(maxConnections: 4, idleTimeout: .seconds(60)) { path in
            let idle = try (0..<4).map { _ in try RawConnection(path: path) }
            for client in idle { client.send("st") }
            #expect(try await socat("status\n", path).hasPrefix("got status"))
            // Children are set up on several event loops, so "longest idle" is by
            // admission, not strictly by connect order: exactly one must have gone.
            // Read side by side, each with room for a loaded machine: the three that
            // stay idle wait out the whole limit.
            let replies = try await offPool {
                let found = Mutex([String](repeating: "", count: idle.count))
                DispatchQueue.concurrentPerform(iterations: idle.count) { index in
                    let reply = idle[index].readText(timeoutSeconds: 10)
                    found.withLock { $0[index] = reply }
                }
                return found.withLock { $0 }
            }
            #expect(replies.filter { $0.hasPrefix("error: too many connections") }.count == 1, "got \(replies)")
        }
    }

    @Test func aSlowHandlerDoesNotBlockOthers() async throws {
        let gate = AsyncStream.makeStream(of: Void.self)
        try await withServer(handler: { line, _ in
            if line == "slow" { for await _ in gate.stream { break } }
            return "done \(line)\n"
        }) { path in
            let slow = try RawConnection(path: path)
            slow.send("slow\n")
            #expect(try await socat("fast\n", path) == "done fast\n")
            gate.continuation.yield()
            #expect(try await offPool { slow.readText() } == "done slow\n")
        }
    }

    @Test func garbageGetsAnAnswerAndTheServerStaysUp() async throws {
        try await withServer(idleTimeout: .milliseconds(300)) { path in
            var rng = SystemRandomNumberGenerator()
            for round in 0..<200 {
                let client = try RawConnection(path: path)
                let bytes = (0..<Int.random(in: 0...6000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                client.send(bytes)
                if round % 2 == 0 { client.shutdownWrite() }
                let reply = try await offPool { client.readText() }
                // Bytes, not characters: a combining mark after "got " would fuse with the space.
                #expect(reply.utf8.starts(with: "got ".utf8) || reply.utf8.starts(with: "error: ".utf8), "round \(round): \(bytes.count) bytes, newline at \(bytes.firstIndex(of: 10).map(String.init) ?? "none"), reply \(reply.prefix(60).debugDescription)")
            }
            #expect(try await socat("status\n", path).hasPrefix("got status"))
        }
    }

    /// Answers lines that start with "st" on the event loop; declines the rest.
    static let answerStLines: ControlServer.ImmediateHandler = { line, peer in
        line.hasPrefix("st") ? "now \(line) from uid \(peer.uid) gid \(peer.gid)\n" : nil
    }

    @Test func theImmediatePathAnswersWithoutTheAsyncHandlerAndFallsThroughOnNil() async throws {
        let asyncLines = Mutex<[String]>([])
        try await withServer(immediate: Self.answerStLines, handler: { line, _ in
            asyncLines.withLock { $0.append(line) }
            return "async \(line)\n"
        }) { path throws in
            let me = "uid \(getuid()) gid \(getgid())"
            #expect(try await socat("status\n", path) == "now status from \(me)\n")
            #expect(try await socat("status json", path) == "now status json from \(me)\n")
            #expect(try await socat("grants\n", path) == "async grants\n")
            #expect(try await socat("stop\r\n", path) == "now stop from \(me)\n")
            #expect(asyncLines.withLock { $0 } == ["grants"])
        }
    }

    @Test func connectionsAnsweredImmediatelyCountAgainstTheLimit() async throws {
        let asyncCalls = Mutex(0)
        try await withServer(maxConnections: 4, idleTimeout: .seconds(60), immediate: Self.answerStLines, handler: { line, _ in
            asyncCalls.withLock { $0 += 1 }
            return "async \(line)\n"
        }) { path in
            let idle = try (0..<4).map { _ in try RawConnection(path: path) }
            for client in idle { client.send("st") }
            // Each accepted connection takes its slot on its own event loop, so the four may
            // not all hold one yet when the fifth arrives (seen once in CI: the fifth was
            // answered and gone before the fourth was admitted). Let them settle first.
            try await Task.sleep(for: .milliseconds(500))
            // The fifth connection is admitted (making room) before it is answered.
            #expect(try await socat("status\n", path).hasPrefix("now status"))
            for client in idle { client.send("atus\n") }
            let replies = try await offPool { idle.map { $0.readText() } }
            #expect(replies.filter { $0.hasPrefix("error: too many connections") }.count == 1, "got \(replies)")
            #expect(replies.filter { $0.hasPrefix("now status from") }.count == 3, "got \(replies)")
            #expect(asyncCalls.withLock { $0 } == 0)
        }
    }

    @Test func whenEverySlotIsBusyAnsweringTheNewcomerIsRefusedNotQueued() async throws {
        let gate = AsyncStream.makeStream(of: Void.self)
        let entered = AsyncStream.makeStream(of: Void.self)
        try await withServer(maxConnections: 2, handler: { line, _ in
            if line == "slow" {
                entered.continuation.yield()
                for await _ in gate.stream { break }
            }
            return "done \(line)\n"
        }) { path in
            let busy = try (0..<2).map { _ in try RawConnection(path: path) }
            for client in busy { client.send("slow\n") }
            var inside = 0
            for await _ in entered.stream {
                inside += 1
                if inside == 2 { break }
            }
            let newcomer = try RawConnection(path: path)
            newcomer.send("fast\n")
            let refusal = try await offPool { newcomer.readText(timeoutSeconds: 5) }
            #expect(refusal.hasPrefix("error: too many connections"), "got \(refusal.debugDescription)")
            gate.continuation.yield()
            gate.continuation.yield()
            let replies = try await offPool { busy.map { $0.readText() } }
            #expect(replies == ["done slow\n", "done slow\n"])
            #expect(try await socat("fast\n", path) == "done fast\n")
        }
    }

    @Test func aReplyNobodyReadsIsCutOffAtTheDeadlineAndFreesItsSlot() async throws {
        // Far more than a Unix socket's send buffer holds, so the write cannot finish
        // until the client reads.
        let size = 8 * 1_024 * 1_024
        let big = String(repeating: "a", count: size - 1) + "\n"
        let asked = AsyncStream.makeStream(of: Void.self)
        try await withServer(maxConnections: 2, replyTimeout: .milliseconds(500), handler: { line, _ in
            guard line == "big" else { return "done \(line)\n" }
            asked.continuation.yield()
            return big
        }) { path in
            let readers = try (0..<2).map { _ in try RawConnection(path: path) }
            for client in readers { client.send("big\n") }
            var count = 0
            for await _ in asked.stream {
                count += 1
                if count == 2 { break }
            }
            try await Task.sleep(for: .seconds(2))
            // Both slots were held by readers that never read; the deadline freed them.
            #expect(try await socat("fast\n", path) == "done fast\n")
            let received = try await offPool { readers.map { $0.readAll(timeoutSeconds: 20)?.count } }
            for bytes in received {
                let bytes = try #require(bytes, "the connection was not closed")
                #expect(bytes < size, "the whole reply was still there to read: \(bytes) bytes")
            }
        }
    }

    @Test func aLargeReplyThatIsReadArrivesWhole() async throws {
        let size = 8 * 1_024 * 1_024
        let big = String(repeating: "b", count: size - 1) + "\n"
        try await withServer(handler: { _, _ in big }) { path in
            let client = try RawConnection(path: path)
            client.send("big\n")
            let received = try await offPool { client.readAll(timeoutSeconds: 30) }
            #expect(received?.count == size, "the reply was cut short: \(received?.count ?? -1) of \(size) bytes")
        }
    }
}
