import ArgumentParser
import ControlProtocol
import GrantLifecycle

// The read-only commands of docs/design.md §7: anyone who can open the socket may run them.

struct Help: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Shows wbkeyd's own list of control commands (or wbkeyctl's help for one command).",
        discussion: """
            Without an argument, asks wbkeyd for its command list, so it needs a running \
            daemon. `wbkeyctl help COMMAND` (like `wbkeyctl COMMAND --help`) shows wbkeyctl's \
            help for COMMAND and needs no daemon.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: "A wbkeyctl command to explain instead.")
    var command: [String] = []

    var words: [String] { ["help"] }

    func run() throws {
        guard let name = command.first else {
            return try ControlExchange(connection: connection, json: format.json).perform(words)
        }
        guard let subcommand = WBKeyCtl.configuration.subcommands.first(where: { $0._commandName == name }) else {
            throw WBKeyCtlError.usage("unknown command `\(name.prefix(32))`; `wbkeyctl --help` lists them")
        }
        print(WBKeyCtl.helpMessage(for: subcommand))
    }
}

struct Status: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Shows the daemon's health: phase, grants by state, spool backlog, WhiteBIT calls, audit head.",
        discussion: """
            Phase is one of starting, ready, reloading, stopping, degraded. JSON fields: \
            version, uptime_s, phase, grants {STATE: count}, spool {new, claimed, rejected, \
            oldest_age_s}, next_deadline, whitebit {requests, errors, last_error}, audit {seq, hash}.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    var words: [String] { ["status"] }
}

struct Grants: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Lists grants, one row each: user, state, external id, token expiry, last update.",
        discussion: "JSON: {\"grants\": [{user, state, external_id, token_expires_at, updated_at, reason, …}]}.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp(
        "Only grants in this state: \(GrantState.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "state"))
    var state: String?

    var words: [String] { ["grants"] + (state.map { [$0] } ?? []) }
}

struct Show: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Shows one grant in full, with its recent audit events.",
        discussion: "Never shows the secret: only whether one is sealed in the store.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp("The partner's user reference.", valueName: "user"))
    var user: String

    var words: [String] { ["show", user] }
}

struct Audit: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Shows the last N rows of the audit log (default 20), optionally of one user.",
        discussion: """
            Examples: `wbkeyctl audit`, `wbkeyctl audit 100`, `wbkeyctl audit u-1001`, \
            `wbkeyctl audit 5 u-1001`. The actor is `wbkeyd`, or `uid:N` for a control command. \
            `wbkeyd audit-verify --store PATH` checks the hash chain.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp(
        "How many rows (1–\(ControlParser.maxAuditCount)) and/or whose, in that order.", valueName: "selection"))
    var selection: [String] = []

    var words: [String] { ["audit"] + selection }
}

struct Metrics: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Prints Prometheus text exposition (aggregates only, never one series per user).",
        discussion: "--json gives the same samples as {\"metrics\": {FAMILY: [{\"labels\": {…}, \"value\": N}]}}.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    var words: [String] { ["metrics"] }
}
