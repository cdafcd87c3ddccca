import Foundation
import Glibc
import Testing
import WBKeydHarness

/// `control.admin_group` and `control.secret_readers` on SIGHUP, seen by a real other
/// account: `nobody`, which every Linux system has, connecting through `setpriv` so that
/// SO_PEERCRED names it. Root always holds every right, so only another account can show
/// rights given and taken away.
@Suite struct ReloadAccessTests {
    @Test func adminAndSecretRightsAreGivenAndTakenAwayLive() async throws {
        try #require(getuid() == 0, "the access tests switch to another account: run as root (CI does)")
        let caller = try OtherAccount.nobody()
        let shared = try TraversableDirectory()
        let socket = shared.path + "/control.sock"
        let options = DaemonFixture.Options(config: [
            "control.socket": .string(socket), "control.mode": "0666",
            "control.admin_group": "", "control.secret_readers": .strings([]),
        ])
        try await withDaemon(options) { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-1")
            let simSecret = try await daemon.simKey(externalID)?.apiSecret
            let adminRefusal = "error: permission denied: `authorize-url` is for root or a member of control.admin_group (you are uid \(caller.uid))\n"
            let secretRefusal = "error: permission denied: `secret` is for root or a member of control.secret_readers or control.agent_users (you are uid \(caller.uid))\n"
            #expect(try await caller.ask("authorize-url u-9", socket: socket) == adminRefusal)
            #expect(try await caller.ask("secret u-1", socket: socket) == secretRefusal)

            try await daemon.reload([
                "control.admin_group": .string(caller.group), "control.secret_readers": .strings(["user:\(caller.name)"]),
            ])
            let url = try await caller.ask("authorize-url u-9", socket: socket)
            #expect(url.hasPrefix(daemon.sim.baseURL + "/auth/login?"), "authorize-url as \(caller): \(url.prefix(300))")
            let answer = try await caller.ask("secret u-1 json", socket: socket)
            let object = try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
            #expect(same(object?["api_secret"] as? String, simSecret), "secret u-1 was not handed to \(caller) after the reload")
            let reads = try await daemon.auditRows("secret_read", user: "u-1")
            #expect(reads.map(\.actor) == ["uid:\(caller.uid)"])

            // The start-up file again: both rights are gone at once.
            try await daemon.reload([:])
            #expect(try await caller.ask("authorize-url u-9", socket: socket) == adminRefusal)
            #expect(try await caller.ask("secret u-1", socket: socket) == secretRefusal)
            #expect(try await daemon.auditRows("secret_read", user: "u-1").count == 1)
        }
    }

    /// `control.agent_users`, `control.secret_delivery` and `agent.sign_paths` on SIGHUP.
    @Test func agentRightsAgentModeAndSignPathsChangeLive() async throws {
        try #require(getuid() == 0, "the access tests switch to another account: run as root (CI does)")
        let caller = try OtherAccount.nobody()
        let shared = try TraversableDirectory()
        let socket = shared.path + "/control.sock"
        let options = DaemonFixture.Options(config: ["control.socket": .string(socket), "control.mode": "0666"])
        try await withDaemon(options) { daemon in
            _ = try await daemon.activeGrant("u-1")
            let sign = "sign u-1 /api/v4/main-account/balance"
            let refusal = "error: permission denied: `sign` is for root or a member of control.agent_users (you are uid \(caller.uid))\n"
            #expect(try await caller.ask(sign, socket: socket) == refusal)

            try await daemon.reload([
                "control.agent_users": .strings(["user:\(caller.name)"]), "control.secret_delivery": false,
                "agent.sign_paths": .strings(["/api/v4/main-account/balance"]),
            ])
            let signed = try await caller.ask(sign + " json", socket: socket)
            #expect(signed.hasPrefix(#"{"body":"{\"request\":\"/api/v4/main-account/balance\""#), "\(signed.prefix(200))")
            let spot = try await caller.ask("sign u-1 /api/v4/trade-account/balance", socket: socket)
            #expect(spot == "error: /api/v4/trade-account/balance is not in agent.sign_paths; wbkeyd signs only those paths\n")
            func asRoot(_ line: String) async throws -> String {
                try await CommandRunner.run("/bin/sh", ["-c", #"printf '%s\n' "$1" | socat -t 30 - "UNIX-CONNECT:$2""#, "sh", line, socket]).standardOutput
            }
            let secret = try await asRoot("secret u-1")
            #expect(secret.hasPrefix("error: `secret` is refused for everyone: control.secret_delivery is false"), "root too: \(secret.prefix(100))")

            try await daemon.reload([:])
            #expect(try await caller.ask(sign, socket: socket) == refusal)
            #expect(try await asRoot("secret u-1").contains("api secret"))
        }
    }

    /// wbkeyd gives the socket it binds the admin group (mode 0660 lets no one else in). A
    /// new admin group must be able to connect after the reload, not only after a restart.
    @Test func theSocketFollowsTheAdminGroup() async throws {
        try #require(getuid() == 0, "the access tests switch to another account: run as root (CI does)")
        let caller = try OtherAccount.nobody()
        let shared = try TraversableDirectory()
        let socket = shared.path + "/control.sock"
        let options = DaemonFixture.Options(config: [
            "control.socket": .string(socket), "control.mode": "0660", "control.admin_group": "",
        ])
        try await withDaemon(options) { daemon in
            #expect(try groupOwner(socket) == getegid())
            let refused = try await caller.ask("status", socket: socket)
            #expect(refused.contains("Permission denied"), "\(caller) connected to a root-only socket: \(refused.prefix(200))")

            try await daemon.reload(["control.admin_group": .string(caller.group)])
            #expect(try groupOwner(socket) == caller.gid)
            let url = try await caller.ask("authorize-url u-9", socket: socket)
            #expect(url.hasPrefix(daemon.sim.baseURL + "/auth/login?"), "authorize-url as \(caller): \(url.prefix(300))")

            try await daemon.reload([:])
            #expect(try groupOwner(socket) == getegid())
            #expect(try await caller.ask("status", socket: socket).contains("Permission denied"))
            #expect(try await ControlClient.send("status json", to: socket).contains(#""phase":"ready""#))
        }
    }

    private func groupOwner(_ path: String) throws -> gid_t {
        var status = stat()
        guard lstat(path, &status) == 0 else { throw HarnessError.setupFailed(what: "lstat", path: path, errno: errno) }
        return status.st_gid
    }
}

/// An account other than root, in its primary group only.
struct OtherAccount: Sendable, CustomStringConvertible {
    let name: String
    let uid: uid_t
    let gid: gid_t
    let group: String

    var description: String { "\(name) (uid \(uid))" }

    static func nobody() throws -> OtherAccount {
        var entry = passwd()
        var group = Glibc.group()
        var found: UnsafeMutablePointer<passwd>?
        var foundGroup: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        var groupBuffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r("nobody", &entry, &buffer, buffer.count, &found) == 0, found != nil,
            getgrgid_r(entry.pw_gid, &group, &groupBuffer, groupBuffer.count, &foundGroup) == 0, foundGroup != nil
        else { throw HarnessError.unexpectedOutput(command: "getpwnam nobody", detail: "no account nobody or no group of its gid") }
        return OtherAccount(name: "nobody", uid: entry.pw_uid, gid: entry.pw_gid, group: String(cString: group.gr_name))
    }

    /// One control line through socat, run as this account; stdout and stderr together.
    func ask(_ line: String, socket: String) async throws -> String {
        let result = try await CommandRunner.run(
            try CommandRunner.onPath("setpriv"),
            [
                "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "/bin/sh", "-c",
                #"printf '%s\n' "$1" | socat - "UNIX-CONNECT:$2""#, "sh", line, socket,
            ])
        return result.standardOutput + result.standardError
    }
}

/// A directory every account may traverse (0711) but not list, for a control socket that
/// another account connects to; the fixture's own directory is private.
final class TraversableDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/wbkeyd-reload.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw HarnessError.setupFailed(what: "mkdtemp", path: "/tmp/wbkeyd-reload.XXXXXX", errno: errno)
        }
        path = String(cString: made)
        chmod(path, 0o711)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
