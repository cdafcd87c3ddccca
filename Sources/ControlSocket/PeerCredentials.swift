import Glibc
import NIOCore

/// Who is on the other end of a Unix socket, as the kernel says (SO_PEERCRED):
/// never anything the client claims.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    static func of(_ channel: Channel) async throws -> PeerCredentials {
        try await future(of: channel).get()
    }

    /// Already complete when called on the channel's event loop.
    static func future(of channel: Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ControlSocketError.noPeerCredentials)
        }
        let credentials: EventLoopFuture<KernelCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
    }
}

/// `struct ucred` from <sys/socket.h>, which Swift's Glibc module hides behind
/// _GNU_SOURCE: pid_t, uid_t, gid_t, in this order, 4 bytes each on Linux.
struct KernelCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

public enum ControlSocketError: Error, CustomStringConvertible {
    case noPeerCredentials
    case cannotSecure(path: String, errno: Int32)
    case notASocket(descriptor: Int32)

    public var description: String {
        switch self {
        case .noPeerCredentials: "the kernel gave no peer credentials for a control connection"
        case .cannotSecure(let path, let code): "cannot set owner group or mode of \(path): \(String(cString: strerror(code)))"
        case .notASocket(let descriptor): "file descriptor \(descriptor) passed by systemd is not a listening Unix socket"
        }
    }
}
