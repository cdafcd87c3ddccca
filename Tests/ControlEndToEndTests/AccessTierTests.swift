import Foundation
import Testing
import WBKeydHarness

/// docs/design.md §7's tiers with real accounts: who may connect is the socket's mode and
/// group; what each may do is decided from SO_PEERCRED and the group database.
@Suite struct AccessTierTests {
    static let readOnly = ["help", "status", "status json", "grants", "show u-1", "audit 5", "metrics", "wait u-1 active"]
    static let adminOnly = ["authorize-url u-9", "reconcile u-1 dry-run", "revoke nobody"]

    @Test func eachTierRunsItsCommandsAndEveryRefusalSaysWhy() async throws {
        try #require(getuid() == 0, "the tier tests create local accounts and switch to them: run as root (CI does)")
        let accounts = try await TierAccounts.ensure()
        let shared = try SharedDirectory()
        let wbkeyctl = try shared.install(BuiltProgram.wbkeyctl)
        let options = DaemonFixture.Options(config: [
            "control.socket": .string(shared.path + "/control.sock"),
            "control.mode": "0666",
            "control.admin_group": .string(TierAccounts.adminGroup),
            "control.secret_readers": .strings(["user:\(TierAccounts.readerName)", "group:\(TierAccounts.readerGroup)"]),
        ])
        try await DaemonFixture.withDaemon(options) { daemon in
            let session = Session(daemon, socket: shared.path + "/control.sock", wbkeyctlPath: wbkeyctl)
            for user in ["u-1", "u-2"] {
                try await daemon.consentAndSubmit(user: user)
                try await session.awaitActive(user)
            }
            let callers: [(LocalAccount?, admin: Bool, reader: Bool)] = [
                (nil, true, true), (accounts.plain, false, false), (accounts.admin, true, false),
                (accounts.reader, false, true), (accounts.groupReader, false, true),
            ]
            for (account, isAdmin, isReader) in callers {
                let uid = account?.uid ?? 0
                for tool in ControlTool.allCases {
                    for line in Self.readOnly {
                        let answer = try await session.ask(line, via: tool, as: account)
                        #expect(!answer.isError && answer.exitStatus == 0, "`\(line)` as \(account?.description ?? "root") via \(tool): \(answer.text.prefix(200))")
                    }
                    for line in Self.adminOnly {
                        let answer = try await session.ask(line, via: tool, as: account)
                        let command = String(line.prefix { $0 != " " })
                        let refusal = "error: permission denied: `\(command)` is for root or a member of control.admin_group (you are uid \(uid))\n"
                        if isAdmin {
                            #expect(answer.text != refusal && !answer.text.contains("permission denied"), "`\(line)` refused to \(account?.description ?? "root")")
                        } else {
                            #expect(answer.text == refusal, "`\(line)` as \(account?.description ?? "root") via \(tool): \(answer.text.prefix(200))")
                            if tool == .wbkeyctl { #expect(answer.exitStatus == 1) }
                        }
                    }
                    // `events` holds the connection for those it admits (EventsTests); here only its refusal.
                    if !isAdmin {
                        let answer = try await session.ask("events", via: tool, as: account)
                        let refusal = "error: permission denied: `events` is for root or a member of control.agent_users or control.admin_group (you are uid \(uid))\n"
                        #expect(answer.text == refusal, "`events` as \(account?.description ?? "root") via \(tool): \(answer.text.prefix(200))")
                    }
                    let secret = try await session.ask("secret u-1", via: tool, as: account)
                    let refusal = "error: permission denied: `secret` is for root or a member of control.secret_readers or control.agent_users (you are uid \(uid))\n"
                    if isReader {
                        #expect(secret.fields["api secret"]?.isEmpty == false, "secret refused to \(account?.description ?? "root"): \(secret.text.prefix(200))")
                    } else {
                        #expect(secret.text == refusal, "secret as \(account?.description ?? "root") via \(tool): \(secret.text.prefix(200))")
                        #expect(!secret.text.contains("api secret"))
                    }
                }
            }

            let revoke = try await session.ask("revoke u-2 offboarded", via: .wbkeyctl, as: accounts.admin)
            #expect(revoke.text == "u-2: revoked (offboarded)\n", "\(revoke.text)")
            let rows = try await daemon.auditRows()
            #expect(rows.first { $0.event == "revoke_requested" && $0.user == "u-2" }?.actor == "uid:\(accounts.admin.uid)")
            let readers = rows.filter { $0.event == "secret_read" }.map(\.actor)
            for (account, expected) in [(nil, 2), (accounts.reader, 2), (accounts.groupReader, 2), (accounts.plain, 0), (accounts.admin, 0)] as [(LocalAccount?, Int)] {
                let actor = "uid:\(account?.uid ?? 0)"
                #expect(readers.filter { $0 == actor }.count == expected, "secret_read rows by \(actor)")
            }
            // Each refusal is audited by uid, command word and reason, at most one row per
            // uid and minute: plain was refused eight times, the admin and the readers twice
            // each (the first of them is the row).
            for (account, command, reason) in [
                (accounts.plain, "authorize-url", "needs root or a member of control.admin_group"),
                (accounts.admin, "secret", "needs root or a member of control.secret_readers or control.agent_users"),
                (accounts.reader, "authorize-url", "needs root or a member of control.admin_group"),
            ] {
                let refused = rows.filter { $0.actor == "uid:\(account.uid)" && $0.event == "command_refused" }
                #expect(refused.count == 1, "command_refused rows by \(account): \(refused)")
                #expect(refused.first?.detailValue("command") == command && refused.first?.detailValue("reason") == reason)
                #expect(refused.first.map { !$0.detail.contains("u-9") && !$0.detail.contains("nobody") } == true, "arguments audited")
            }
            #expect(rows.filter { $0.actor == "uid:\(accounts.plain.uid)" }.map(\.event) == ["command_refused"])
            let issued = rows.filter { $0.event == "authorize_url_issued" && $0.user == "u-9" }.map(\.actor)
            #expect(issued.sorted() == ["uid:0", "uid:0", "uid:\(accounts.admin.uid)", "uid:\(accounts.admin.uid)"].sorted())
            let leaks = try await session.expectNoLeaks()
            #expect(leaks.isEmpty, "\(leaks)")
        }
    }

    @Test func theSocketsModeAndGroupDecideWhoMayConnect() async throws {
        try #require(getuid() == 0, "the tier tests create local accounts and switch to them: run as root (CI does)")
        let accounts = try await TierAccounts.ensure()
        let shared = try SharedDirectory()
        let wbkeyctl = try shared.install(BuiltProgram.wbkeyctl)
        let socket = shared.path + "/control.sock"
        let options = DaemonFixture.Options(config: [
            "control.socket": .string(socket), "control.mode": "0660", "control.admin_group": .string(TierAccounts.adminGroup),
        ])
        try await DaemonFixture.withDaemon(options) { daemon in
            var attributes = stat()
            #expect(stat(socket, &attributes) == 0)
            #expect(attributes.st_mode & 0o777 == 0o660)
            #expect(getgrgid(attributes.st_gid).map { String(cString: $0.pointee.gr_name) } == TierAccounts.adminGroup)

            let session = Session(daemon, socket: socket, wbkeyctlPath: wbkeyctl)
            let outsider = try await session.ask("status", via: .wbkeyctl, as: accounts.plain)
            #expect(outsider.exitStatus == 69)
            #expect(outsider.text.contains("cannot reach wbkeyd at \(socket): Permission denied (errno 13)"), "\(outsider.text)")
            let outsiderSocat = try await session.ask("status", via: .socat, as: accounts.plain)
            #expect(outsiderSocat.text.contains("Permission denied"), "\(outsiderSocat.text)")
            let member = try await session.ask("status", via: .wbkeyctl, as: accounts.admin)
            #expect(member.exitStatus == 0 && member.fields["phase"] == "ready", "\(member.text)")
        }
    }

    @Test func theAgentTierReadsAndSignsWithoutBeingAnAdmin() async throws {
        try #require(getuid() == 0, "the tier tests create local accounts and switch to them: run as root (CI does)")
        let accounts = try await TierAccounts.ensure()
        let shared = try SharedDirectory()
        let wbkeyctl = try shared.install(BuiltProgram.wbkeyctl)
        let options = DaemonFixture.Options(config: [
            "control.socket": .string(shared.path + "/control.sock"),
            "control.mode": "0666",
            "control.admin_group": .string(TierAccounts.adminGroup),
            "control.agent_users": .strings(["group:\(TierAccounts.agentGroup)"]),
        ])
        try await DaemonFixture.withDaemon(options) { daemon in
            let session = Session(daemon, socket: shared.path + "/control.sock", wbkeyctlPath: wbkeyctl)
            try await daemon.consentAndSubmit(user: "u-1")
            try await session.awaitActive("u-1")
            let reads = ["balance u-1 main", "history u-1 deals limit=2"]
            let sign = "sign u-1 /api/v4/main-account/balance"
            let readRefusal = "is for root or a member of control.agent_users or control.admin_group"
            let signRefusal = "is for root or a member of control.agent_users (you are uid"
            for tool in ControlTool.allCases {
                for line in reads {
                    for account in [accounts.agent, accounts.admin] {
                        let answer = try await session.ask(line, via: tool, as: account)
                        #expect(!answer.isError && answer.text.contains("route"), "`\(line)` as \(account) via \(tool): \(answer.text.prefix(200))")
                    }
                    for account in [accounts.plain, accounts.reader] {
                        let answer = try await session.ask(line, via: tool, as: account)
                        let command = String(line.prefix { $0 != " " })
                        #expect(answer.text == "error: permission denied: `\(command)` \(readRefusal) (you are uid \(account.uid))\n", "\(answer.text)")
                    }
                }
                let signed = try await session.ask(sign + " json", via: tool, as: accounts.agent)
                let (status, body) = try await AgentCommandsTests.send(try signed.object())
                #expect(status == 200, "the agent's signed request: \(body.prefix(200))")
                for account in [accounts.admin, accounts.plain] {
                    let refused = try await session.ask(sign, via: tool, as: account)
                    #expect(refused.text.hasPrefix("error: permission denied: `sign` \(signRefusal) \(account.uid))"), "\(refused.text)")
                }
                let revoke = try await session.ask("revoke u-1", via: tool, as: accounts.agent)
                #expect(revoke.text == "error: permission denied: `revoke` is for root or a member of control.admin_group (you are uid \(accounts.agent.uid))\n")
                // docs/design.md §12: while delivery is on, an agent may take the secret out.
                let secret = try await session.ask("secret u-1", via: tool, as: accounts.agent)
                #expect(secret.fields["api secret"]?.isEmpty == false, "\(secret.text.prefix(80))")
            }
            let rows = try await daemon.auditRows(user: "u-1")
            #expect(rows.filter { $0.event == "request_signed" }.map(\.actor) == ["uid:\(accounts.agent.uid)", "uid:\(accounts.agent.uid)"])
            let readers = Set(rows.filter { $0.event == "account_read" }.map(\.actor))
            #expect(readers == ["uid:\(accounts.agent.uid)", "uid:\(accounts.admin.uid)"])
            try await expectNoSecretAnywhere(session)
        }
    }

    @Test func theSocketGroupLetsAgentsConnectWithoutBeingAdmins() async throws {
        try #require(getuid() == 0, "the tier tests create local accounts and switch to them: run as root (CI does)")
        let accounts = try await TierAccounts.ensure()
        let shared = try SharedDirectory()
        let wbkeyctl = try shared.install(BuiltProgram.wbkeyctl)
        let socket = shared.path + "/control.sock"
        // As the shipped units: mode 0660, a clients group that is not the admin group.
        let options = DaemonFixture.Options(config: [
            "control.socket": .string(socket), "control.mode": "0660", "control.admin_group": .string(TierAccounts.adminGroup),
            "control.socket_group": .string(TierAccounts.clientsGroup),
            "control.agent_users": .strings(["user:\(TierAccounts.agentName)"]),
        ])
        try await DaemonFixture.withDaemon(options) { daemon in
            var attributes = stat()
            #expect(stat(socket, &attributes) == 0)
            #expect(getgrgid(attributes.st_gid).map { String(cString: $0.pointee.gr_name) } == TierAccounts.clientsGroup)
            let session = Session(daemon, socket: socket, wbkeyctlPath: wbkeyctl)
            try await daemon.consentAndSubmit(user: "u-1")
            try await session.awaitActive("u-1")
            let signed = try await session.ask("sign u-1 /api/v4/trade-account/balance json", via: .wbkeyctl, as: accounts.agent)
            #expect(try await AgentCommandsTests.send(try signed.object()).status == 200)
            let read = try await session.ask("balance u-1 spot BTC", via: .socat, as: accounts.agent)
            #expect(read.text.hasPrefix("user: u-1\nroute: v4\n"), "\(read.text)")
            // Not a member of the socket's group: no connection at all, admin or not.
            for account in [accounts.plain, accounts.admin] {
                let outsider = try await session.ask("status", via: .wbkeyctl, as: account)
                #expect(outsider.exitStatus == 69 && outsider.text.contains("Permission denied"), "\(outsider.text)")
            }
            try await expectNoSecretAnywhere(session)
        }
    }
}
