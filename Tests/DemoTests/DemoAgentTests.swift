import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

@testable import Demo

/// The demo as the partner app in agent mode: what it prints from `events`, `sign` and
/// `balance`, and that none of it is a secret or signs anything.
@Suite struct DemoAgentTests {
    @Test func anAuditRowIsOneCompactLineAndTheSubscriptionSaysWhereItStarts() {
        let row = #"{"seq":42,"at":"2026-12-04T15:03:04.123Z","event":"request_signed","user":"alice","external_id":"e-1","actor":"uid:0","detail":{"path":"/api/v4/main-account/balance","nonce":1764860584123}}"#
        #expect(DemoAgent.compact(eventLine: row) == "#42 15:03:04 alice request_signed nonce=1764860584123 path=/api/v4/main-account/balance")
        #expect(DemoAgent.compact(eventLine: #"{"subscribed":{"after_seq":41,"user":null}}"#) == "subscribed: every audit row after seq 41 follows")
        #expect(DemoAgent.compact(eventLine: "error: events: cut off") == nil)
        let long = #"{"seq":1,"at":"2026-12-04T15:03:04Z","event":"key_probed","user":"alice","detail":{"whitebit":"\#(String(repeating: "x", count: 200))"}}"#
        #expect((DemoAgent.compact(eventLine: long)?.count ?? 0) <= 110)
    }

    @Test func notesArePrintedAtOnceWhenPipedAndKeptAboveTheTableOnATerminal() {
        let piped = DemoDisplayTests.Captured()
        DemoDisplay(interactive: false, output: piped.append).note("  sent: 200")
        #expect(piped.value == "  sent: 200\n")
        let terminal = DemoDisplayTests.Captured()
        let display = DemoDisplay(interactive: true, output: terminal.append)
        display.note("  sent: 200")
        #expect(terminal.value.isEmpty, "a terminal shows it with the next redraw")
        display.show(table: DemoDisplayTests.table, states: [:])
        let screen = terminal.value.components(separatedBy: "\u{1B}[H\u{1B}[2J").last ?? ""
        #expect(screen.hasPrefix("  sent: 200\n"))
        #expect(screen.hasSuffix(DemoDisplayTests.table))
    }

    /// The real daemon and simulator with the demo's settings: alice's signed request is
    /// accepted by the simulator, her balance is read through wbkeyd, the events stream is
    /// shown; her secret, her token, the payload and the signature appear nowhere.
    @Test func aliceSignedReadIsAcceptedAndNothingPrintedIsSecret() async throws {
        let options = DaemonFixture.Options(simArguments: DemoScenario.simArguments, config: DemoScenario.config)
        try await DaemonFixture.withDaemon(options) { fixture in
            try await fixture.consentAndSubmit(user: "alice", key: .now)
            let captured = DemoDisplayTests.Captured()
            await DemoAgent.run(on: fixture, display: DemoDisplay(interactive: false, output: captured.append), eventRows: 2)
            let text = captured.value
            #expect(text.contains("alice's key is verified. The demo now plays the partner app in agent mode"), "\(text)")
            #expect(text.contains("  sent by the demo to WhiteBIT (whitebit-sim) at \(fixture.sim.baseURL)/api/v4/main-account/balance: 200, accepted: {"), "\(text)")
            #expect(text.contains("  balance alice main BTC (wbkeyd signs and sends it itself) → user: alice, route: v4"), "\(text)")
            #expect(text.contains("    events: subscribed: every audit row after seq "), "\(text)")
            #expect(text.contains(" alice request_signed "), "\(text)")
            #expect(text.contains(" alice account_read "), "\(text)")
            #expect(text.contains("    events: (the demo stops following here)"), "\(text)")

            let state = try await fixture.admin.state()
            let key = try #require(state.keys(of: "alice").first)
            #expect(key.signedRequests >= 3, "verification, the demo's own request and the balance read")
            var secrets = [key.apiSecret] + state.tokens.filter { $0.user == "alice" }.map(\.accessToken)
            let body = try #require(text.split(separator: "\n").first { $0.contains("byte for byte: ") }?
                .components(separatedBy: "byte for byte: ").last)
            secrets.append(Data(body.utf8).base64EncodedString())
            for secret in secrets { #expect(!text.contains(secret)) }
            #expect(text.range(of: "[0-9a-f]{64,}", options: .regularExpression) == nil, "no signature (128 hex digits): \(text)")
        }
    }
}
