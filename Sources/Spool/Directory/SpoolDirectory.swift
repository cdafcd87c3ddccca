import Foundation
import Glibc

/// A file wbkeyd has taken out of `new/` into `claimed/`; from here on only wbkeyd
/// touches it, and it leaves `claimed/` by `complete(_:)` or `reject(_:reason:)`.
public struct ClaimedFile: Sendable, Hashable, CustomStringConvertible {
    public let name: SpoolEntryName

    public var description: String { name.description }
}

/// Counts for `status`: what waits in each directory and how long the oldest
/// delivery has waited.
public struct SpoolBacklog: Sendable, Equatable {
    public let new: Int
    public let claimed: Int
    public let rejected: Int
    /// Age of the oldest entry in `new/`; nil when `new/` is empty.
    public let oldestNewAge: Duration?

    public init(new: Int, claimed: Int, rejected: Int, oldestNewAge: Duration?) {
        self.new = new
        self.claimed = claimed
        self.rejected = rejected
        self.oldestNewAge = oldestNewAge
    }
}

/// A delivery in `new/` and its modification time.
public struct WaitingFile: Sendable, Equatable {
    public let name: SpoolEntryName
    public let modified: Date
    /// Names this delivery apart from another under the same name (device, inode, mtime):
    /// an entry that cannot be claimed is reported once per delivery.
    public let identity: String

    init(_ entry: DirectoryEntry) {
        name = entry.name
        modified = entry.status.modified
        let time = entry.status.st_mtim
        identity = "\(entry.status.st_dev):\(entry.status.st_ino):\(time.tv_sec).\(time.tv_nsec)"
    }
}

/// The spool tree of docs/design.md §4. Writers deliver into `new/`; this type is the only
/// one that moves files out of it, and it never replaces a file that is already
/// where it moves one to.
public struct SpoolDirectory: Sendable {
    public let root: String
    public let tmpPath: String
    public let newPath: String
    public let claimedPath: String
    public let rejectedPath: String
    /// Kept open: see `DirectoryListing`.
    let newListing: DirectoryListing
    let claimedListing: DirectoryListing

    /// The largest file `read(_:)` accepts.
    public static let maximumFileSize = 64 * 1024

    /// Creates the directories that are missing, mode 0700. Existing ones keep their
    /// owner and mode: those belong to the deployer (tmpfiles.d), who may open `new/`
    /// to a writers' group.
    public init(root: String) throws(SpoolIOError) {
        self.root = root
        tmpPath = root + "/tmp"
        newPath = root + "/new"
        claimedPath = root + "/claimed"
        rejectedPath = root + "/rejected"
        newListing = DirectoryListing(newPath)
        claimedListing = DirectoryListing(claimedPath)
        for directory in [root, tmpPath, newPath, claimedPath, rejectedPath] {
            try Self.ensureDirectory(directory)
        }
    }

    private static func ensureDirectory(_ directory: String) throws(SpoolIOError) {
        let path = SpoolPath(directory)
        if mkdir(directory, 0o700) == 0 {
            // mkdir's mode passes through the umask; set exactly what was asked for.
            guard chmod(directory, 0o700) == 0 else { throw path.error("chmod") }
            return
        }
        let code = errno
        guard code == EEXIST else { throw path.error("mkdir", code) }
        var status = stat()
        guard stat(directory, &status) == 0 else { throw path.error("stat") }
        guard status.fileType == S_IFDIR else { throw path.error("mkdir", ENOTDIR) }
    }

    /// Deliveries waiting in `new/`, oldest first (ties by name), without dotfiles:
    /// by Maildir custom a dotfile is not a delivery.
    public func listNew() throws(SpoolIOError) -> [SpoolEntryName] {
        try listWaiting().map(\.name)
    }

    /// The same, with each delivery's modification time (the intake keeps the backlog's
    /// age from it).
    public func listWaiting() throws(SpoolIOError) -> [WaitingFile] {
        try Self.oldestFirst(newListing.entries()).map(WaitingFile.init)
    }

    /// Files left in `claimed/` by an earlier run, oldest first: at start they are
    /// processed again, since ingestion is idempotent.
    public func listClaimed() throws(SpoolIOError) -> [ClaimedFile] {
        try Self.oldestFirst(claimedListing.entries()).map { ClaimedFile(name: $0.name) }
    }

    private static func oldestFirst(_ entries: [DirectoryEntry]) -> [DirectoryEntry] {
        entries.filter { !$0.name.isDotfile }.sorted { a, b in
            let (ta, tb) = (a.status.st_mtim, b.status.st_mtim)
            if ta.tv_sec != tb.tv_sec { return ta.tv_sec < tb.tv_sec }
            if ta.tv_nsec != tb.tv_nsec { return ta.tv_nsec < tb.tv_nsec }
            return a.name < b.name
        }
    }

    /// Moves `new/NAME` to `claimed/`. Returns nil when the name is gone: another
    /// claimer won, which is not an error. If `claimed/NAME` is still there from an
    /// earlier delivery of the same name, this one is claimed as `NAME.2`, `NAME.3`…
    /// rather than replacing it.
    ///
    /// No fsync: a claim that a crash undoes leaves the file in `new/`, where the next
    /// scan claims it again.
    public func claim(_ name: SpoolEntryName) throws(SpoolIOError) -> ClaimedFile? {
        guard name.isSingleComponent else {
            throw SpoolIOError(operation: "claim", path: newPath + "/" + name.description, errno: EINVAL)
        }
        let source = SpoolPath(newPath, name)
        for attempt in 1...1000 {
            let target = attempt == 1 ? name : name.suffixed(attempt)
            switch try FileSystem.renameWithoutReplacing(source, SpoolPath(claimedPath, target)) {
            case .moved: return ClaimedFile(name: target)
            case .sourceMissing: return nil
            case .targetExists: continue
            }
        }
        throw SpoolIOError(operation: "claim (every suffix taken)", path: source.display, errno: EEXIST)
    }

    /// Removes a claimed file once its content is committed to the store. A file that
    /// is already gone counts as removed.
    ///
    /// No fsync: if a crash undoes the unlink, recovery ingests the file again and the
    /// store records it as a duplicate.
    public func complete(_ claimed: ClaimedFile) throws(SpoolIOError) {
        let path = SpoolPath(claimedPath, claimed.name)
        guard unlink(path.cString) == 0 || errno == ENOENT else { throw path.error("unlink") }
    }

    /// What tells this delivery apart from another under the same name: a crash leaves
    /// the same file (device, inode, size, mtime) in claimed/, a writer delivering again
    /// makes a new one. Nil when the file is gone. Looked up by the name's bytes, never
    /// by its escaped form (which names another file, or none).
    public func deliveryIdentity(of claimed: ClaimedFile) -> String? {
        guard case .success(let status) = FileSystem.status(SpoolPath(claimedPath, claimed.name)) else { return nil }
        let time = status.st_mtim
        return "\(status.st_dev)|\(status.st_ino)|\(status.st_size)|\(time.tv_sec).\(time.tv_nsec)"
    }

    /// Counts entries of `new/`, `claimed/` and `rejected/` (not the `.reason` files,
    /// nor dotfiles) and the age of the oldest delivery waiting in `new/`.
    public func backlog(now: Date = Date()) throws(SpoolIOError) -> SpoolBacklog {
        let waiting = try newListing.entries().filter { !$0.name.isDotfile }
        let claimed = try claimedListing.entries().filter { !$0.name.isDotfile }
        let rejected = try FileSystem.entries(of: rejectedPath).filter {
            !$0.name.isDotfile && !$0.name.bytes.ends(with: Self.reasonSuffix)
        }
        let oldest = waiting.map(\.status.modified).min()
        let age = oldest.map { Duration.seconds(max(0, now.timeIntervalSince($0))) }
        return SpoolBacklog(new: waiting.count, claimed: claimed.count, rejected: rejected.count, oldestNewAge: age)
    }

    static let reasonSuffix = Array(".reason".utf8)
}

extension Array where Element: Equatable {
    func ends(with suffix: [Element]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
