import Foundation
import Glibc

/// The bytes of a claimed file and its modification time (the default `received_at`).
public struct SpoolFileContent: Sendable, Equatable {
    public let bytes: [UInt8]
    public let modified: Date
}

/// Why a claimed file was not read. Like Postfix's pickup, wbkeyd opens only regular
/// files, never through a link, and only up to `SpoolDirectory.maximumFileSize`.
public enum SpoolReadRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case symbolicLink
    case fifo
    case directory
    case socket
    case device
    /// `size` is what fstat said or, for a file that grew while being read, how much
    /// was read before giving up.
    case tooLarge(size: Int)
    /// The file itself cannot be read (its mode, its kind): see `init(errno:)`.
    case unreadable(errno: Int32)
    /// The system could not read it just now (out of descriptors or memory, an I/O
    /// error): nothing is wrong with the file. Not a refusal: it stays claimed and is
    /// tried again.
    case notNow(errno: Int32)
    /// Gone from claimed/ (an operator removed it): nothing left to refuse or retry.
    case vanished

    /// One line for `NAME.reason`, the audit and the log.
    public var reason: String {
        switch self {
        case .symbolicLink: "not a regular file but a symbolic link (links are not followed)"
        case .fifo: "not a regular file but a FIFO"
        case .directory: "not a regular file but a directory"
        case .socket: "not a regular file but a socket"
        case .device: "not a regular file but a device node"
        case .tooLarge(let size):
            "file is \(size) bytes, more than the \(SpoolDirectory.maximumFileSize) allowed"
        case .unreadable(let code): "file cannot be read: \(describeErrno(code))"
        case .notNow(let code): "file cannot be read just now: \(describeErrno(code))"
        case .vanished: "file vanished from claimed/"
        }
    }

    /// Whether the file goes to rejected/; false for `notNow` and `vanished`.
    public var rejectsFile: Bool {
        switch self {
        case .notNow, .vanished: false
        default: true
        }
    }

    /// An errno of lstat, open, fstat or read. Only what says something about this file
    /// refuses it: its mode (EACCES, EPERM), a link (ELOOP), its kind (EISDIR, ENXIO,
    /// ENODEV, ETXTBSY), its size (EFBIG, EOVERFLOW), its name (ENAMETOOLONG, EINVAL).
    /// Everything else (EMFILE, ENFILE, ENOMEM, EIO, EINTR, EAGAIN, ENOSPC, ESTALE…)
    /// is the system's, and the file waits for a later pass.
    public init(errno code: Int32) {
        switch code {
        case ENOENT: self = .vanished
        case ELOOP: self = .symbolicLink
        case EACCES, EPERM, EISDIR, ENXIO, ENODEV, ETXTBSY, EFBIG, EOVERFLOW, ENAMETOOLONG, EINVAL: self = .unreadable(errno: code)
        default: self = .notNow(errno: code)
        }
    }

    public var description: String { reason }

    init?(fileType: mode_t) {
        switch fileType {
        case S_IFREG: return nil
        case S_IFLNK: self = .symbolicLink
        case S_IFIFO: self = .fifo
        case S_IFDIR: self = .directory
        case S_IFSOCK: self = .socket
        default: self = .device
        }
    }
}

extension SpoolDirectory {
    /// Reads a claimed file if it is a regular file of at most 64 KiB.
    ///
    /// lstat first, so a FIFO or a device is refused without being opened (opening a
    /// device can have effects); then open without following links and without
    /// blocking, and judge by fstat of what was actually opened, since the entry may
    /// have been swapped in between.
    public func read(_ claimed: ClaimedFile) -> Result<SpoolFileContent, SpoolReadRefusal> {
        let path = SpoolPath(claimedPath, claimed.name)
        var status = stat()
        guard lstat(path.cString, &status) == 0 else { return .failure(SpoolReadRefusal(errno: errno)) }
        if let refusal = SpoolReadRefusal(fileType: status.fileType) { return .failure(refusal) }

        let descriptor = open(path.cString, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            return .failure(SpoolReadRefusal(errno: code))
        }
        defer { close(descriptor) }
        guard fstat(descriptor, &status) == 0 else { return .failure(SpoolReadRefusal(errno: errno)) }
        if let refusal = SpoolReadRefusal(fileType: status.fileType) { return .failure(refusal) }
        let limit = Self.maximumFileSize
        if Int(status.st_size) > limit { return .failure(.tooLarge(size: Int(status.st_size))) }

        switch Self.readBounded(descriptor, limit: limit) {
        case .failure(let refusal):
            return .failure(refusal)
        case .success(let bytes) where bytes.count > limit:
            return .failure(.tooLarge(size: max(bytes.count, Int(status.st_size))))
        case .success(let bytes):
            return .success(SpoolFileContent(bytes: bytes, modified: status.modified))
        }
    }

    /// Everything `descriptor` holds, up to one byte past `limit`, so that a file that grew
    /// since fstat is caught (the caller sees more than `limit` bytes); or why not.
    static func readBounded(_ descriptor: Int32, limit: Int) -> Result<[UInt8], SpoolReadRefusal> {
        var buffer = [UInt8](repeating: 0, count: limit + 1)
        var filled = 0
        while filled < buffer.count {
            let count = buffer[filled...].withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(SpoolReadRefusal(errno: errno))
            }
            filled += count
        }
        return .success(Array(buffer[..<filled]))
    }
}
