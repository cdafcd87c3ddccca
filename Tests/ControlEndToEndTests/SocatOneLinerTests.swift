import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// The plain `echo LINE | socat - UNIX-CONNECT:…` form, with socat's default `-t` (it
/// gives up 0.5 s after its standard input ends when nothing arrives), against a real
/// daemon whose WhiteBIT (the simulator) is slow: every one-liner the README, `wbkeyctl
/// --help` and the demo print gets its whole answer, and the actions that take longer
/// say what they started; `show` then tells the end, and `wait` waits for it.
@Suite struct SocatOneLinerTests {
    /// WhiteBIT's answers held back this long: well past socat's 0.5 s.
    static let slowness = 2_000

    /// The lines of `echo LINE | socat - UNIX-CONNECT:…` in a text (quotes taken off).
    static func oneLiners(in text: String) -> [String] {
        text.split(separator: "\n").compactMap { row -> String? in
            guard let echo = row.range(of: "echo "), let pipe = row.range(of: " | socat - UNIX-CONNECT:") else { return nil }
            guard echo.upperBound <= pipe.lowerBound else { return nil }
            var line = String(row[echo.upperBound..<pipe.lowerBound])
            if line.hasPrefix("'") && line.hasSuffix("'") { line = String(line.dropFirst().dropLast()) }
            return line
        }
    }

    static func documentedOneLiners() async throws -> [String] {
        let readme = try String(contentsOfFile: repositoryFile("README.md"), encoding: .utf8)
        let demo = try String(contentsOfFile: repositoryFile("Sources/Demo/DemoDisplay.swift"), encoding: .utf8)
        let help = try await CommandRunner.run(BuiltProgram.wbkeyctl, ["--help"])
        return oneLiners(in: readme) + oneLiners(in: help.standardOutput) + oneLiners(in: demo)
    }

    @Test func everyDocumentedOneLinerGetsItsAnswerFromASlowDaemon() async throws {
        let documented = try await Self.documentedOneLiners()
        #expect(documented.contains("status") && documented.contains("reconcile u-1001 dry-run") && documented.contains("show dave"))
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            // The users the README's and the demo's lines name (alice's balance is read through her key).
            for user in ["u-1001", "dave", "alice"] {
                try await daemon.consentAndSubmit(user: user)
                try await session.awaitActive(user)
            }
            // The dry run is asked while WhiteBIT is quick, as in the README; then it slows down.
            for line in documented {
                let answer = try await session.ask(line, via: .socat)
                #expect(answer.exitStatus == 0 && answer.text.hasSuffix("\n") && !answer.isError, "`\(line)`: \(answer.text)")
            }
            for endpoint in [SimFaultSpec.Endpoint.info, .delete] {
                try await daemon.admin.addFault(SimFaultSpec(endpoint: endpoint, kind: .latency(milliseconds: Self.slowness), count: 0))
            }
            for line in documented where !line.hasPrefix("reconcile") {
                let answer = try await session.ask(line, via: .socat)
                #expect(answer.exitStatus == 0 && answer.text.hasSuffix("\n") && !answer.isError, "slow: `\(line)`: \(answer.text)")
            }

            // A dry run has nothing to look up later: it says so, at once, and changes nothing.
            let dry = try await session.ask("reconcile u-1001 dry-run", via: .socat)
            #expect(dry.text.hasPrefix("error: WhiteBIT did not answer within 0.3 s; nothing was changed"), "\(dry.text)")

            // A reconcile answers with what it started; show tells the end.
            let reconcile = try await session.ask("reconcile u-1001", via: .socat)
            #expect(reconcile.text.contains("still asking WhiteBIT after 0.3 s: `show u-1001`"), "\(reconcile.text)")
            let started = try await session.object("reconcile u-1001", via: .socat)
            #expect(started["finished"] as? Bool == false, "\(started)")

            let revoke = try await session.ask("revoke u-1001 user left", via: .socat)
            #expect(revoke.text == "u-1001: revoking (user left); the DELETE is under way: `show u-1001` and `audit u-1001` tell the end\n")
            #expect(try await daemon.awaitState("revoked", user: "u-1001") != nil, "the revoke did not end")
            let shown = try await session.ask("show u-1001", via: .socat)
            #expect(shown.fields["state"] == "revoked", "\(shown.text)")

            // `wait` (wbkeyctl sends it) answers at the end, however slow WhiteBIT is.
            let waited = try await session.ask("reconcile dave dry-run", via: .wbkeyctl)
            #expect(waited.text == "dave: active, no change would be made\n", "\(waited.text)")
            let revoked = try await session.object("revoke dave", via: .wbkeyctl)
            #expect(revoked["state"] as? String == "revoked" && revoked["finished"] as? Bool == true, "\(revoked)")
            try await daemon.admin.clearFaults()
            let leaks = try await session.expectNoLeaks()
            #expect(leaks.isEmpty, "\(leaks)")
        }
    }

    /// `--` makes the words before it arguments as written: users named like option words.
    @Test func usersNamedLikeOptionWordsAreReachableWithTheSeparator() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            for user in ["json", "dry-run", "wait"] {
                try await daemon.consentAndSubmit(user: user)
                try await session.awaitActive(user)
            }
            for user in ["json", "dry-run", "wait"] {
                let shown = try await session.ask("show \(user) --", via: .socat)
                #expect(shown.fields["user"] == user && shown.fields["state"] == "active", "\(shown.text)")
                let object = try await session.ask("show \(user) -- json", via: .socat).object()
                #expect((object["grant"] as? [String: Any])?["user"] as? String == user)
                // wbkeyctl adds the `--` itself (its own `--` ends its options).
                let byTool = try await CommandRunner.run(BuiltProgram.wbkeyctl, ["--socket", daemon.paths.controlSocket, "show", "--", user])
                #expect(byTool.exitStatus == 0 && byTool.standardOutput.contains("user:           \(user)\n"), "\(byTool.standardOutput)\(byTool.standardError)")
            }
            let dry = try await session.ask("reconcile dry-run -- dry-run", via: .socat)
            #expect(dry.text == "dry-run: active, no change would be made\n", "\(dry.text)")
            let bad = try await session.ask("show json -- verbose", via: .socat)
            #expect(bad.text == "error: `verbose` after `--` is no option of `show`; its options: json\n", "\(bad.text)")
        }
    }
}

func repositoryFile(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}
