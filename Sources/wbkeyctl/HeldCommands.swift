import ArgumentParser
import ControlProtocol
import Foundation
import GrantLifecycle

// The commands that hold their connection (docs/design.md §12).

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Admin: prints one JSON line per committed audit row, as they commit, until wbkeyd closes.",
        discussion: """
            The first line is {"subscribed": {"after_seq": N, "user": …}}: every row after \
            seq N follows, in order, none missed while wbkeyctl keeps reading. Each row has \
            the `audit --json` shape (seq, at, event, user, external_id, actor, detail); never \
            a secret. A reader that falls more than 1 MiB behind is cut off: the last line is \
            `error: events: cut off: …` naming the last row sent, on stderr, and wbkeyctl exits 1. \
            --timeout does not apply: the stream runs until interrupted.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp("Only this user's rows.", valueName: "user"))
    var user: String?

    func run() throws {
        let (line, json) = try ControlExchange.line(["events"] + (user.map { [$0] } ?? []), json: format.json)
        var pending: [UInt8] = []
        var failed = false
        try ControlConnection(socketPath: connection.socketPath, timeoutSeconds: connection.timeout).stream(line) { chunk in
            pending += chunk
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let lineBytes = Array(pending[...newline])
                pending.removeSubrange(...newline)
                let isError = ControlExchange.isErrorAnswer(lineBytes, json: json)
                failed = failed || isError
                (isError && !json ? FileHandle.standardError : FileHandle.standardOutput).write(Data(lineBytes))
            }
        }
        if !pending.isEmpty { FileHandle.standardOutput.write(Data(pending)) }
        if failed { throw WBKeyCtlError.answeredWithError }
    }
}

struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Waits until a user's grant is in one of the given states; exits 1 on timeout.",
        discussion: """
            Answers at once when the grant already is. Prints `USER: STATE` (JSON: {"user", \
            "state"}); after TIMEOUT, `error: timeout: …` on stderr and exit status 1. A user \
            without a grant is waited for as well (until one arrives in a wanted state). \
            Examples: `wbkeyctl wait u-1001 active`, `wbkeyctl wait u-1001 active,no_key,failed 5m`.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp("The partner's user reference.", valueName: "user"))
    var user: String

    @Argument(help: ArgumentHelp(
        "One or more states, comma-separated: \(GrantState.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "states"))
    var states: String

    @Argument(help: ArgumentHelp(
        "How long to wait: a number and a unit (ms, s, m, h), at most 1h (default 30s).", valueName: "timeout"))
    var timeout: String?

    func run() throws {
        let words = ["wait", user, states] + (timeout.map { [$0] } ?? [])
        let (line, _) = try ControlExchange.line(words, json: format.json)
        guard case .wait(_, _, let waitFor)? = try? ControlParser.parse(line).command else { return }
        // The answer comes after up to TIMEOUT: wait for it a little longer than that.
        var options = connection
        options.timeout = max(connection.timeout, Int(waitFor.components.seconds) + 10)
        try ControlExchange(connection: options, json: format.json).perform(words)
    }
}
