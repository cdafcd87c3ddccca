#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A user as the account database knows it.
public struct UserAccount: Sendable, Hashable {
    public let name: String
    public let uid: uid_t
    /// The primary group (`pw_gid`).
    public let gid: gid_t

    public init(name: String, uid: uid_t, gid: gid_t) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }
}

/// A group as the account database knows it.
public struct GroupAccount: Sendable, Hashable {
    public let name: String
    public let gid: gid_t

    public init(name: String, gid: gid_t) {
        self.name = name
        self.gid = gid
    }
}

/// The account database failed (not: the name does not exist, which is a `nil` answer).
/// Carries the errno text, so an operator can tell a broken NSS setup from a typo.
public struct AccountLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    public let query: String
    public let reason: String

    public init(query: String, reason: String) {
        self.query = query
        self.reason = reason
    }

    public var description: String { "looking up \(query) failed: \(reason)" }
}

/// Where user and group names come from. wbkeyd uses `SystemAccountDirectory` (NSS through
/// getpwnam_r and friends); tests use a fixed table, so they do not depend on the accounts
/// of the machine that runs them.
public protocol AccountDirectory: Sendable {
    func user(named name: String) throws(AccountLookupError) -> UserAccount?
    func user(id uid: uid_t) throws(AccountLookupError) -> UserAccount?
    func group(named name: String) throws(AccountLookupError) -> GroupAccount?
    /// Every group the user belongs to, its primary group included, as `getgrouplist` gives
    /// them: the supplementary groups come from the group database, not from the process.
    func groupIDs(ofUser name: String, primaryGroup gid: gid_t) throws(AccountLookupError) -> [gid_t]
}
