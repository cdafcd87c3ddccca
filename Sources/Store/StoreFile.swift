#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File-level checks made before SQLite touches the store: it must be a regular file that
/// only its owner can access. SQLite gives the `-wal` and `-shm` files the mode of the
/// database file, so a 0600 store keeps its companions 0600 too.
enum StoreFile {
    static let companionSuffixes = ["-wal", "-shm"]

    static func prepareForWriting(path: String) throws(StoreError) {
        if try inspect(path: path) == nil {
            try create(path: path)
        }
        for suffix in companionSuffixes {
            _ = try inspect(path: path + suffix)
        }
    }

    static func requireExisting(path: String) throws(StoreError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw .missingFile(path: path) }
            throw .fileSystem(path: path, operation: "inspect", errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path) }
    }

    static func size(path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }

    /// Returns the file's mode, nil when it does not exist; throws when it is not a regular
    /// file or when group or others have any permission on it.
    private static func inspect(path: String) throws(StoreError) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw .fileSystem(path: path, operation: "inspect", errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path) }
        guard info.st_mode & 0o077 == 0 else {
            throw .permissiveFile(path: path, mode: UInt32(info.st_mode))
        }
        return info.st_mode
    }

    /// Creates an empty file with mode 0600 (an empty file is a valid empty SQLite
    /// database). O_EXCL and O_NOFOLLOW keep a planted symlink from redirecting the create.
    private static func create(path: String) throws(StoreError) {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let code = errno
            // Someone created it between our stat and open: judge that file instead.
            if code == EEXIST, try inspect(path: path) != nil { return }
            throw .fileSystem(path: path, operation: "create", errno: code)
        }
        defer { close(fd) }
        // The umask can only take bits away from 0600; set it exactly all the same.
        guard fchmod(fd, 0o600) == 0 else {
            throw .fileSystem(path: path, operation: "chmod", errno: errno)
        }
    }
}
