import Foundation
import Glibc
import UnixSocketAddress

/// A Unix stream connection that misbehaves on purpose: partial lines, binary, drips,
/// idling, floods, resets. Blocking calls: use it off Swift's pool (`offPool`) only.
/// `@unchecked`: a test hands it between its task and the thread doing the blocking I/O.
public final class RawConnection: @unchecked Sendable {
    public let descriptor: Int32

    public init(path: String) throws(HarnessError) {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard UnixSocketAddress.connect(descriptor, to: path) == 0 else {
            let code = errno
            close(descriptor)
            throw .controlFailed(socket: path, operation: "connect", errno: code)
        }
    }

    /// Sends what it can; a peer that closed early (it refused a long line) is no error here.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    public func shutdownWrite() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Everything until the daemon closes; nil when nothing came within `timeoutSeconds`
    /// (a hang) — a reset after some bytes still answers those bytes.
    public func readAll(timeoutSeconds: Int) -> [UInt8]? {
        let (bytes, timedOut) = readUntilClosed(timeoutSeconds: timeoutSeconds)
        return timedOut ? nil : bytes
    }

    /// What came until the server closed or `timeoutSeconds` passed, as text.
    public func readText(timeoutSeconds: Int = 15) -> String {
        String(decoding: readUntilClosed(timeoutSeconds: timeoutSeconds).bytes, as: UTF8.self)
    }

    private func readUntilClosed(timeoutSeconds: Int) -> (bytes: [UInt8], timedOut: Bool) {
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count > 0 {
                result += buffer[0..<count]
                continue
            }
            if count < 0 && errno == EINTR { continue }
            return (result, count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        }
    }

    /// Closes with a reset (SO_LINGER 0) instead of an orderly end.
    public func abort() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    deinit { close(descriptor) }
}

/// Runs blocking socket work on a thread of its own, never on the Swift concurrency pool
/// (two threads on the CI machine) nor on Dispatch's global queue, which adds threads
/// only slowly when other tests keep its threads blocked.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
