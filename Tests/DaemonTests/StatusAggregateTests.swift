import Foundation
import PKCE
import Sensitive
import Testing
import WBKeydHarness

/// `status` and `metrics` answer from aggregates kept in memory (grants by state, audit
/// head and next deadline as of the last commit; the spool backlog kept by the intake
/// and recounted once a second), not from the tables and directories. These tests hold
/// the answers against the store and the spool directories after transitions, claims,
/// rejections, an operator's change in the spool and a restart.
@Suite struct StatusAggregateTests {
    @Test func countsFollowTransitionsRejectionsAndARestart() async throws {
        try await withDaemon { daemon in
            // Transitions: two grants to active, one to failed, one of the active to revoked.
            try await daemon.consentAndSubmit(user: "u-1")
            try await daemon.consentAndSubmit(user: "u-2")
            try daemon.submitAuthorization(
                user: "u-bad", code: Sensitive("code-the-simulator-never-issued"), verifier: PKCEPair.generate().verifier)
            try daemon.deliver(Array("not json".utf8), as: "garbage.json")
            #expect(try await daemon.awaitState("active", user: "u-1") == "active")
            #expect(try await daemon.awaitState("active", user: "u-2") == "active")
            #expect(try await daemon.awaitState("failed", user: "u-bad") == "failed")
            _ = try await daemon.control("revoke u-2")
            #expect(try await daemon.awaitState("revoked", user: "u-2") == "revoked")
            try await expectAggregatesMatch(daemon, grants: ["active": 1, "revoked": 1, "failed": 1])

            // A rejection: claimed/ back to empty, rejected/ holds the file. The move comes
            // just after the audit line, so this waits for the answer to say so.
            let rejectedNow = try await eventually(within: .seconds(20)) {
                try await spoolCounts(daemon) == ["new": 0, "claimed": 0, "rejected": 1]
            }
            let afterRejection = try await spoolCounts(daemon)
            #expect(rejectedNow, "status spool: \(afterRejection), rejected/: \(daemon.rejectedFiles)")
            #expect(daemon.rejectedFiles == ["garbage.json"])

            // A restart rebuilds the grant counts from the store, recounts the spool and
            // takes up a file left in claimed/ (refused here): exact by READY=1, no wait.
            try await daemon.terminate()
            try daemon.placeClaimed(Array("{\"half\":".utf8), as: "left-behind.json")
            try await daemon.restart()
            #expect(try await spoolCounts(daemon) == ["new": 0, "claimed": 0, "rejected": 2])
            #expect(Set(daemon.rejectedFiles) == ["garbage.json", "left-behind.json"])
            try await expectAggregatesMatch(daemon, grants: ["active": 1, "revoked": 1, "failed": 1])

            // An operator clears rejected/: the background recount notices within its second.
            for name in daemon.rejectedFiles {
                try FileManager.default.removeItem(atPath: daemon.paths.spoolRejected + "/" + name)
            }
            let cleared = try await eventually(within: .seconds(20)) {
                try await spoolCounts(daemon)["rejected"] == 0
            }
            let afterClearing = try await spoolCounts(daemon)
            #expect(cleared, "status spool after clearing rejected/: \(afterClearing)")

            // And a grant created after the restart counts on top of the rebuilt figures.
            try await daemon.consentAndSubmit(user: "u-3")
            #expect(try await daemon.awaitState("active", user: "u-3") == "active")
            try await expectAggregatesMatch(daemon, grants: ["active": 2, "revoked": 1, "failed": 1])
        }
    }

    /// The instance's row (docs/design.md §13): written before READY=1 under its configured
    /// name, shown by `status`, stamped at a clean stop, left unstamped by a kill -9 and
    /// replaced by the next start; `show` and `grants` name it as the owner.
    @Test func statusShowsTheInstancesAndTheirLastWord() async throws {
        try await withDaemon(DaemonFixture.Options(config: ["store.instance": "alpha"])) { daemon in
            let first = try await instances(daemon)
            #expect(first.count == 1)
            #expect(first.first?["name"] as? String == "alpha" && first.first?["self"] as? Bool == true)
            let pid = Int(try daemon.process.pid)
            #expect(first.first?["pid"] as? Int == pid)
            #expect(first.first?["stopped_at"] is NSNull)
            let started = try #require(first.first?["started_at"] as? String)
            #expect((first.first?["last_seen"] as? String).map { $0 >= started } == true)
            let instanceLine = try await daemon.control("status").split(separator: "\n").first { $0.hasPrefix("instance:") }
            #expect(instanceLine?.contains(" alpha (this one) on ") == true, "\(instanceLine ?? "no instance line")")

            try await daemon.consentAndSubmit(user: "u-1")
            #expect(try await daemon.awaitState("active", user: "u-1") == "active")
            let shown = try #require(try await daemon.control("show u-1 json").jsonObject)
            #expect((shown["grant"] as? [String: Any])?["owner"] as? String == "alpha")
            let ownerLine = try await daemon.control("show u-1").split(separator: "\n").first { $0.hasPrefix("owner:") }
            #expect(ownerLine.map { $0.hasSuffix(" alpha") } == true, "\(ownerLine ?? "no owner line")")

            try await daemon.terminate()
            let stopped = try await daemon.sqlite("SELECT name, CASE WHEN stopped_at IS NULL THEN 0 ELSE 1 END, pid FROM instances")
            #expect(stopped.trimmingCharacters(in: .newlines) == "alpha|1|\(pid)")
            try await daemon.restart()
            #expect(try await instances(daemon).first?["stopped_at"] is NSNull, "a start clears the stop mark")
            let killed = try daemon.process.pid
            _ = try await daemon.kill9()
            let dead = try await daemon.sqlite("SELECT name, CASE WHEN stopped_at IS NULL THEN 0 ELSE 1 END, pid FROM instances")
            #expect(dead.trimmingCharacters(in: .newlines) == "alpha|0|\(killed)")
            try await daemon.restart()
            let after = try await instances(daemon)
            let restarted = Int(try daemon.process.pid)
            #expect(after.count == 1 && after.first?["pid"] as? Int == restarted)
        }
    }

    func instances(_ daemon: DaemonFixture) async throws -> [[String: Any]] {
        let cluster = try #require(try await statusDocument(daemon)["cluster"] as? [String: Any])
        return try #require(cluster["instances"] as? [[String: Any]])
    }

    /// `status json` and `metrics` against the store: grants by state, audit head, next deadline.
    func expectAggregatesMatch(_ daemon: DaemonFixture, grants expected: [String: Int]) async throws {
        let status = try await statusDocument(daemon)
        let stored = try await daemon.sqliteRows("SELECT state, COUNT(*) AS n FROM grants GROUP BY state")
        let storedCounts = Dictionary(uniqueKeysWithValues: stored.map { ($0["state"] ?? "?", Int($0["n"] ?? "") ?? -1) })
        #expect(status["grants"] as? [String: Int] == expected)
        #expect(storedCounts == expected)

        let head = try #require(try await daemon.sqliteRows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first)
        let audit = try #require(status["audit"] as? [String: Any])
        #expect(audit["seq"] as? Int == Int(head["seq"] ?? ""))
        #expect(audit["hash"] as? String == head["hash"])

        let next = try await daemon.sqliteRows("SELECT MIN(next_deadline) AS at FROM grants").first?["at"].flatMap(Double.init)
        // Shown to the whole second.
        let shown = (status["next_deadline"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) }?.timeIntervalSince1970
        #expect(
            shown.map { s in next.map { abs($0 - s) < 1 } ?? false } ?? (next == nil),
            "status next_deadline \(shown.map { "\($0)" } ?? "null"), store \(next.map { "\($0)" } ?? "null")")

        let metrics = try await daemon.control("metrics")
        for (state, count) in expected {
            #expect(metrics.contains("wbkeyd_grants{state=\"\(state)\"} \(count)\n"), "metrics lacks \(state)=\(count)")
        }
        #expect(metrics.contains("wbkeyd_audit_seq \(head["seq"] ?? "?")\n"))
    }

    func statusDocument(_ daemon: DaemonFixture) async throws -> [String: Any] {
        let answer = try await daemon.control("status json")
        return try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], "\(answer)")
    }

    func spoolCounts(_ daemon: DaemonFixture) async throws -> [String: Int] {
        let spool = try #require(try await statusDocument(daemon)["spool"] as? [String: Any])
        return spool.compactMapValues { $0 as? Int }
    }
}
