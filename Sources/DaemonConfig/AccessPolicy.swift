#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a control-socket peer may do (docs/design.md §7). The tiers are not a ladder: a secret
/// reader (the partner application's account) may fetch secrets without being an admin,
/// and an admin may revoke keys without being able to read their secrets. Root is both.
public enum AccessTier: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `help`, `status`, `grants`, `show`, `audit`, `metrics`: anyone who can connect.
    case readOnly = "read-only"
    /// `authorize-url`, `reconcile`, `revoke`: root and members of `control.admin_group`.
    case admin
    /// `secret`: root and `control.secret_readers`.
    case secretReader = "secret-reader"

    public var description: String { rawValue }
}

/// The tiers one connected peer holds.
public struct PeerAccess: Sendable, Equatable {
    public let uid: uid_t
    public let tiers: Set<AccessTier>

    public init(uid: uid_t, tiers: Set<AccessTier>) {
        self.uid = uid
        self.tiers = tiers
    }

    public func allows(_ tier: AccessTier) -> Bool {
        tiers.contains(tier)
    }
}

/// `control.admin_group` and `control.secret_readers` resolved to ids. Resolved once per
/// (re)load, so a name that does not exist is a config error, not a silent lock-out.
public struct AccessPolicy: Sendable, Equatable {
    /// `nil`: admin commands are for root only.
    public let adminGroup: GroupAccount?
    public let secretReaderUsers: [UserAccount]
    public let secretReaderGroups: [GroupAccount]

    public init(adminGroup: GroupAccount?, secretReaderUsers: [UserAccount] = [], secretReaderGroups: [GroupAccount] = []) {
        self.adminGroup = adminGroup
        self.secretReaderUsers = secretReaderUsers
        self.secretReaderGroups = secretReaderGroups
    }

    /// Only root may do more than read.
    public static let rootOnly = AccessPolicy(adminGroup: nil)

    /// Resolves the names of `[control]`; each name that does not resolve is a problem
    /// keyed by its setting, and all of them are collected.
    static func resolve(
        _ control: DaemonConfiguration.Control, in accounts: any AccountDirectory
    ) -> (policy: AccessPolicy, problems: [(key: String, reason: String)]) {
        var problems: [(key: String, reason: String)] = []
        var adminGroup: GroupAccount?
        if !control.adminGroup.isEmpty {
            do {
                adminGroup = try accounts.group(named: control.adminGroup)
                if adminGroup == nil {
                    problems.append(("control.admin_group", "no such group \"\(control.adminGroup)\" (use \"\" for root only)"))
                }
            } catch {
                problems.append(("control.admin_group", "\(error)"))
            }
        }
        var users: [UserAccount] = []
        var groups: [GroupAccount] = []
        for reader in control.secretReaders where !reader.name.isEmpty {
            do {
                switch reader {
                case .user(let name):
                    if let user = try accounts.user(named: name) { users.append(user) } else {
                        problems.append(("control.secret_readers", "\"\(reader)\": no such user"))
                    }
                case .group(let name):
                    if let group = try accounts.group(named: name) { groups.append(group) } else {
                        problems.append(("control.secret_readers", "\"\(reader)\": no such group"))
                    }
                case .userOrGroup(let name):
                    if let user = try accounts.user(named: name) {
                        users.append(user)
                    } else if let group = try accounts.group(named: name) {
                        groups.append(group)
                    } else {
                        problems.append(("control.secret_readers", "\"\(reader)\": no such user or group"))
                    }
                }
            } catch {
                problems.append(("control.secret_readers", "\"\(reader)\": \(error)"))
            }
        }
        let policy = AccessPolicy(adminGroup: adminGroup, secretReaderUsers: users, secretReaderGroups: groups)
        return (policy, problems)
    }

    /// The tiers of a peer known by its SO_PEERCRED uid and gid. Group membership is the
    /// peer's gid plus what the group database gives its user (`getgrouplist`), looked up
    /// now, so a change in /etc/group takes effect without a reload. When the lookup fails
    /// the peer keeps only what its uid and gid prove by themselves: fail closed.
    public func access(peerUID uid: uid_t, peerGID gid: gid_t, accounts: any AccountDirectory) -> PeerAccess {
        if uid == 0 {
            return PeerAccess(uid: uid, tiers: Set(AccessTier.allCases))
        }
        var groupIDs: Set<gid_t> = [gid]
        if let user = try? accounts.user(id: uid),
           let listed = try? accounts.groupIDs(ofUser: user.name, primaryGroup: user.gid) {
            groupIDs.formUnion(listed)
        }
        var tiers: Set<AccessTier> = [.readOnly]
        if let adminGroup, groupIDs.contains(adminGroup.gid) {
            tiers.insert(.admin)
        }
        let namedUser = secretReaderUsers.contains { $0.uid == uid }
        let inNamedGroup = secretReaderGroups.contains { groupIDs.contains($0.gid) }
        if namedUser || inNamedGroup {
            tiers.insert(.secretReader)
        }
        return PeerAccess(uid: uid, tiers: tiers)
    }
}
