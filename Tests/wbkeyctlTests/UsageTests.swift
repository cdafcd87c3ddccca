import Foundation
import Testing

/// Usage errors exit 64 (EX_USAGE) and send nothing; help needs no daemon.
@Suite struct UsageTests {
    static let mistakes: [([String], String)] = [
        ([], "a command is missing"),
        (["bogus"], "bogus"),
        (["status", "--bogus"], "--bogus"),
        (["status", "extra"], "extra"),
        (["grants", "nonsense"], "unknown state `nonsense`"),
        (["show"], "user"),
        (["show", "u 1"], "usage: show USER"),
        (["show", "bad/user"], "invalid user reference"),
        (["show", "u-1\nsecret u-1"], "printable ASCII"),
        (["audit", "0"], "N must be between 1 and 1000"),
        (["audit", "1", "u-1", "u-2"], "usage: audit [N] [USER]"),
        (["revoke"], "user"),
        (["secret", "u-1", "u-2"], "Unexpected argument 'u-2'"),
        (["--timeout", "0", "status"], "--timeout must be between 1 and 86400"),
        (["reconcile", "u-1", "u-2"], "usage: reconcile [USER] [dry-run]"),
    ]

    @Test(arguments: mistakes)
    func exitsTwoAndSendsNothing(arguments: [String], named: String) async throws {
        let scratch = try ScratchDirectory()
        let daemon = try ScriptedControlSocket(directory: scratch.path, replies: [])
        defer { daemon.release() }
        let run = try await ProgramRun.wbkeyctl(["--socket", daemon.path] + arguments)
        #expect(run.status == 64, "\(arguments)")
        #expect(run.standardError.contains(named), "\(run.standardError)")
        #expect(run.standardOutput.isEmpty)
        // A later connection shows that none was made before it.
        _ = try await ProgramRun.wbkeyctl(["--socket", daemon.path, "status"])
        #expect(daemon.lines == ["status"])
    }

    @Test func helpForACommandNeedsNoDaemon() async throws {
        let run = try await ProgramRun.wbkeyctl(["--socket", "/nonexistent/control.sock", "help", "revoke"])
        #expect(run.status == 0)
        #expect(run.standardOutput.contains("USAGE: wbkeyctl revoke"))
        #expect(run.standardOutput.contains("revoke_pending"))
        let unknown = try await ProgramRun.wbkeyctl(["help", "nonsense"])
        #expect(unknown.status == 64)
    }

    @Test func topLevelHelpListsEveryCommandAndTheExitStatuses() async throws {
        let run = try await ProgramRun.wbkeyctl(["--help"])
        #expect(run.status == 0)
        for command in [
            "help", "status", "grants", "show", "audit", "metrics", "authorize-url", "reconcile", "revoke", "secret", "backup", "balance",
            "history", "sign", "events", "wait", "submit",
        ] {
            #expect(run.standardOutput.contains("  \(command) "), "\(command) missing from --help")
        }
        for status in [
            "0   success", "1   wbkeyd answered with an error (on stderr; on stdout with --json)", "64  usage error", "69  wbkeyd cannot be reached",
            "WBKEYD_SOCKET",
        ] {
            #expect(run.standardOutput.contains(status))
        }
    }

    /// One --version shape for every program, from one source (BuildInfo).
    @Test(arguments: ["wbkeyctl", "wbkeyd", "whitebit-sim", "wbkeyd-bench"])
    func versionNamesTheReleaseAndTheRevision(program: String) async throws {
        let path = URL(fileURLWithPath: ProgramRun.wbkeyctlPath).deletingLastPathComponent().appendingPathComponent(program).path
        let run = try await ProgramRun.run(path, ["--version"], environment: [:], input: [])
        #expect(run.status == 0)
        #expect(
            run.standardOutput.range(of: "^\(program) [0-9]+\\.[0-9]+\\.[0-9]+ \\(git [0-9A-Za-z.-]+\\)\n$", options: .regularExpression) != nil,
            "\(run.standardOutput)")
    }

    @Test func completionScriptsComeFromTheCommandLineDefinition() async throws {
        for shell in ["bash", "zsh", "fish"] {
            let run = try await ProgramRun.wbkeyctl(["--generate-completion-script", shell])
            #expect(run.status == 0 && run.standardOutput.contains("wbkeyctl") && run.standardOutput.contains("backup"), "\(shell)")
        }
    }

    @Test func submitHelpWarnsAboutCodesOnTheCommandLine() async throws {
        let run = try await ProgramRun.wbkeyctl(["submit", "--help"])
        #expect(run.status == 0)
        let text = run.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("visible to every local user while wbkeyctl runs (ps, /proc/PID/cmdline)"))
        #expect(text.contains("--code, --verifier and --state are refused unless --insecure-argv is given too"))
        #expect(text.contains("`-` reads standard input"))
    }
}
