import Foundation
import Glibc

/// A path made of a directory and one entry name, kept as bytes for the system call
/// and escaped for messages.
struct SpoolPath {
    let cString: [CChar]
    let display: String

    init(_ directory: String, _ name: SpoolEntryName) {
        let bytes = Array(directory.utf8) + [UInt8(ascii: "/")] + name.bytes + [0]
        cString = bytes.map { CChar(bitPattern: $0) }
        display = directory + "/" + name.description
    }

    init(_ directory: String) {
        cString = directory.utf8CString.map { $0 }
        display = directory
    }

    func error(_ operation: String, _ code: Int32 = errno) -> SpoolIOError {
        SpoolIOError(operation: operation, path: display, errno: code)
    }
}

struct DirectoryEntry {
    let name: SpoolEntryName
    let status: stat
}

enum RenameOutcome {
    case moved, targetExists, sourceMissing
}

/// The few system calls the spool needs, each with its errno turned into a typed error.
enum FileSystem {
    private typealias RenameAt2 = @convention(c) (
        Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32
    ) -> Int32

    /// Swift's Glibc module hides the GNU-only `renameat2` declaration, but glibc
    /// (2.28+) exports the symbol; it is the one call that moves without replacing.
    private static let renameat2: RenameAt2? = {
        guard let symbol = dlsym(nil, "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()
    private static let renameNoReplace: UInt32 = 1

    /// Moves `source` to `target` unless `target` exists: a Maildir rename that can
    /// never destroy a file already there.
    static func renameWithoutReplacing(_ source: SpoolPath, _ target: SpoolPath) throws(SpoolIOError)
        -> RenameOutcome
    {
        if let renameat2 {
            if renameat2(AT_FDCWD, source.cString, AT_FDCWD, target.cString, renameNoReplace) == 0 {
                return .moved
            }
            let code = errno
            switch code {
            case EEXIST: return .targetExists
            case ENOENT: return try missingSourceOrDirectory(source, target, code)
            // The file system does not know the flag: fall through to a plain rename.
            case EINVAL, ENOSYS: break
            default: throw target.error("rename \(source.display) to", code)
            }
        }
        // Only wbkeyd creates names in claimed/ and rejected/, and writers use unique
        // names in new/, so checking before renaming races with no one.
        if exists(target) { return .targetExists }
        if rename(source.cString, target.cString) == 0 { return .moved }
        let code = errno
        if code == ENOENT { return try missingSourceOrDirectory(source, target, code) }
        throw target.error("rename \(source.display) to", code)
    }

    /// ENOENT means either that someone else took the source (fine) or that the target
    /// directory is gone (an operator's problem, which must not look like "nothing to do").
    private static func missingSourceOrDirectory(_ source: SpoolPath, _ target: SpoolPath, _ code: Int32)
        throws(SpoolIOError) -> RenameOutcome
    {
        if exists(source) { throw target.error("rename \(source.display) to", code) }
        return .sourceMissing
    }

    static func exists(_ path: SpoolPath) -> Bool {
        var status = stat()
        return lstat(path.cString, &status) == 0
    }

    static func status(_ path: SpoolPath) -> Result<stat, SpoolIOError> {
        var status = stat()
        guard lstat(path.cString, &status) == 0 else { return .failure(path.error("lstat")) }
        return .success(status)
    }

    /// Entries of a directory with their lstat, skipping `.` and `..` and entries that
    /// vanish between readdir and lstat (another claimer took them).
    static func entries(of directory: String) throws(SpoolIOError) -> [DirectoryEntry] {
        guard let handle = opendir(directory) else { throw SpoolPath(directory).error("opendir") }
        defer { closedir(handle) }
        return try entries(of: handle, path: directory)
    }

    /// The same, read from a stream already open on `directory`.
    static func entries(of handle: OpaquePointer, path directory: String) throws(SpoolIOError) -> [DirectoryEntry] {
        let path = SpoolPath(directory)
        let descriptor = dirfd(handle)
        var result: [DirectoryEntry] = []
        while true {
            errno = 0
            guard let entry = readdir(handle) else {
                if errno != 0 { throw path.error("readdir") }
                return result
            }
            let nameBytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if nameBytes == Array(".".utf8) || nameBytes == Array("..".utf8) { continue }
            var status = stat()
            let cName = (nameBytes + [0]).map { CChar(bitPattern: $0) }
            if fstatat(descriptor, cName, &status, AT_SYMLINK_NOFOLLOW) != 0 {
                if errno == ENOENT { continue }
                throw SpoolPath(directory, SpoolEntryName(bytes: nameBytes)).error("lstat")
            }
            result.append(DirectoryEntry(name: SpoolEntryName(bytes: nameBytes), status: status))
        }
    }

    /// Makes the names in a directory (renames, creations, unlinks) survive a crash.
    static func syncDirectory(_ directory: String) throws(SpoolIOError) {
        let path = SpoolPath(directory)
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw path.error("open") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw path.error("fsync") }
    }

    /// Creates `path` exclusively, writes all of `bytes` and fsyncs it; on any failure
    /// the half-written file is removed again.
    static func writeNewFile(_ path: SpoolPath, _ bytes: [UInt8], mode: mode_t) throws(SpoolIOError) {
        let descriptor = open(path.cString, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw path.error("create") }
        var failure: SpoolIOError?
        var written = 0
        while written < bytes.count, failure == nil {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                written += count
            } else if count < 0 && errno != EINTR {
                failure = path.error("write")
            }
        }
        if failure == nil && fsync(descriptor) != 0 { failure = path.error("fsync") }
        if close(descriptor) != 0 && failure == nil { failure = path.error("close") }
        if let failure {
            unlink(path.cString)
            throw failure
        }
    }

    static func temporaryName(_ purpose: String) -> SpoolEntryName {
        let random = String(UInt64.random(in: .min ... .max), radix: 16)
        return SpoolEntryName(".\(purpose)-\(getpid())-\(random).tmp")
    }
}

extension stat {
    var fileType: mode_t { st_mode & S_IFMT }
    var modified: Date {
        Date(timeIntervalSince1970: Double(st_mtim.tv_sec) + Double(st_mtim.tv_nsec) / 1_000_000_000)
    }
}
