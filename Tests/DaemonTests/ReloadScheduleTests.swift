import Foundation
import Testing
import WBKeydHarness

/// The `[keys]` intervals a reload applies. They take effect at the next deadline a grant
/// computes (ConfigurationChanges), which `show USER` reports and the simulator's request
/// counts confirm. Changes are large (250 ms against 30 s, 4 h against 10 s) so that no
/// margin is tight.
@Suite struct ReloadScheduleTests {
    @Test func infoPollIntervalSpacesTheNextPolls() async throws {
        let options = DaemonFixture.Options(config: ["keys.info_poll_interval": "250ms", "keys.info_poll_budget": "10m"])
        try await withDaemon(options) { daemon in
            let mark = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-1", key: .never)
            try await daemon.awaitEvent("token_exchanged", user: "u-1", since: mark)
            let first = try await daemon.simRequests("info")
            #expect(try await eventually { try await daemon.simRequests("info") >= first + 4 }, "no polling every 250 ms")

            try await daemon.reload(["keys.info_poll_interval": "30s"])
            let (held, seen) = try await daemon.awaitNextAction(of: "u-1", within: 20...31)
            #expect(held, "u-1's next /info poll is \(seen.map { "\($0)" } ?? "not") s away, not about 30 s")
            // Nothing is in flight once the next poll lies ahead; at 250 ms about 12 polls
            // would fall in this window.
            let polls = try await daemon.simRequests("info")
            try await Task.sleep(for: .seconds(3))
            #expect(try await daemon.simRequests("info") == polls)
        }
    }

    @Test func infoPollBudgetBoundsThePollingThatStartsAfterTheReload() async throws {
        let options = DaemonFixture.Options(config: ["keys.info_poll_interval": "250ms", "keys.info_poll_budget": "10m"])
        try await withDaemon(options) { daemon in
            let mark = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-1", key: .never)
            try await daemon.awaitEvent("token_exchanged", user: "u-1", since: mark)

            try await daemon.reload(["keys.info_poll_budget": "1s"])
            let after = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-2", key: .never)
            try await daemon.awaitEvent("token_exchanged", user: "u-2", since: after)
            // A second of polling, then only the reconcile (15 m, jittered) looks again.
            let (held, seen) = try await daemon.awaitNextAction(of: "u-2", within: 10 * 60...17 * 60)
            #expect(held, "u-2's next /info is \(seen.map { "\($0)" } ?? "not") s away, not at the reconcile")
            // u-1's budget was set at its exchange, under the old file: it still polls.
            let (polling, u1) = try await daemon.awaitNextAction(of: "u-1", within: -10...2)
            #expect(polling, "u-1's next /info is \(u1.map { "\($0)" } ?? "not") s away")
        }
    }

    struct DeadlineCase: Sendable, CustomTestStringConvertible {
        let key: String
        let simArguments: [String]
        let start: [String: TOMLValue]
        let change: [String: TOMLValue]
        /// Seconds from now to an active grant's next reconcile, before and after.
        let before: ClosedRange<Double>
        let after: ClosedRange<Double>

        var testDescription: String { key }
    }

    static let deadlineCases = [
        // Tokens live 4 h: the reconcile at 4 h ± 10 % is capped at the final pass (3h55m).
        DeadlineCase(
            key: "keys.reconcile_interval", simArguments: [], start: ["keys.reconcile_interval": "4h"],
            change: ["keys.reconcile_interval": "10s"], before: 3.5 * 3600...4 * 3600, after: -10...12),
        // Tokens live 2 h: the final pass comes before any reconcile (4 h).
        DeadlineCase(
            key: "keys.expiry_margin", simArguments: ["--token-lifetime", "2h"],
            start: ["keys.reconcile_interval": "4h", "keys.expiry_margin": "1s"],
            change: ["keys.expiry_margin": "1h"], before: 7000...7200, after: 3300...3600),
    ]

    @Test(arguments: deadlineCases)
    func theNextReconcileOfAnActiveGrantMoves(_ c: DeadlineCase) async throws {
        try await withDaemon(.init(simArguments: c.simArguments, config: c.start)) { daemon in
            try await daemon.activeGrant("u-1")
            let before = try #require(try await daemon.nextAction(of: "u-1")).timeIntervalSinceNow
            #expect(c.before.contains(before), "u-1's next reconcile is \(before) s away")

            try await daemon.reload(c.change)
            // A grant secured now computes its deadline from the new value …
            try await daemon.activeGrant("u-2")
            let (held, seen) = try await daemon.awaitNextAction(of: "u-2", within: c.after)
            #expect(held, "u-2's next reconcile is \(seen.map { "\($0)" } ?? "not") s away")
            // … and so does one reconciled now.
            let answer = try await daemon.control("reconcile u-1")
            #expect(answer.hasPrefix("u-1: active"), "\(answer)")
            let (moved, u1) = try await daemon.awaitNextAction(of: "u-1", within: c.after)
            #expect(moved, "u-1's next reconcile is \(u1.map { "\($0)" } ?? "not") s away")
        }
    }
}
