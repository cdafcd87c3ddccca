import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

@testable import Daemon

/// What a burst writes to the log: routine per-grant lines are limited, warnings never.
@Suite struct JournalVolumeTests {
    @Test func theBudgetTakesABurstThenTheRateAndCountsWhatItLeftOut() {
        var budget = RoutineLogBudget()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var logged = 0
        var reports: [Int] = []
        func admit(at offset: TimeInterval) {
            let verdict = budget.admit(at: start.addingTimeInterval(offset))
            if verdict.log { logged += 1 }
            if let count = verdict.leftOut { reports.append(count) }
        }
        // 1,000 entries in one instant: the burst of 100 passes; the first left out is said at once.
        for _ in 0..<1_000 { admit(at: 0) }
        #expect(logged == 100 && reports == [1])
        // Each second brings 50 more, and no report until 10 s after the last one.
        for second in 1...9 { for _ in 0..<100 { admit(at: TimeInterval(second)) } }
        #expect(logged == 100 + 9 * 50 && reports == [1])
        admit(at: 10)
        #expect(reports == [1, 899 + 9 * 50], "everything left out since the first report, in one line")
        // Quiet for a minute: the bucket is full again, nothing is left out, nothing said.
        for _ in 0..<100 { admit(at: 70) }
        #expect(reports.count == 2 && logged == 100 + 9 * 50 + 1 + 100)
    }

    /// 300 authorizations at once: fewer routine lines than grants, every grant in the
    /// audit log, a line that says how many were left out, and every warning kept.
    @Test func aBurstWritesFewerLinesThanAuthorizationsAndKeepsEveryWarning() async throws {
        let users = (1...300).map { "loud-\($0)" }
        let bad = (1...20).map { "loud-bad-\($0).json" }
        let options = DaemonFixture.Options(config: ["whitebit.rate_limit": 1000, "whitebit.max_concurrency": 16])
        try await withDaemon(options) { daemon in
            let mark = daemon.logMark
            for user in users {
                let consent = try await daemon.admin.authorize(user: user, key: .now)
                _ = try daemon.submitAuthorization(user: user, code: consent.code, verifier: consent.verifier)
            }
            for name in bad { try daemon.deliver(Array(#"{"user":"x"}"#.utf8), as: name) }
            let settled = try await eventually(within: .seconds(120)) {
                try await daemon.sqlite("SELECT COUNT(*) FROM grants WHERE state = 'active'").trimmingCharacters(in: .whitespacesAndNewlines)
                    == String(users.count)
            }
            #expect(settled)
            let audit = try await daemon.auditRows()
            #expect(audit.filter { $0.event == "secret_secured" }.count == users.count)
            let lines = Array(try daemon.process.lines.dropFirst(mark.line))
            let routine = lines.filter { line in
                ["authorization_received", "token_exchanged", "key_detected", "secret_secured"].contains { line.isEvent($0) }
            }
            let warnings = lines.filter { $0.level == "warning" && $0.text.contains("spool file rejected") }
            let leftOut = lines.filter { $0.isEvent("log_entries_left_out") }
            print("journal volume: \(users.count) authorizations, \(routine.count) routine lines (before: 4 each, \(users.count * 4)), "
                + "\(leftOut.count) left-out reports, \(warnings.count) rejection warnings")
            // However fast the machine worked through it: no second holds more than the
            // burst and a second's rate; whatever was left out was said to be.
            let perSecond = Dictionary(grouping: routine) { String($0.text.prefix(19)) }.mapValues(\.count)
            #expect(perSecond.values.allSatisfy { $0 <= 150 }, "\(perSecond.sorted { $0.key < $1.key })")
            if routine.count < users.count * 4 { #expect(!leftOut.isEmpty) }
            #expect(warnings.count == bad.count)
        }
    }
}
