import Glibc

/// A system call on the spool failed. Carries the operation, the path (file names
/// escaped by `SpoolEntryName`, so a hostile name cannot forge a log line) and the
/// errno, which is what an operator needs to fix permissions or a full disk.
public struct SpoolIOError: Error, Sendable, Equatable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(operation) \(path): \(describeErrno(errno))"
    }
}

/// "Permission denied (errno 13)": the text for humans, the number for grep.
func describeErrno(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}

extension SpoolIOError {
    /// A claim failed for this entry alone: the kernel will not let wbkeyd move it (a
    /// writer's directory without write permission for wbkeyd, a name the file system
    /// refuses, every suffix taken). Other entries may still be claimed. Anything else
    /// (claimed/ missing, a read-only or broken file system) is the spool's, and stops
    /// claiming for the pass.
    public var concernsEntry: Bool {
        switch errno {
        case EACCES, EPERM, EBUSY, EISDIR, ENOTDIR, ENOTEMPTY, EEXIST, EINVAL, ELOOP, ENAMETOOLONG, EMLINK: true
        default: false
        }
    }
}
