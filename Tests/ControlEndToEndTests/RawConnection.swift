import Foundation
import Glibc

/// A Unix stream connection that misbehaves on purpose: partial lines, binary, drips,
/// idling, resets. Blocking calls: use it on Dispatch threads (`offPool`) only.
final class RawConnection: @unchecked Sendable {
    let descriptor: Int32

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(descriptor)
            throw AnswerProblem(description: "connect \(path): \(String(cString: strerror(code)))")
        }
    }

    /// Sends what it can; a peer that closed early (it refused a long line) is no error here.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    func shutdownWrite() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Everything until the daemon closes; nil when nothing came within `timeoutSeconds`
    /// (a hang) — a reset after some bytes still answers those bytes.
    func readAll(timeoutSeconds: Int) -> [UInt8]? {
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
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return nil }
            return result
        }
    }

    /// Closes with a reset (SO_LINGER 0) instead of an orderly end.
    func abort() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    deinit { close(descriptor) }
}

/// Runs blocking socket work on a thread of its own, never on the Swift concurrency pool
/// (two threads on the CI machine) nor on Dispatch's global queue, which adds threads
/// only slowly when other tests keep its threads blocked.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// One `status` over a fresh connection, blocking; nil when no answer came.
func blockingStatus(_ socket: String) -> String? {
    guard let connection = try? RawConnection(path: socket) else { return nil }
    connection.send(Array("status\n".utf8))
    return connection.readAll(timeoutSeconds: 30).map { String(decoding: $0, as: UTF8.self) }
}

/// SplitMix64: a small seeded generator, so a failing fuzz run can be repeated
/// (`WBKEYD_FUZZ_SEED`).
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
