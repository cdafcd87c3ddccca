import Foundation
import Glibc
import Synchronization
import UnixSocketAddress

/// A control connection the test keeps open (`events`, `wait`): the line is sent at
/// once, and lines are read only when the test asks, so a test can be a subscriber that
/// does not read (the demo follows `events` with it too). Blocking socket calls run on a
/// Dispatch thread.
public final class HeldControlConnection: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    private let descriptor: Int32
    private let pending = Mutex<[UInt8]>([])

    public init(socket path: String, line: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        guard UnixSocketAddress.connect(descriptor, to: path) == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw Failure(description: "connect \(path): errno \(code)")
        }
        let bytes = Array((line + "\n").utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw Failure(description: "send: errno \(errno)") }
    }

    deinit { Glibc.close(descriptor) }

    /// Ends the connection from the client's side (the descriptor stays until deinit).
    public func hangUp() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    /// The next line without its newline; nil when wbkeyd closed. Throws after `timeout`
    /// without a whole line.
    public func readLine(timeout: Duration = .seconds(30)) async throws -> String? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.blockingReadLine(until: deadline) })
            }
        }
    }

    /// Every line until wbkeyd closes.
    public func readToEnd(timeout: Duration = .seconds(60)) async throws -> [String] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var lines: [String] = []
        while let line = try await readLine(timeout: ContinuousClock.now.duration(to: deadline)) { lines.append(line) }
        return lines
    }

    /// Lines until one satisfies `last` (included).
    public func readUntil(timeout: Duration = .seconds(60), _ last: (String) -> Bool) async throws -> [String] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var lines: [String] = []
        while true {
            guard let line = try await readLine(timeout: ContinuousClock.now.duration(to: deadline)) else {
                throw Failure(description: "wbkeyd closed before the awaited line; read: \(lines.suffix(5))")
            }
            lines.append(line)
            if last(line) { return lines }
        }
    }

    private func blockingReadLine(until deadline: ContinuousClock.Instant) throws -> String? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let line = pending.withLock({ buffer -> String? in
                guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }) {
                return line
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw Failure(description: "no whole line within the time limit") }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left.components.seconds * 1000 + 1, 1000)))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count < 0, errno == EINTR { continue }
            if count < 0 { throw Failure(description: "recv: errno \(errno)") }
            if count == 0 {
                // End of stream: a last line without its newline still counts.
                return pending.withLock { buffer in
                    defer { buffer.removeAll() }
                    return buffer.isEmpty ? nil : String(decoding: buffer, as: UTF8.self)
                }
            }
            pending.withLock { $0 += chunk[0..<count] }
        }
    }
}
