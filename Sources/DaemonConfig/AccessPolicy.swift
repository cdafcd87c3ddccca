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
    /// `balance`, `history` (with admins) and `sign`: root and `control.agent_users`
    /// (docs/design.md §12), the partner application as the user's key agent.
    case agent

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
    public let agentUsers: [UserAccount]
    public let agentGroups: [GroupAccount]
    /// The group a socket wbkeyd binds gets: `control.socket_group`, else the admin group;
    /// nil: wbkeyd's own group.
    public let socketGroup: GroupAccount?

    public init(
        adminGroup: GroupAccount?, secretReaderUsers: [UserAccount] = [], secretReaderGroups: [GroupAccount] = [],
        agentUsers: [UserAccount] = [], agentGroups: [GroupAccount] = [], socketGroup: GroupAccount? = nil
    ) {
        self.adminGroup = adminGroup
        self.secretReaderUsers = secretReaderUsers
        self.secretReaderGroups = secretReaderGroups
        self.agentUsers = agentUsers
        self.agentGroups = agentGroups
        self.socketGroup = socketGroup ?? adminGroup
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
        var socketGroup: GroupAccount?
        if !control.socketGroup.isEmpty {
            do {
                socketGroup = try accounts.group(named: control.socketGroup)
                if socketGroup == nil {
                    problems.append(("control.socket_group", "no such group \"\(control.socketGroup)\" (use \"\" for control.admin_group)"))
                }
            } catch {
                problems.append(("control.socket_group", "\(error)"))
            }
        }
        let readers = resolveNames(control.secretReaders, key: "control.secret_readers", in: accounts, problems: &problems)
        let agents = resolveNames(control.agentUsers, key: "control.agent_users", in: accounts, problems: &problems)
        let policy = AccessPolicy(
            adminGroup: adminGroup, secretReaderUsers: readers.users, secretReaderGroups: readers.groups,
            agentUsers: agents.users, agentGroups: agents.groups, socketGroup: socketGroup)
        return (policy, problems)
    }

    /// One list of `user:NAME`, `group:NAME` or bare names, each resolved or a problem under `key`.
    private static func resolveNames(
        _ names: [SecretReader], key: String, in accounts: any AccountDirectory, problems: inout [(key: String, reason: String)]
    ) -> (users: [UserAccount], groups: [GroupAccount]) {
        var users: [UserAccount] = []
        var groups: [GroupAccount] = []
        for entry in names where !entry.name.isEmpty {
            do {
                switch entry {
                case .user(let name):
                    if let user = try accounts.user(named: name) { users.append(user) } else {
                        problems.append((key, "\"\(entry)\": no such user"))
                    }
                case .group(let name):
                    if let group = try accounts.group(named: name) { groups.append(group) } else {
                        problems.append((key, "\"\(entry)\": no such group"))
                    }
                case .userOrGroup(let name):
                    if let user = try accounts.user(named: name) {
                        users.append(user)
                    } else if let group = try accounts.group(named: name) {
                        groups.append(group)
                    } else {
                        problems.append((key, "\"\(entry)\": no such user or group"))
                    }
                }
            } catch {
                problems.append((key, "\"\(entry)\": \(error)"))
            }
        }
        return (users, groups)
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
        if agentUsers.contains(where: { $0.uid == uid }) || agentGroups.contains(where: { groupIDs.contains($0.gid) }) {
            tiers.insert(.agent)
        }
        return PeerAccess(uid: uid, tiers: tiers)
    }
}
