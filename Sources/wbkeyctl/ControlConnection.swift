import Glibc
import UnixSocketAddress

/// One exchange with wbkeyd's control socket: connect, send one line, read the answer
/// until wbkeyd closes. Blocking calls are right here: wbkeyctl does one thing at a
/// time, and the receive timeout bounds the wait.
struct ControlConnection {
    let socketPath: String
    let timeoutSeconds: Int

    func exchange(_ line: String) throws(WBKeyCtlError) -> [UInt8] {
        let descriptor = try connected()
        defer { close(descriptor) }
        // A reset while sending can still leave wbkeyd's `error: …` line to read, so a
        // failed send is only reported when nothing at all comes back.
        let sendError = send(Array((line + "\n").utf8), on: descriptor)
        shutdown(descriptor, Int32(SHUT_WR))
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count > 0 {
                answer += buffer[0..<count]
                continue
            }
            if count == 0 { break }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                throw .unreachable(socket: socketPath, reason: "no complete answer within \(timeoutSeconds)s (--timeout)")
            }
            guard answer.isEmpty else { break }
            throw .unreachable(socket: socketPath, errno: code)
        }
        if answer.isEmpty {
            if let sendError { throw .unreachable(socket: socketPath, errno: sendError) }
            throw .unreachable(socket: socketPath, reason: "wbkeyd closed the connection without an answer")
        }
        return answer
    }

    /// `events`: sends the line, then hands each chunk read to `received` as it arrives,
    /// until wbkeyd closes. No receive timeout: a quiet stream is not a stuck one.
    func stream(_ line: String, received: ([UInt8]) -> Void) throws(WBKeyCtlError) {
        let descriptor = try connected()
        defer { close(descriptor) }
        let sendError = send(Array((line + "\n").utf8), on: descriptor)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var any = false
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count > 0 {
                any = true
                received(Array(buffer[0..<count]))
                continue
            }
            if count == 0 { break }
            let code = errno
            if code == EINTR { continue }
            guard !any else { break }
            throw .unreachable(socket: socketPath, errno: code)
        }
        if !any {
            if let sendError { throw .unreachable(socket: socketPath, errno: sendError) }
            throw .unreachable(socket: socketPath, reason: "wbkeyd closed the connection without an answer")
        }
    }

    private func connected() throws(WBKeyCtlError) -> Int32 {
        let length = socketPath.utf8.count
        guard length > 0, length <= UnixSocketAddress.maxPathBytes else {
            throw .unreachable(socket: socketPath, reason: "a Unix socket path must be 1 to \(UnixSocketAddress.maxPathBytes) bytes long")
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .unreachable(socket: socketPath, errno: errno) }
        guard UnixSocketAddress.connect(descriptor, to: socketPath) == 0 else {
            let code = errno
            close(descriptor)
            throw .unreachable(socket: socketPath, errno: code)
        }
        return descriptor
    }

    /// Sends every byte, or returns the errno that stopped it. MSG_NOSIGNAL: a peer
    /// that closed early must not kill wbkeyctl with SIGPIPE.
    private func send(_ bytes: [UInt8], on descriptor: Int32) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += sent
        }
        return nil
    }
}
