import Foundation
import PKCE
import Sensitive
import Testing
import WBKeydHarness

/// help, status, grants, show, audit and metrics, through socat and wbkeyctl, text and
/// JSON, each checked against what the store and the simulator really hold.
@Suite struct ReadOnlyCommandsTests {
    @Test func everyReadOnlyCommandReportsTheRealState() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            let consent = try await daemon.consentAndSubmit(user: "u-1")
            try await session.awaitActive("u-1")
            let badVerifier = PKCEPair.generate().verifier
            try daemon.submitAuthorization(user: "u-bad", code: Sensitive("code-the-simulator-never-issued"), verifier: badVerifier)
            try await daemon.awaitEvent("token_exchange_failed", user: "u-bad")

            for tool in ControlTool.allCases {
                try await checkStatus(session, tool)
                try await checkGrants(session, tool)
                try await checkShow(session, tool)
                try await checkAudit(session, tool)
                try await checkMetrics(session, tool)
                try await checkHelpAndErrors(session, tool)
            }
            let leaks = try await session.expectNoLeaks(
                extra: [consent.authorization.verifier.revealed, consent.authorization.code.revealed, badVerifier.revealed])
            #expect(leaks.isEmpty, "\(leaks)")
            #expect(session.transcript.count >= 34, "the secret search must cover every answer")
        }
    }

    func checkStatus(_ session: Session, _ tool: ControlTool) async throws {
        let status = try await session.object("status", via: tool)
        for field in ["version", "uptime_s", "phase", "grants", "spool", "next_deadline", "whitebit", "audit"] {
            #expect(status.keys.contains(field), "status json via \(tool) lacks \(field)")
        }
        #expect(status["phase"] as? String == "ready")
        #expect(status["grants"] as? [String: Int] == ["active": 1, "failed": 1])
        let spool = try #require(status["spool"] as? [String: Any])
        #expect(Set(spool.keys) == ["new", "claimed", "rejected", "oldest_age_s"])
        #expect(spool["new"] as? Int == 0 && spool["claimed"] as? Int == 0 && spool["rejected"] as? Int == 0)
        #expect(spool["oldest_age_s"] is NSNull)
        let simState = try await session.daemon.admin.state()
        let whitebit = try #require(status["whitebit"] as? [String: Any])
        #expect(Set(whitebit.keys) == ["requests", "errors", "last_error"])
        #expect(whitebit["requests"] as? Int == simState.requests.values.reduce(0, +), "\(simState.requests)")
        #expect((whitebit["errors"] as? Int ?? 0) >= 1, "the refused code is an error")
        let audit = try #require(status["audit"] as? [String: Any])
        let head = try await session.auditHead()
        #expect(audit["seq"] as? Int == head.seq)
        #expect(audit["hash"] as? String == head.hash)

        let text = try await session.ask("status", via: tool)
        #expect(text.exitStatus == 0)
        let fields = text.fields
        #expect(fields["phase"] == "ready")
        #expect(fields["grants"] == "active=1 failed=1")
        #expect(fields["spool"] == "new=0 claimed=0 rejected=0 oldest=-")
        #expect(fields["audit head"] == "seq=\(head.seq) hash=\(head.hash)")
        #expect(fields["version"] == status["version"] as? String)
    }

    func checkGrants(_ session: Session, _ tool: ControlTool) async throws {
        let simState = try await session.daemon.admin.state()
        let key = try #require(simState.keys(of: "u-1").first)
        let token = try #require(simState.tokens.first { $0.user == "u-1" })
        let grants = try #require(try await session.object("grants", via: tool)["grants"] as? [[String: Any]])
        #expect(grants.count == 2)
        let active = try #require(grants.first { $0["user"] as? String == "u-1" })
        for field in ["user", "state", "external_id", "token_expires_at", "updated_at", "reason"] {
            #expect(active.keys.contains(field), "grants json lacks \(field)")
        }
        #expect(active["state"] as? String == "active")
        #expect(active["external_id"] as? String == key.externalID)
        #expect(active["reason"] is NSNull)
        let expires = try #require(parseTimestamp(active["token_expires_at"] as? String))
        let simExpires = try #require(parseTimestamp(token.expiresAt))
        #expect(abs(expires.timeIntervalSince(simExpires)) < 5, "token_expires_at \(expires) vs the simulator's \(simExpires)")
        let row = try #require(try await session.daemon.grantRow("u-1"))
        #expect(row["state"] == "active")
        #expect(parseTimestamp(active["updated_at"] as? String) != nil)

        let failed = try #require(grants.first { $0["user"] as? String == "u-bad" })
        #expect(failed["state"] as? String == "failed")
        #expect((failed["reason"] as? String)?.isEmpty == false)
        #expect(failed["external_id"] is NSNull && failed["token_expires_at"] is NSNull)

        let onlyFailed = try #require(try await session.object("grants failed", via: tool)["grants"] as? [[String: Any]])
        #expect(onlyFailed.map { $0["user"] as? String } == ["u-bad"])
        let none = try await session.ask("grants revoked", via: tool)
        #expect(none.text == "no grants\n")
        let table = try await session.ask("grants", via: tool)
        let lines = table.text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(lines.first == ["USER", "STATE", "EXTERNAL", "ID", "TOKEN", "EXPIRES", "IN", "UPDATED"])
        #expect(lines.contains { $0.prefix(3) == ["u-1", "active", key.externalID] })
        #expect(lines.contains { $0.prefix(3) == ["u-bad", "failed", "-"] })
    }

    func checkShow(_ session: Session, _ tool: ControlTool) async throws {
        let show = try await session.object("show u-1", via: tool)
        let grants = try #require(try await session.object("grants active", via: tool)["grants"] as? [[String: Any]])
        #expect(sameJSON(show["grant"], grants.first), "show's grant is not the grants row")
        let rows = try await session.daemon.auditRows(user: "u-1")
        let audit = try #require(show["audit"] as? [[String: Any]])
        #expect(audit.compactMap { $0["seq"] as? Int }.sorted() == rows.suffix(20).map(\.seq))
        #expect(Set(audit.compactMap { $0["event"] as? String }) == Set(rows.map(\.event)))

        let text = try await session.ask("show u-1", via: tool).fields
        let key = try #require(try await session.daemon.admin.state().keys(of: "u-1").first)
        #expect(text["state"] == "active")
        #expect(text["external id"] == key.externalID)
        #expect(text["secret"] == "sealed in the store")
    }

    func checkAudit(_ session: Session, _ tool: ControlTool) async throws {
        let rows = try await session.daemon.auditRows()
        let lastThree = try #require(try await session.object("audit 3", via: tool)["audit"] as? [[String: Any]])
        #expect(lastThree.compactMap { $0["seq"] as? Int }.sorted() == rows.suffix(3).map(\.seq))
        for row in lastThree {
            let stored = try #require(rows.first { $0.seq == row["seq"] as? Int })
            #expect(Set(row.keys) == ["seq", "at", "event", "user", "external_id", "actor", "detail"])
            #expect(row["event"] as? String == stored.event && row["actor"] as? String == stored.actor)
            #expect(row["at"] as? String == stored.at)
            #expect(sameJSON(row["user"], stored.user ?? NSNull()) && sameJSON(row["external_id"], stored.externalID ?? NSNull()))
            #expect(sameJSON(row["detail"], try JSONSerialization.jsonObject(with: Data(stored.detail.utf8))))
        }
        let mine = try #require(try await session.object("audit 1000 u-1", via: tool)["audit"] as? [[String: Any]])
        #expect(mine.compactMap { $0["seq"] as? Int }.sorted() == rows.filter { $0.user == "u-1" }.map(\.seq))

        let table = try await session.ask("audit", via: tool).text.split(separator: "\n")
        #expect(table.first?.hasPrefix("SEQ") == true)
        let shownSeqs = table.dropFirst().compactMap { Int($0.prefix { $0 != " " }) }
        #expect(shownSeqs.sorted() == rows.suffix(20).map(\.seq))
    }

    func checkMetrics(_ session: Session, _ tool: ControlTool) async throws {
        let metrics = try await session.ask("metrics", via: tool).text
        let samples = Set(metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        #expect(samples.contains(#"wbkeyd_grants{state="active"} 1"#))
        #expect(samples.contains(#"wbkeyd_grants{state="failed"} 1"#))
        #expect(samples.contains(#"wbkeyd_up{phase="ready"} 1"#))
        let head = try await session.auditHead()
        #expect(samples.contains("wbkeyd_audit_seq \(head.seq)"))
        let simState = try await session.daemon.admin.state()
        for (endpoint, count) in simState.requests where count > 0 {
            #expect(samples.contains(#"wbkeyd_whitebit_requests_total{endpoint="\#(endpoint)"} \#(count)"#), "\(endpoint)")
        }
        #expect(metrics.contains("# TYPE wbkeyd_grants gauge"))

        // `json` asks for one JSON document, for metrics too: the same samples by family.
        let document = try #require(try await session.object("metrics", via: tool)["metrics"] as? [String: [[String: Any]]])
        let grants = try #require(document["wbkeyd_grants"])
        #expect(grants.count == 14)
        #expect(grants.contains { ($0["labels"] as? [String: String]) == ["state": "active"] && $0["value"] as? Int == 1 })
        #expect(document["wbkeyd_audit_seq"]?.first?["value"] as? Int == head.seq)
        #expect(Set(document.keys) == Set(samples.map { String($0.prefix { $0 != "{" && $0 != " " }) }))
        #expect(!metrics.contains("u-1"), "metrics must not have one series per user")
    }

    func checkHelpAndErrors(_ session: Session, _ tool: ControlTool) async throws {
        let help = try await session.ask("help", via: tool)
        for command in ["help", "status", "grants [STATE]", "show USER", "audit [N] [USER]", "metrics", "authorize-url USER",
            "reconcile [USER] [dry-run]", "revoke USER [REASON]", "secret USER", "balance USER main|spot [TICKER]",
            "history USER transactions|converts|orders|deals [FIELD=VALUE ...]", "sign USER PATH [JSON-BODY]"]
        {
            #expect(help.text.contains(command), "help lacks \(command)")
        }
        let helpJSON = try await session.object("help", via: tool)
        #expect((helpJSON["message"] as? String)?.contains("authorize-url USER") == true)

        let missing = try await session.ask("show nobody", via: tool)
        #expect(missing.text == "error: no grant for nobody\n")
        let missingJSON = try await session.ask("show nobody json", via: tool)
        #expect(missingJSON.text == #"{"error":{"message":"no grant for nobody"}}"# + "\n")
        if tool == .wbkeyctl {
            #expect(missing.exitStatus == 1 && missingJSON.exitStatus == 1)
        } else {
            // Asked for JSON with a tab or trailing blanks: the parse error comes as JSON too.
            for line in ["grants bogus\tjson", "grants bogus json  "] {
                let answer = try await session.ask(line, via: .socat)
                #expect(answer.text.hasPrefix(#"{"error":{"message":"unknown state `bogus`"#), "`\(line.debugDescription)`: \(answer.text)")
            }
        }
    }
}
