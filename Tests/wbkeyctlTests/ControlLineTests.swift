import Foundation
import Glibc
import Testing
import UnixSocketAddress

/// wbkeyctl against a scripted socket: the exact line it sends, how it prints the
/// answer, and its exit status for each outcome.
@Suite struct ControlLineTests {
    static let lines: [([String], String)] = [
        (["help"], "help"),
        (["status"], "status"),
        (["--json", "status"], "status json"),
        (["status", "--json"], "status json"),
        (["grants"], "grants"),
        (["grants", "active", "--json"], "grants active json"),
        (["show", "u-1"], "show u-1"),
        (["audit"], "audit"),
        (["audit", "5", "u-1"], "audit 5 u-1"),
        (["audit", "u-1"], "audit u-1"),
        (["audit", "3", "json"], "audit 3 json"),
        (["status", "json"], "status json"),
        (["revoke", "u-1", "moved", "json"], "revoke u-1 moved wait json"),
        (["metrics"], "metrics"),
        (["authorize-url", "u-1"], "authorize-url u-1"),
        (["reconcile"], "reconcile wait"),
        (["reconcile", "--dry-run"], "reconcile dry-run wait"),
        (["reconcile", "u-1", "dry-run"], "reconcile u-1 dry-run wait"),
        (["reconcile", "--dry-run", "u-1", "--json"], "reconcile u-1 dry-run wait json"),
        (["revoke", "u-1"], "revoke u-1 wait"),
        (["revoke", "u-1", "user", "left"], "revoke u-1 user left wait"),
        (["revoke", "u-1", "user left"], "revoke u-1 user left wait"),
        // The answer within 0.3 s, as the plain socket line gets it.
        (["revoke", "u-1", "--no-wait"], "revoke u-1"),
        (["reconcile", "u-1", "--no-wait"], "reconcile u-1"),
        // Arguments that read as option words get the `--` that keeps them arguments.
        (["revoke", "u-1", "please", "wait"], "revoke u-1 please wait -- wait"),
        (["show", "--", "json"], "show json --"),
        (["show", "--", "dry-run"], "show dry-run"),
        (["reconcile", "--dry-run", "dry-run"], "reconcile dry-run -- dry-run wait"),
        (["audit", "--", "json"], "audit json --"),
        (["secret", "u-1"], "secret u-1"),
        (["events"], "events"),
        (["events", "u-1", "--json"], "events u-1 json"),
        (["wait", "u-1", "active"], "wait u-1 active"),
        (["wait", "u-1", "active,failed", "5m", "json"], "wait u-1 active,failed 5m json"),
    ]

    @Test(arguments: lines)
    func sendsTheLineAndPrintsTheAnswer(arguments: [String], line: String) async throws {
        let scratch = try ScratchDirectory()
        let daemon = try ScriptedControlSocket(directory: scratch.path, replies: [.answer("answer for \(line)\nsecond line\n")])
        defer { daemon.release() }
        let run = try await ProgramRun.wbkeyctl(["--socket", daemon.path] + arguments)
        #expect(run.status == 0, "\(run.standardError)")
        #expect(daemon.lines == [line])
        #expect(run.standardOutput == "answer for \(line)\nsecond line\n")
        #expect(run.standardError.isEmpty)
    }

    @Test func anErrorAnswerGoesToStderrAndExitsOne() async throws {
        let scratch = try ScratchDirectory()
        let daemon = try ScriptedControlSocket(directory: scratch.path, replies: [.answer("error: no grant for u-9\n")])
        defer { daemon.release() }
        let run = try await ProgramRun.wbkeyctl(["--socket", daemon.path, "show", "u-9"])
        #expect(run.status == 1)
        #expect(run.standardOutput.isEmpty)
        #expect(run.standardError == "error: no grant for u-9\n")
    }

    @Test func aJSONErrorStaysOnStdoutAndExitsOne() async throws {
        let scratch = try ScratchDirectory()
        let document = #"{"error":{"message":"permission denied"}}"# + "\n"
        let daemon = try ScriptedControlSocket(directory: scratch.path, replies: [.answer(document)])
        defer { daemon.release() }
        let run = try await ProgramRun.wbkeyctl(["--socket", daemon.path, "--json", "revoke", "u-1"])
        #expect(run.status == 1)
        #expect(run.standardOutput == document)
        #expect(daemon.lines == ["revoke u-1 wait json"])
    }

    @Test func aLastWordJSONAsksForJSONAsOnTheSocket() async throws {
        let scratch = try ScratchDirectory()
        let document = #"{"error":{"message":"no grant for u-1"}}"# + "\n"
        let daemon = try ScriptedControlSocket(directory: scratch.path, replies: [.answer(document)])
        defer { daemon.release() }
        let run = try await ProgramRun.wbkeyctl(["--socket", daemon.path, "show", "u-1", "json"])
        #expect(run.status == 1)
        #expect(run.standardOutput == document)
        #expect(daemon.lines == ["show u-1 json"])
    }

    @Test func aJSONAnswerThatMerelyMentionsErrorsIsASuccess() async throws {
        let scratch = try ScratchDirectory()
        let document = #"{"phase":"ready","whitebit":{"errors":2,"last_error":"error: 503"}}"# + "\n"
        let daemon = try ScriptedControlSocket(directory: scratch.path, replies: [.answer(document)])
        defer { daemon.release() }
        let run = try await ProgramRun.wbkeyctl(["--socket", daemon.path, "--json", "status"])
        #expect(run.status == 0)
        #expect(run.standardOutput == document)
    }

    @Test func aHangUpWithoutAnswerIsUnreachable() async throws {
        let scratch = try ScratchDirectory()
        let daemon = try ScriptedControlSocket(directory: scratch.path, replies: [.hangUp])
        defer { daemon.release() }
        let run = try await ProgramRun.wbkeyctl(["--socket", daemon.path, "status"])
        #expect(run.status == 69)
        #expect(run.standardError.contains(daemon.path))
        #expect(run.standardError.contains("without an answer"))
    }

    @Test func aSilentDaemonEndsAtTheTimeout() async throws {
        let scratch = try ScratchDirectory()
        let daemon = try ScriptedControlSocket(directory: scratch.path, replies: [.silence])
        defer { daemon.release() }
        let run = try await ProgramRun.wbkeyctl(["--socket", daemon.path, "--timeout", "1", "status"])
        #expect(run.status == 69)
        #expect(run.standardError.contains("no complete answer within 1s"))
        #expect(daemon.lines == ["status"])
    }

    @Test func aMissingSocketIsUnreachableWithPathAndErrno() async throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/nothing-here.sock"
        let run = try await ProgramRun.wbkeyctl(["--socket", path, "status"])
        #expect(run.status == 69)
        #expect(run.standardError.contains("cannot reach wbkeyd at \(path): No such file or directory (errno 2)"))
        #expect(run.standardOutput.isEmpty)
    }

    @Test func aSocketNobodyListensOnIsRefused() async throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/dead.sock"
        try bindWithoutListening(path)
        let run = try await ProgramRun.wbkeyctl(["--socket", path, "metrics"])
        #expect(run.status == 69)
        #expect(run.standardError.contains("\(path): Connection refused (errno \(ECONNREFUSED))"))
    }

    @Test func aPathTooLongForASocketIsNamed() async throws {
        let path = "/tmp/" + String(repeating: "x", count: 120)
        let run = try await ProgramRun.wbkeyctl(["--socket", path, "status"])
        #expect(run.status == 69)
        #expect(run.standardError.contains("1 to 107 bytes"))
    }

    @Test func theEnvironmentNamesTheSocketAndTheOptionOverridesIt() async throws {
        let scratch = try ScratchDirectory()
        let daemon = try ScriptedControlSocket(directory: scratch.path, replies: [.answer("from env\n")])
        defer { daemon.release() }
        let viaEnvironment = try await ProgramRun.wbkeyctl(["status"], environment: ["WBKEYD_SOCKET": daemon.path])
        #expect(viaEnvironment.status == 0)
        #expect(viaEnvironment.standardOutput == "from env\n")
        let elsewhere = scratch.path + "/other.sock"
        let overridden = try await ProgramRun.wbkeyctl(["--socket", elsewhere, "status"], environment: ["WBKEYD_SOCKET": daemon.path])
        #expect(overridden.status == 69)
        #expect(overridden.standardError.contains(elsewhere))
        #expect(daemon.lines == ["status"])
    }

    @Test func withoutEitherTheDefaultSocketIsTried() async throws {
        let run = try await ProgramRun.wbkeyctl(["--timeout", "2", "status"])
        if access("/run/wbkeyd/control.sock", F_OK) != 0 {
            #expect(run.status == 69)
            #expect(run.standardError.contains("cannot reach wbkeyd at /run/wbkeyd/control.sock: No such file or directory"))
        } else {
            #expect(!run.standardError.contains("cannot reach wbkeyd at") || run.standardError.contains("/run/wbkeyd/control.sock"))
        }
    }

    private func bindWithoutListening(_ path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        guard UnixSocketAddress.bind(descriptor, to: path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }
}
