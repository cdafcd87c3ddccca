#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB

/// An online copy of the store (the `backup PATH` command): SQLite's backup API, through
/// GRDB, copies one read transaction's snapshot while the daemon keeps writing, so the
/// copy is consistent (grants, sealed secrets and the audit chain as of one moment).
/// The copy is one self-contained file (rollback journal, not WAL) of mode 0600, made
/// where nothing stood before: the path is created with O_EXCL and never replaces a file.
public struct StoreBackup: Sendable, Equatable {
    public let path: String
    public let bytes: Int64
    /// The audit chain's head in the copy (0 when empty).
    public let auditSeq: Int64

    /// Why a path is refused before anything is copied; nil when it may be used.
    public static func problem(with path: String) -> String? {
        guard path.hasPrefix("/") else { return "the backup path must be absolute: \(path)" }
        guard !path.hasSuffix("/") else { return "the backup path names a directory: \(path)" }
        var info = stat()
        if lstat(path, &info) == 0 { return "\(path) exists; a backup never replaces a file" }
        let slash = path.lastIndex(of: "/")!
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            return "\(directory) is not a directory"
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            return "wbkeyd cannot write into \(directory): \(String(cString: strerror(errno))) "
                + "(under wbkeyd.service only its own directories are writable, e.g. /var/lib/wbkeyd)"
        }
        return nil
    }

    /// Copies `store` to `path`. A failure after the file was created removes it again.
    public static func make(of store: StoreDatabase, to path: String) throws -> StoreBackup {
        if let problem = problem(with: path) { throw BackupRefused(description: problem) }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw StoreError.fileSystem(path: path, operation: "create", errno: errno) }
        let chmodded = fchmod(fd, 0o600) == 0
        close(fd)
        do {
            guard chmodded else { throw StoreError.fileSystem(path: path, operation: "chmod", errno: errno) }
            let copy = try DatabaseQueue(path: path)
            try store.pool.backup(to: copy)
            let seq = try copy.writeWithoutTransaction { db -> Int64 in
                // One file to move around and open read-only: no -wal or -shm beside it.
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                return try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM audit") ?? 0
            }
            try copy.close()
            return StoreBackup(path: path, bytes: StoreFile.size(path: path), auditSeq: seq)
        } catch {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
            throw StoreError.wrapping(error, operation: "backup to \(path)")
        }
    }
}

/// A backup path that cannot be used, and why (before anything is written).
public struct BackupRefused: Error, Sendable, CustomStringConvertible {
    public let description: String
}
