import ArgumentParser
import BuildInfo
import Foundation

@main
struct WBKeyCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wbkeyctl",
        abstract: "Talks to wbkeyd: sends one control-socket command and prints the answer; writes spool files.",
        usage: """
            wbkeyctl [--socket <path>] [--timeout <seconds>] [--json] <command> [<argument> ...]
            wbkeyctl submit [--spool <dir>] --user <user> … (see `wbkeyctl help submit`)
            """,
        discussion: """
            Each command is one line on wbkeyd's control socket; the answer is aligned text, \
            or one JSON document with --json. wbkeyd decides what the caller may do from the \
            kernel's word on who is calling (SO_PEERCRED), never from anything wbkeyctl sends: \
            read-only commands are for anyone who can open the socket; authorize-url, reconcile, \
            revoke and events for root and members of control.admin_group; wait for anyone; secret for root and \
            control.secret_readers.

            The socket needs no wbkeyctl:
              echo status | socat - UNIX-CONNECT:/run/wbkeyd/control.sock

            EXIT STATUS (one scheme for wbkeyd, wbkeyctl, whitebit-sim and
            wbkeyd-bench: 0, 1 and sysexits.h)
              0   success
              1   wbkeyd answered with an error (on stderr; on stdout with --json),
                  or submit could not write into the spool
              64  usage error: nothing was sent or written (EX_USAGE)
              69  wbkeyd cannot be reached (the message says where and why;
                  EX_UNAVAILABLE)

            ENVIRONMENT
              WBKEYD_SOCKET  the control socket when --socket is not given
                             (default \(ConnectionOptions.defaultSocket))
            """,
        version: BuildInfo.versionLine("wbkeyctl"),
        subcommands: [
            Help.self, Status.self, Grants.self, Show.self, Audit.self, Metrics.self,
            AuthorizeURL.self, Reconcile.self, Revoke.self, Secret.self, Backup.self, Balance.self, History.self, Sign.self,
            Events.self, Wait.self, Submit.self,
        ])

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    func run() throws {
        throw WBKeyCtlError.usage("a command is missing; `wbkeyctl --help` lists them")
    }

    /// ArgumentParser exits 64 on a usage error; wbkeyctl promises 2 (see EXIT STATUS),
    /// so parsing and running are told apart here.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot(socketStyle(Array(CommandLine.arguments.dropFirst())))
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            fail(fullMessage(for: error), status: WBKeyCtlError.usageStatus)
        }
        do {
            try command.run()
        } catch let error as WBKeyCtlError {
            if case .answeredWithError = error { Foundation.exit(error.exitStatus) }
            let hint = if case .usage = error { "\nusage: " + usageString(for: type(of: command)) } else { "" }
            fail("wbkeyctl: \(error)" + hint, status: error.exitStatus)
        } catch {
            // ArgumentParser's own outcomes: help and version requests (it parses
            // `--help` into a command that throws), validation failures, ExitCode.
            switch exitCode(for: error) {
            case .success:
                print(fullMessage(for: error))
                Foundation.exit(0)
            case .validationFailure:
                fail(fullMessage(for: error), status: WBKeyCtlError.usageStatus)
            case let code:
                let message = fullMessage(for: error)
                if message.isEmpty { Foundation.exit(code.rawValue) }
                fail("wbkeyctl: \(message)", status: code.rawValue)
            }
        }
    }

    /// A last word `json` means what it means on the socket (`wbkeyctl audit 5 json`),
    /// unless it is the value of an option (`--socket json`).
    static func socketStyle(_ arguments: [String]) -> [String] {
        guard arguments.count >= 2, arguments.last == "json", !arguments[arguments.count - 2].hasPrefix("-") else { return arguments }
        return arguments.dropLast() + ["--json"]
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
        Foundation.exit(status)
    }
}
