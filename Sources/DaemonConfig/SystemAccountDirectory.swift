#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The C struct, named apart from `group(named:)` so that member lookup does not shadow it.
private typealias GroupEntry = group

/// The machine's own account database, through the reentrant NSS calls (so it is safe to
/// use from any thread and sees LDAP or systemd-userdb users as well as /etc/passwd).
public struct SystemAccountDirectory: AccountDirectory {
    public init() {}

    public func user(named name: String) throws(AccountLookupError) -> UserAccount? {
        try lookUpUser(query: "user \"\(name)\"") { entry, buffer, size, result in
            getpwnam_r(name, entry, buffer, size, result)
        }
    }

    public func user(id uid: uid_t) throws(AccountLookupError) -> UserAccount? {
        try lookUpUser(query: "uid \(uid)") { entry, buffer, size, result in
            getpwuid_r(uid, entry, buffer, size, result)
        }
    }

    public func group(named name: String) throws(AccountLookupError) -> GroupAccount? {
        var entry = GroupEntry()
        var result: UnsafeMutablePointer<GroupEntry>?
        return try withGrowingBuffer(query: "group \"\(name)\"") { buffer, size in
            getgrnam_r(name, &entry, buffer, size, &result)
        } found: {
            guard let found = result else { return nil }
            return GroupAccount(name: String(cString: found.pointee.gr_name), gid: found.pointee.gr_gid)
        }
    }

    public func groupIDs(ofUser name: String, primaryGroup gid: gid_t) throws(AccountLookupError) -> [gid_t] {
        var capacity: Int32 = 32
        // getgrouplist reports the count it needs when the array is short; a user added to
        // groups between two calls just costs another round.
        for _ in 0..<8 {
            var groups = [gid_t](repeating: 0, count: Int(capacity))
            var count = capacity
            let status = groups.withUnsafeMutableBufferPointer { buffer in
                getgrouplist(name, Self.listGroup(gid), Self.listPointer(buffer.baseAddress!), &count)
            }
            if status >= 0 {
                return Array(groups.prefix(Int(count)))
            }
            capacity = max(count, capacity * 2)
        }
        throw AccountLookupError(query: "groups of user \"\(name)\"", reason: "the group list keeps growing")
    }

    private func lookUpUser(
        query: String,
        _ call: (UnsafeMutablePointer<passwd>, UnsafeMutablePointer<CChar>, Int, UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>) -> Int32
    ) throws(AccountLookupError) -> UserAccount? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        return try withGrowingBuffer(query: query) { buffer, size in
            call(&entry, buffer, size, &result)
        } found: {
            guard let found = result else { return nil }
            return UserAccount(name: String(cString: found.pointee.pw_name), uid: found.pointee.pw_uid, gid: found.pointee.pw_gid)
        }
    }

    /// Runs a `get*_r` call with a buffer that doubles on ERANGE. The "not found" errnos
    /// that the man page lists (ENOENT, ESRCH, EBADF, EPERM) mean no such entry.
    private func withGrowingBuffer<Entry>(
        query: String,
        _ call: (UnsafeMutablePointer<CChar>, Int) -> Int32,
        found: () -> Entry?
    ) throws(AccountLookupError) -> Entry? {
        var size = 1_024
        while size <= 1 << 20 {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            let status = call(buffer, size)
            switch status {
            case 0:
                return found()
            case ERANGE:
                size *= 2
            case ENOENT, ESRCH, EBADF, EPERM:
                return nil
            default:
                throw AccountLookupError(query: query, reason: String(cString: strerror(status)))
            }
        }
        throw AccountLookupError(query: query, reason: "the entry is larger than 1 MiB")
    }

    #if canImport(Darwin)
    private static func listGroup(_ gid: gid_t) -> Int32 { Int32(bitPattern: gid) }
    private static func listPointer(_ pointer: UnsafeMutablePointer<gid_t>) -> UnsafeMutablePointer<Int32> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Int32.self)
    }
    #else
    private static func listGroup(_ gid: gid_t) -> gid_t { gid }
    private static func listPointer(_ pointer: UnsafeMutablePointer<gid_t>) -> UnsafeMutablePointer<gid_t> { pointer }
    #endif
}
