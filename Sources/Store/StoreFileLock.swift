#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One process at a time on a SQLite store (`StoreDatabase.openHeld`): the daemon holds it
/// for its whole run, and `migrate-store` and `rewrap` take it too, so they refuse a store
/// a running wbkeyd is still writing instead of copying or re-sealing a moving target.
/// flock(2), not fcntl: on Linux the two never meet, so it cannot disturb SQLite's own
/// byte-range locks.
enum StoreFileLock {
    /// Takes the lock on an existing file and keeps it until the process ends: the
    /// descriptor is never closed, since closing any descriptor of the store file drops
    /// every POSIX lock SQLite holds on it in this process.
    static func hold(path: String) throws(StoreError) {
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
    }
}
