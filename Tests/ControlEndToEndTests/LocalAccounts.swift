import Foundation
import WBKeydHarness

/// A real account of this machine, to connect as through `setpriv`.
struct LocalAccount: Sendable, CustomStringConvertible {
    let name: String
    let uid: UInt32
    let primaryGroup: String

    var description: String { "\(name) (uid \(uid))" }
}

/// The accounts the tier tests connect as, made once per test run with the system's own
/// tools (`groupadd`, `useradd --system`), idempotently: a second test racing this one, or
/// a run after one that was killed, finds them made. `scripts/remove-test-accounts` (run by
/// `make test` and `make check` after `swift test`) removes them again.
enum TierAccounts {
    static let adminGroup = "wbkeyd-e2e-admins"
    static let readerGroup = "wbkeyd-e2e-readers"
    static let plainName = "wbkeyd-e2e-plain"
    static let adminName = "wbkeyd-e2e-admin"
    static let readerName = "wbkeyd-e2e-reader"
    static let groupReaderName = "wbkeyd-e2e-greader"
    /// The partner application's group (`control.agent_users`) and the socket's group
    /// (`control.socket_group`), as wbkeyd-agents and wbkeyd-clients are in the shipped units.
    static let agentGroup = "wbkeyd-e2e-agents"
    static let clientsGroup = "wbkeyd-e2e-clients"
    static let agentName = "wbkeyd-e2e-agent"

    struct Accounts: Sendable {
        /// No group that grants anything.
        let plain: LocalAccount
        /// A member of `adminGroup` (a supplementary group: only the group database says so).
        let admin: LocalAccount
        /// Named in `secret_readers` as `user:NAME`.
        let reader: LocalAccount
        /// A member of `readerGroup`, named in `secret_readers` as `group:NAME`.
        let groupReader: LocalAccount
        /// A member of `agentGroup` and `clientsGroup`, nothing else.
        let agent: LocalAccount
    }

    /// One making at a time: useradd and groupadd lock /etc/passwd and fail when raced.
    private actor Maker {
        private var making: Task<Accounts, any Error>?

        func accounts() async throws -> Accounts {
            if let making { return try await making.value }
            let task = Task { try await TierAccounts.make() }
            making = task
            return try await task.value
        }
    }

    private static let maker = Maker()

    static func ensure() async throws -> Accounts {
        try await maker.accounts()
    }

    private static func make() async throws -> Accounts {
        for group in [adminGroup, readerGroup, agentGroup, clientsGroup] {
            try await run("/usr/sbin/groupadd", ["--system", "--force", group])
        }
        for (name, groups) in [(plainName, ""), (adminName, adminGroup), (readerName, ""), (groupReaderName, readerGroup),
            (agentName, agentGroup + "," + clientsGroup)] {
            let created = try await CommandRunner.run(
                "/usr/sbin/useradd",
                ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group"] + (groups.isEmpty ? [] : ["--groups", groups]) + [name])
            // 9: the name is taken, i.e. made by an earlier run; make sure of the groups then.
            guard created.exitStatus == 0 || created.exitStatus == 9 else {
                throw AnswerProblem(description: "useradd \(name) failed: \(created.standardError)")
            }
            if !groups.isEmpty { try await run("/usr/sbin/usermod", ["--append", "--groups", groups, name]) }
        }
        return Accounts(
            plain: try lookUp(plainName), admin: try lookUp(adminName), reader: try lookUp(readerName),
            groupReader: try lookUp(groupReaderName), agent: try lookUp(agentName))
    }

    private static func lookUp(_ name: String) throws -> LocalAccount {
        guard let entry = getpwnam(name), let group = getgrgid(entry.pointee.pw_gid) else {
            throw AnswerProblem(description: "no account \(name) after useradd")
        }
        return LocalAccount(name: name, uid: entry.pointee.pw_uid, primaryGroup: String(cString: group.pointee.gr_name))
    }

    private static func run(_ path: String, _ arguments: [String]) async throws {
        let result = try await CommandRunner.run(path, arguments)
        guard result.exitStatus == 0 else {
            throw AnswerProblem(description: "\(path) \(arguments.joined(separator: " ")) failed: \(result.standardError)")
        }
    }
}

/// A directory that every account may traverse (0711) but not list, for the control
/// socket and a copy of wbkeyctl that other accounts may run; removed at the end.
final class SharedDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/wbkeyd-tiers.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw AnswerProblem(description: "mkdtemp: \(String(cString: strerror(errno)))") }
        path = String(cString: made)
        chmod(path, 0o711)
    }

    /// A copy of `program` here, mode 0755. Written through a close-on-exec descriptor:
    /// a child that another test forks meanwhile must not inherit it open for writing,
    /// or running the copy fails with ETXTBSY ("Text file busy").
    func install(_ program: String) throws -> String {
        let target = path + "/" + URL(fileURLWithPath: program).lastPathComponent
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: program)))
        let descriptor = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else { throw AnswerProblem(description: "create \(target): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw AnswerProblem(description: "write \(target): \(String(cString: strerror(errno)))") }
            written += count
        }
        fchmod(descriptor, 0o755)
        return target
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
