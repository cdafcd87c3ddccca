import DaemonConfig
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct AccessPolicyTests {
    let accounts = FakeAccountDirectory.standard

    /// `admin_group = "wbkeyd-admin"`, `secret_readers = ["partner-app", "group:wbkeyd-secrets"]`.
    func standardPolicy() throws -> AccessPolicy {
        let text = ConfigText.valid(["control.secret_readers": "[\"partner-app\", \"group:wbkeyd-secrets\"]"])
        return try makeLoader().load(text: text, path: testConfigPath).access
    }

    @Test func rootHoldsEveryTierEvenWithNobodyNamed() throws {
        let access = AccessPolicy.rootOnly.access(peerUID: 0, peerGID: 0, accounts: accounts)
        #expect(access.tiers == [.readOnly, .admin, .secretReader, .agent])
        #expect(try standardPolicy().access(peerUID: 0, peerGID: 0, accounts: accounts).tiers == Set(AccessTier.allCases))
    }

    @Test func aSupplementaryMemberOfTheAdminGroupIsAdminButNoSecretReader() throws {
        // alice's primary group is 1001; /etc/group lists her in wbkeyd-admin (990).
        let access = try standardPolicy().access(peerUID: 1001, peerGID: 1001, accounts: accounts)
        #expect(access.tiers == [.readOnly, .admin])
        #expect(access.allows(.admin))
        #expect(!access.allows(.secretReader))
    }

    @Test func thePeerGIDCountsOnItsOwn() throws {
        // An unlisted user whose process runs with gid 990 (e.g. via sg or setgid).
        let access = try standardPolicy().access(peerUID: 4242, peerGID: 990, accounts: accounts)
        #expect(access.tiers == [.readOnly, .admin])
    }

    @Test func aNamedSecretReaderUserIsNoAdmin() throws {
        let access = try standardPolicy().access(peerUID: 1002, peerGID: 1002, accounts: accounts)
        #expect(access.tiers == [.readOnly, .secretReader])
    }

    @Test func aMemberOfASecretReaderGroupReadsSecrets() throws {
        // carol is in wbkeyd-secrets (991) through /etc/group only.
        let access = try standardPolicy().access(peerUID: 1003, peerGID: 1003, accounts: accounts)
        #expect(access.tiers == [.readOnly, .secretReader])
    }

    @Test func agentUsersAndGroupsAreAgentsAndNothingMore() throws {
        let text = ConfigText.valid(["control.agent_users": "[\"user:partner-app\", \"group:wbkeyd-secrets\"]"])
        let policy = try makeLoader().load(text: text, path: testConfigPath).access
        #expect(policy.agentUsers.map(\.uid) == [1002] && policy.agentGroups.map(\.gid) == [991])
        #expect(policy.access(peerUID: 1002, peerGID: 1002, accounts: accounts).tiers == [.readOnly, .agent])
        // carol, through /etc/group only.
        #expect(policy.access(peerUID: 1003, peerGID: 1003, accounts: accounts).tiers == [.readOnly, .agent])
        #expect(policy.access(peerUID: 1001, peerGID: 1001, accounts: accounts).tiers == [.readOnly, .admin])
        #expect(policy.access(peerUID: 5000, peerGID: 5000, accounts: accounts).tiers == [.readOnly])
    }

    @Test func theSocketGroupIsTheAdminGroupUnlessNamed() throws {
        #expect(try standardPolicy().socketGroup?.gid == 990)
        let named = try makeLoader().load(text: ConfigText.valid(["control.socket_group": "\"ops\""]), path: testConfigPath).access
        #expect(named.socketGroup?.gid == 2000 && named.adminGroup?.gid == 990)
        let rootOnly = try makeLoader().load(text: ConfigText.valid(["control.admin_group": "\"\""]), path: testConfigPath).access
        #expect(rootOnly.socketGroup == nil)
    }

    @Test func anyoneElseIsReadOnly() throws {
        #expect(try standardPolicy().access(peerUID: 5000, peerGID: 5000, accounts: accounts).tiers == [.readOnly])
        // A uid that merely shares a number with a secret-reader group is not in it.
        #expect(try standardPolicy().access(peerUID: 991, peerGID: 5000, accounts: accounts).tiers == [.readOnly])
    }

    @Test func withoutAnAdminGroupOnlyRootAdministers() throws {
        let text = ConfigText.valid(["control.admin_group": "\"\""])
        let policy = try makeLoader().load(text: text, path: testConfigPath).access
        #expect(policy.adminGroup == nil)
        #expect(policy.access(peerUID: 1001, peerGID: 990, accounts: accounts).tiers == [.readOnly])
    }

    @Test func aFailingAccountDatabaseFailsClosed() throws {
        var broken = accounts
        broken.failing = true
        let policy = try standardPolicy()
        // alice's admin membership is only in the group database, which cannot be read now.
        #expect(policy.access(peerUID: 1001, peerGID: 1001, accounts: broken).tiers == [.readOnly])
        // What the peer credentials prove by themselves still holds.
        #expect(policy.access(peerUID: 1002, peerGID: 990, accounts: broken).tiers == [.readOnly, .admin, .secretReader])
    }

    @Test func membershipIsLookedUpPerPeerSoGroupChangesNeedNoReload() throws {
        let policy = try standardPolicy()
        var changed = accounts
        changed.memberships["alice"] = []
        #expect(policy.access(peerUID: 1001, peerGID: 1001, accounts: accounts).allows(.admin))
        #expect(!policy.access(peerUID: 1001, peerGID: 1001, accounts: changed).allows(.admin))
    }

    @Test func tierNamesAreThoseOperatorsRead() {
        #expect(AccessTier.allCases.map(\.description) == ["read-only", "admin", "secret-reader", "agent"])
    }
}

/// The real account database: root is on every Linux system, so these hold anywhere.
@Suite struct SystemAccountDirectoryTests {
    let directory = SystemAccountDirectory()

    @Test func findsRootByNameAndByID() throws {
        #expect(try directory.user(named: "root") == UserAccount(name: "root", uid: 0, gid: 0))
        #expect(try directory.user(id: 0)?.name == "root")
        #expect(try directory.group(named: "root") == GroupAccount(name: "root", gid: 0))
    }

    @Test func groupListIncludesThePrimaryGroup() throws {
        #expect(try directory.groupIDs(ofUser: "root", primaryGroup: 0).contains(0))
    }

    @Test func unknownNamesAreNilNotErrors() throws {
        #expect(try directory.user(named: "wbkeyd-no-such-user-7f3e") == nil)
        #expect(try directory.group(named: "wbkeyd-no-such-group-7f3e") == nil)
        #expect(try directory.user(id: 3_999_999_999) == nil)
    }

    @Test func theCurrentProcessUserResolves() throws {
        let user = try #require(try directory.user(id: getuid()))
        #expect(user.uid == getuid())
        #expect(try directory.groupIDs(ofUser: user.name, primaryGroup: user.gid).contains(user.gid))
    }
}
