import ArgumentParser
import SysExits
import DaemonConfig
import Foundation

/// `wbkeyd demo` hands over to `wbkeyd-demo` beside this executable: the demo drives the
/// daemon through the test harness and the simulator, which a production binary must not
/// carry. An installed wbkeyd has no `wbkeyd-demo` and says so instead of half-running.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Runs whitebit-sim and wbkeyd on loopback in a private directory and plays six users through the flow.",
        discussion: """
            alice (ordinary), bob (key appears late), carol (never creates a key), dave (the \
            secret's answer is lost: lost, key deleted), erin (revoked by the partner). Tokens \
            live 45 s, so active grants turn dormant. A live table of the grants refreshes \
            every second; once all have settled it prints socat and wbkeyctl commands to try \
            against the still-running daemon, and the audit database with a sqlite3 query and \
            audit-verify. Ctrl-C (or --duration) stops everything and removes the directory \
            (--keep keeps it).

            The demo is part of a build from the source tree (`make demo`), not of an installed \
            wbkeyd: it runs the `wbkeyd-demo` program beside this one, and exits with status 69 \
            (EX_UNAVAILABLE) when that is not there.
            """)

    @Option(help: ArgumentHelp("Stop after this long (e.g. 90s, 5m); without it the demo runs until Ctrl-C.", valueName: "duration"))
    var duration: String?

    @Flag(help: "Keep the demo's directory (store, spool, config) after it stops.")
    var keep = false

    func run() throws {
        if let duration, (try? ConfigDuration.parse(duration)) == nil {
            throw ValidationError("--duration: expected a duration like 90s or 5m, got \(duration)")
        }
        let program = Self.demoProgram()
        guard let program, access(program, X_OK) == 0 else {
            FileHandle.standardError.write(Data("""
                wbkeyd: the demo is not part of this installation (it needs whitebit-sim and the test \
                harness); run `make demo` in a checkout of wbkeyd\n
                """.utf8))
            throw ExitCode(ExitStatus.unavailable)
        }
        var arguments = [program]
        if let duration { arguments += ["--duration", duration] }
        if keep { arguments.append("--keep") }
        let argv = arguments.map { strdup($0) } + [nil]
        execv(program, argv)
        let reason = String(cString: strerror(errno))
        FileHandle.standardError.write(Data("wbkeyd: cannot run \(program): \(reason)\n".utf8))
        throw ExitCode(ExitStatus.unavailable)
    }

    /// `wbkeyd-demo` in the directory of the running executable (not of `argv[0]`, which
    /// a shell may have found on PATH).
    static func demoProgram() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("wbkeyd-demo").path
    }
}
