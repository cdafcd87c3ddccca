import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// authorize-url, reconcile, revoke and secret, through socat and wbkeyctl, checked
/// against the simulator (what WhiteBIT would hold) and the audit table.
@Suite struct AdminCommandsTests {
    @Test func authorizeURLHoldsTheVerifierAndSubmitByStateCompletesTheFlow() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            for tool in ControlTool.allCases {
                let user = "u-url-\(tool)"
                let answer = try await session.object("authorize-url \(user)", via: tool)
                #expect(answer["user"] as? String == user && answer["expires_in_s"] as? Int == 600)
                let url = try #require((answer["url"] as? String).flatMap(URLComponents.init(string:)))
                #expect(url.string?.hasPrefix(daemon.sim.baseURL + "/auth/login?") == true)
                let query = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
                #expect(query["clientId"] == SimDefaults.clientID)
                #expect(query["redirect_uri"] == SimDefaults.redirectURI)
                #expect(query["code_challenge_method"] == "S256")
                let state = try #require(query["state"]), challenge = try #require(query["code_challenge"])

                // The user consents on WhiteBIT's page; the partner's callback hands the
                // code and state to `wbkeyctl submit`, which never sees a verifier.
                let consent = try await daemon.admin.consent(
                    user: user, codeChallenge: challenge, redirectURI: SimDefaults.redirectURI, state: state)
                let codeFile = daemon.paths.directory + "/code-\(tool)", stateFile = daemon.paths.directory + "/state-\(tool)"
                try Data(consent.code.revealed.utf8).write(to: URL(fileURLWithPath: codeFile))
                try Data(state.utf8).write(to: URL(fileURLWithPath: stateFile))
                let submit = try await CommandRunner.run(
                    BuiltProgram.wbkeyctl,
                    ["submit", "--spool", daemon.paths.spoolRoot, "--user", user, "--code-file", codeFile, "--state-file", stateFile])
                #expect(submit.exitStatus == 0, "\(submit.standardError)")
                #expect(!(submit.standardOutput + submit.standardError).contains(consent.code.revealed))
                try await session.awaitActive(user)

                let text = try await session.ask("authorize-url \(user)-again", via: tool)
                #expect(text.text.hasPrefix(daemon.sim.baseURL + "/auth/login?clientId=") && text.text.hasSuffix("\n"))
                #expect(text.text.dropLast().contains("\n") == false)
            }
            let leaks = try await session.expectNoLeaks()
            #expect(leaks.isEmpty, "\(leaks)")
        }
    }

    @Test func reconcileReportsAndMovesWhatTheSimulatorChanged() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            for user in ["u-1", "u-2"] {
                try await daemon.consentAndSubmit(user: user)
                try await session.awaitActive(user)
            }
            for tool in ControlTool.allCases {
                let quiet = try await session.ask("reconcile u-1 dry-run", via: tool)
                #expect(quiet.text == "u-1: active, no change would be made\n")
            }
            try await daemon.admin.disableKey(user: "u-1")
            let wouldMove = try await session.object("reconcile u-1 dry-run", via: .socat)
            #expect(wouldMove["dry_run"] as? Bool == true)
            #expect((wouldMove["result"] as? String)?.hasPrefix("u-1: would move from active to disabled") == true, "\(wouldMove)")
            #expect(try await daemon.grantState("u-1") == "active", "a dry run changed the grant")

            let moved = try await session.ask("reconcile u-1", via: .wbkeyctl)
            #expect(moved.exitStatus == 0)
            #expect(moved.text.hasPrefix("u-1: moved from active to disabled"), "\(moved.text)")
            #expect(try await daemon.grantState("u-1") == "disabled")
            #expect(try await daemon.auditEvents(user: "u-1").contains("key_disabled"))

            let all = try await session.object("reconcile", via: .wbkeyctl)
            #expect(all["dry_run"] as? Bool == false)
            #expect((all["result"] as? String)?.hasPrefix("reconcile started for 2 grant(s)") == true, "\(all)")
            let allDry = try await session.ask("reconcile dry-run", via: .socat)
            #expect(allDry.text.contains("u-2: active, no change would be made"), "\(allDry.text)")
            let leaks = try await session.expectNoLeaks()
            #expect(leaks.isEmpty, "\(leaks)")
        }
    }

    @Test func revokeDeletesAtWhiteBITAndIsAuditedWithTheCallersUID() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            for user in ["u-socat", "u-wbkeyctl"] {
                try await daemon.consentAndSubmit(user: user)
                try await session.awaitActive(user)
            }
            // Within 0.3 s (socat's default -t needs it): the end, or what was started.
            let bySocat = try await session.ask("revoke u-socat user left", via: .socat)
            #expect(
                bySocat.text == "u-socat: revoked (user left)\n"
                    || bySocat.text == "u-socat: revoking (user left); the DELETE is under way: `show u-socat` and `audit u-socat` tell the end\n",
                "\(bySocat.text)")
            #expect(try await daemon.awaitState("revoked", user: "u-socat") != nil)
            let byTool = try await session.object("revoke u-wbkeyctl", via: .wbkeyctl)
            #expect(byTool["user"] as? String == "u-wbkeyctl" && byTool["state"] as? String == "revoked", "\(byTool)")
            #expect(byTool["reason"] as? String == "requested by uid:\(getuid())")

            let simState = try await daemon.admin.state()
            for user in ["u-socat", "u-wbkeyctl"] {
                let deleted = simState.keys(of: user).allSatisfy { $0.deleted }
                #expect(deleted, "\(user)'s key is still at WhiteBIT")
                let rows = try await daemon.auditRows(user: user)
                let request = try #require(rows.first { $0.event == "revoke_requested" })
                #expect(request.actor == "uid:\(getuid())")
                #expect(rows.contains { $0.event == "key_revoked" })
            }
            #expect(try await daemon.auditRows(user: "u-socat").first { $0.event == "revoke_requested" }?.detailValue("reason") == "user left")

            let unknown = try await session.ask("revoke nobody", via: .wbkeyctl)
            #expect(unknown.text == "error: no grant for nobody\n" && unknown.exitStatus == 1)
            let leaks = try await session.expectNoLeaks()
            #expect(leaks.isEmpty, "\(leaks)")
        }
    }

    @Test func secretPrintsWhatWhiteBITHandedOverAndIsAudited() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            try await daemon.consentAndSubmit(user: "u-1")
            try await session.awaitActive("u-1")
            let key = try #require(try await daemon.admin.state().keys(of: "u-1").first)
            for tool in ControlTool.allCases {
                let document = try await session.object("secret u-1", via: tool)
                #expect(Set(document.keys) == ["user", "external_id", "api_key", "api_secret"])
                #expect(document["user"] as? String == "u-1" && document["external_id"] as? String == key.externalID)
                #expect(document["api_key"] as? String == key.externalID)
                #expect(document["api_secret"] as? String == key.apiSecret, "the secret differs from WhiteBIT's")
                let text = try await session.ask("secret u-1", via: tool).fields
                #expect(text["external id"] == key.externalID)
                #expect(text["api secret"] == key.apiSecret, "the secret differs from WhiteBIT's")
            }
            let reads = try await daemon.auditRows(user: "u-1").filter { $0.event == "secret_read" }
            #expect(reads.count == 4)
            #expect(reads.allSatisfy { $0.actor == "uid:\(getuid())" && $0.externalID == key.externalID })
            #expect(reads.allSatisfy { !$0.detail.contains(key.apiSecret) })
            #expect(try await daemon.admin.state().key(key.externalID)?.secretFetches == 1, "secret must not ask WhiteBIT again")

            let none = try await session.ask("secret nobody", via: .socat)
            #expect(none.text == "error: no grant for nobody\n")

            // The closing search can fail: a secret in any other answer is found.
            let planted = Transcript()
            planted.record(ToolAnswer(line: "status", tool: .socat, text: "phase: \(key.apiSecret)\n", exitStatus: 0))
            #expect(planted.leaks(of: try await Transcript.secretsOnRecord(daemon)) == ["`status` via socat printed the API secret of u-1"])
            let leaks = try await session.expectNoLeaks()
            #expect(leaks.isEmpty, "\(leaks)")
        }
    }
}
