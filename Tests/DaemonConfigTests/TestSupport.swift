import DaemonConfig
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fixed account database, so tests do not depend on the machine's /etc/passwd.
struct FakeAccountDirectory: AccountDirectory {
    var users: [UserAccount] = []
    var groups: [GroupAccount] = []
    /// Supplementary memberships by user name, as /etc/group would list them.
    var memberships: [String: [gid_t]] = [:]
    /// Every lookup fails as a broken NSS setup would.
    var failing = false

    static let standard = FakeAccountDirectory(
        users: [
            UserAccount(name: "root", uid: 0, gid: 0),
            UserAccount(name: "alice", uid: 1001, gid: 1001),
            UserAccount(name: "partner-app", uid: 1002, gid: 1002),
            UserAccount(name: "carol", uid: 1003, gid: 1003),
        ],
        groups: [
            GroupAccount(name: "root", gid: 0),
            GroupAccount(name: "wbkeyd-admin", gid: 990),
            GroupAccount(name: "wbkeyd-secrets", gid: 991),
            GroupAccount(name: "partner-app", gid: 1002),
            GroupAccount(name: "ops", gid: 2000),
        ],
        memberships: ["alice": [990], "carol": [991]]
    )

    func user(named name: String) throws(AccountLookupError) -> UserAccount? {
        try failIfAsked("user \(name)")
        return users.first { $0.name == name }
    }

    func user(id uid: uid_t) throws(AccountLookupError) -> UserAccount? {
        try failIfAsked("uid \(uid)")
        return users.first { $0.uid == uid }
    }

    func group(named name: String) throws(AccountLookupError) -> GroupAccount? {
        try failIfAsked("group \(name)")
        return groups.first { $0.name == name }
    }

    func groupIDs(ofUser name: String, primaryGroup gid: gid_t) throws(AccountLookupError) -> [gid_t] {
        try failIfAsked("groups of \(name)")
        return [gid] + (memberships[name] ?? [])
    }

    private func failIfAsked(_ query: String) throws(AccountLookupError) {
        if failing { throw AccountLookupError(query: query, reason: "Input/output error") }
    }
}

/// Builds config text: a minimal valid file (the one required key) plus overrides, each a
/// dotted key and a TOML value as written in the file.
enum ConfigText {
    static let sections = ["whitebit", "spool", "keys", "store", "control", "agent", "metrics"]
    static let base = ["whitebit.client_id": "\"partner-1\""]

    static func valid(_ overrides: [String: String] = [:]) -> String {
        let merged = base.merging(overrides) { $1 }
        var text = ""
        for section in sections {
            let entries = merged.filter { $0.key.hasPrefix(section + ".") }.sorted { $0.key < $1.key }
            guard !entries.isEmpty else { continue }
            text += "[\(section)]\n"
            for (key, value) in entries {
                text += "\(key.dropFirst(section.count + 1)) = \(value)\n"
            }
            text += "\n"
        }
        return text
    }
}

let testConfigPath = "/etc/wbkeyd/test.toml"
let testCredentialsDirectory = "/run/credentials/wbkeyd.service"

func makeLoader(
    accounts: FakeAccountDirectory = .standard,
    environment: [String: String] = ["CREDENTIALS_DIRECTORY": testCredentialsDirectory]
) -> ConfigurationLoader {
    ConfigurationLoader(accounts: accounts, environment: environment)
}

/// The problems of loading `text`, or none when it loads.
func problems(of text: String, loader: ConfigurationLoader = makeLoader()) -> [ConfigurationProblem] {
    do {
        _ = try loader.load(text: text, path: testConfigPath)
        return []
    } catch {
        return error.problems
    }
}

/// A real directory under the system temp dir, removed when the test is done with it.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let base = NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
        var template = Array((base + "/wbkeyd-config-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        path = String(cString: created)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `bytes` to a new file and sets its mode exactly (umask does not apply).
    @discardableResult
    func write(_ name: String, bytes: [UInt8], mode: mode_t) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        guard chmod(file, mode) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return file
    }

    @discardableResult
    func write(_ name: String, text: String, mode: mode_t) throws -> String {
        try write(name, bytes: Array(text.utf8), mode: mode)
    }
}

/// The repository's etc/wbkeyd.toml, found from this source file's location.
let exampleConfigPath: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("etc/wbkeyd.toml").path
