#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read. Never holds any of the file's content.
public enum FileReadFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case missing
    case symbolicLink
    case notRegularFile(kind: String)
    case tooLarge(limit: Int)
    case unreadable(String)

    public var description: String {
        switch self {
        case .missing: "no such file"
        case .symbolicLink: "is a symbolic link; point the setting at the file itself"
        case .notRegularFile(let kind): "is \(kind), not a regular file"
        case .tooLarge(let limit): "is larger than \(limit) bytes"
        case .unreadable(let reason): "cannot be read: \(reason)"
        }
    }
}

/// Reads a whole regular file in one go. Every check that matters is made on the open
/// descriptor (fstat), so a file swapped between the check and the read is still caught;
/// the lstat before it only gives a clearer reason for links, directories and FIFOs.
enum RegularFile {
    struct Contents {
        let bytes: [UInt8]
        /// Permission bits, from fstat on the descriptor that was read.
        let permissions: UInt16
        /// The access ACL of the descriptor that was read, when the file has one.
        let acl: PosixACL?
    }

    static func read(path: String, followSymlinks: Bool, maxBytes: Int) throws(FileReadFailure) -> Contents {
        var status = stat()
        let statResult = followSymlinks ? stat(path, &status) : lstat(path, &status)
        guard statResult == 0 else { throw failure(errno) }
        try checkType(status.st_mode)

        var flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK
        if !followSymlinks { flags |= O_NOFOLLOW }
        let descriptor = open(path, flags)
        guard descriptor >= 0 else { throw failure(errno) }
        defer { close(descriptor) }
        guard fstat(descriptor, &status) == 0 else { throw failure(errno) }
        try checkType(status.st_mode)

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = chunk.withUnsafeMutableBytes { readDescriptor(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            if count == 0 { break }
            bytes += chunk.prefix(count)
            if bytes.count > maxBytes { throw .tooLarge(limit: maxBytes) }
        }
        return Contents(bytes: bytes, permissions: UInt16(status.st_mode & 0o7777), acl: PosixACL.of(descriptor: descriptor))
    }

    private static func checkType(_ mode: mode_t) throws(FileReadFailure) {
        switch mode & S_IFMT {
        case S_IFREG: return
        case S_IFLNK: throw .symbolicLink
        case S_IFDIR: throw .notRegularFile(kind: "a directory")
        case S_IFIFO: throw .notRegularFile(kind: "a FIFO")
        case S_IFSOCK: throw .notRegularFile(kind: "a socket")
        case S_IFCHR, S_IFBLK: throw .notRegularFile(kind: "a device")
        default: throw .notRegularFile(kind: "a special file")
        }
    }

    private static func failure(_ code: Int32) -> FileReadFailure {
        switch code {
        case ENOENT: .missing
        // O_NOFOLLOW on a link that appeared after the lstat.
        case ELOOP: .symbolicLink
        default: .unreadable(String(cString: strerror(code)))
        }
    }
}

// At file scope `read` is the C call; inside `RegularFile` it would be the static method.
private func readDescriptor(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
