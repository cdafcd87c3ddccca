import Foundation
import Glibc
import UnixSocketAddress

/// A real sd_notify listener: an AF_UNIX datagram socket bound at a path or in the
/// abstract namespace, as systemd binds it.
final class NotifyListener {
    let address: String
    private let descriptor: Int32

    /// - Parameter abstract: bind `@name` instead of a file path.
    init(abstract: Bool) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let name = "wbkeyd-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        address = abstract ? "@" + name : FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        guard UnixSocketAddress.bind(descriptor, to: address) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram, or nil after a 10 s failure timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    deinit {
        close(descriptor)
        if !address.hasPrefix("@") { unlink(address) }
    }
}
