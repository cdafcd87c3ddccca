import Glibc
import Synchronization

/// An open directory stream kept for listing one spool directory again and again.
///
/// Listing then needs no new descriptor: a daemon that has run out of them (EMFILE,
/// ENFILE) still sees and claims what arrives, and the file it then cannot open stays
/// claimed for a later pass instead of the whole intake going blind. `rewinddir` makes
/// each listing see the directory as it is now. Should the directory be replaced (an
/// operator recreating it), the stream is reopened on the new one.
final class DirectoryListing: Sendable {
    let path: String
    private let stream = Mutex<OpaquePointer?>(nil)

    init(_ path: String) {
        self.path = path
    }

    deinit {
        stream.withLock { handle in
            if let handle { closedir(handle) }
        }
    }

    /// The directory's entries with their lstat, as `FileSystem.entries(of:)` answers them.
    func entries() throws(SpoolIOError) -> [DirectoryEntry] {
        let result: Result<[DirectoryEntry], SpoolIOError> = stream.withLock { handle in
            do throws(SpoolIOError) {
                let current = try current(&handle)
                rewinddir(current)
                return .success(try FileSystem.entries(of: current, path: path))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The open stream, opened (again) when there is none or it shows another directory
    /// than the one at `path` now.
    private func current(_ handle: inout OpaquePointer?) throws(SpoolIOError) -> OpaquePointer {
        if let open = handle {
            var opened = stat()
            var named = stat()
            if fstat(dirfd(open), &opened) == 0, stat(path, &named) == 0, opened.st_dev == named.st_dev,
                opened.st_ino == named.st_ino
            {
                return open
            }
            closedir(open)
            handle = nil
        }
        guard let fresh = opendir(path) else { throw SpoolPath(path).error("opendir") }
        handle = fresh
        return fresh
    }
}
