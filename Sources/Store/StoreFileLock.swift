#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One process at a time on a SQLite store: the daemon holds this for its whole run, and
/// `migrate-store` and `rewrap` take it too, so they refuse a store a running wbkeyd is
/// still writing instead of copying or re-sealing a moving target. flock(2), not fcntl:
/// on Linux the two never meet, so it cannot disturb SQLite's own byte-range locks.
public final class StoreFileLock: Sendable {
    public let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// The file must exist: the daemon opens (and so creates) the store first.
    public static func acquire(path: String) throws(StoreError) -> StoreFileLock {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { throw .missingFile(path: path) }
            throw .fileSystem(path: path, operation: "open to lock", errno: errno)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw .inUse(path: path) }
            throw .fileSystem(path: path, operation: "lock", errno: code)
        }
        return StoreFileLock(path: path, descriptor: fd)
    }

    // No deinit that closes: closing any descriptor of the store file drops every POSIX
    // lock SQLite holds on it in this process, so the lock ends with the process, or by
    // `release()` once the database is closed.
    public func release() {
        close(descriptor)
    }
}
