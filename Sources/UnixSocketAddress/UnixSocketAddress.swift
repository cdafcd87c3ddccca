import Glibc

/// `bind` and `connect` on a Unix socket by path, for the blocking socket code SwiftNIO
/// does not run for us (wbkeyctl, the harness's clients and listeners, tests). Written
/// by hand because Glibc offers only the raw `sockaddr_un`; one copy, so the length
/// check and the abstract namespace are right everywhere.
public enum UnixSocketAddress {
    /// The longest path a `sockaddr_un` holds (107 bytes on Linux), without its NUL.
    public static let maxPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// `connect(2)` to `path`, retried on EINTR. -1 with errno set on failure, as the call.
    public static func connect(_ descriptor: Int32, to path: String) -> Int32 {
        var result: Int32
        repeat {
            result = withAddress(of: path) { Glibc.connect(descriptor, $0, $1) }
        } while result != 0 && errno == EINTR
        return result
    }

    /// `bind(2)` to `path`. -1 with errno set on failure, as the call.
    public static func bind(_ descriptor: Int32, to path: String) -> Int32 {
        withAddress(of: path) { Glibc.bind(descriptor, $0, $1) }
    }

    /// Runs `call` with the address of `path`: a filesystem path, or with a leading `@`
    /// a name in the abstract namespace (as systemd writes NOTIFY_SOCKET). A path that
    /// is empty or does not fit fails with EINVAL or ENAMETOOLONG, without the call.
    public static func withAddress(of path: String, _ call: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var bytes = Array(path.utf8)
        guard !bytes.isEmpty else {
            errno = EINVAL
            return -1
        }
        let abstract = bytes[0] == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard bytes.count <= maxPathBytes else {
            errno = ENAMETOOLONG
            return -1
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        // A filesystem path counts its NUL; an abstract name is exactly its bytes.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, length) }
        }
    }
}
