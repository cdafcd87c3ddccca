import Foundation
import Glibc
import UnixSocketAddress

/// One control-socket exchange, as `echo LINE | socat - UNIX-CONNECT:PATH` does it:
/// connect, send the line, read the answer until the daemon closes. The blocking socket
/// calls run on a Dispatch thread, never on one of Swift's pool.
public enum ControlClient {
    public static func send(_ line: String, to socketPath: String, timeout: Duration = .seconds(30)) async throws -> String {
        let bytes = Array((line.hasSuffix("\n") ? line : line + "\n").utf8)
        return try await send(bytes: bytes, to: socketPath, timeout: timeout)
    }

    /// Sends `bytes` as they are (no newline added) and answers what came back.
    public static func send(bytes: [UInt8], to socketPath: String, timeout: Duration = .seconds(30)) async throws -> String {
        let seconds = max(1, Int(timeout.components.seconds))
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { () throws(HarnessError) -> String in
                    try exchange(bytes, socketPath: socketPath, timeoutSeconds: seconds)
                })
            }
        }
    }

    private static func exchange(_ bytes: [UInt8], socketPath: String, timeoutSeconds: Int) throws(HarnessError) -> String {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .controlFailed(socket: socketPath, operation: "socket", errno: errno) }
        defer { close(descriptor) }
        guard UnixSocketAddress.connect(descriptor, to: socketPath) == 0 else { throw .controlFailed(socket: socketPath, operation: "connect", errno: errno) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .controlFailed(socket: socketPath, operation: "send", errno: errno) }
            sent += count
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw .controlFailed(socket: socketPath, operation: "receive the answer", errno: errno) }
            if count == 0 { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
