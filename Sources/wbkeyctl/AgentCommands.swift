import ArgumentParser

// The key-agent commands (docs/design.md §12): the partner application reads and signs
// through wbkeyd, and the secret never leaves it. wbkeyd decides who may run them.

struct Balance: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Agents and admins: a user's main or spot balance, read from WhiteBIT through the user's key.",
        discussion: """
            Signed with the user's key (route v4) when wbkeyd holds its secret, else with the \
            live OAuth token (route bearer); the answer says which. --json gives WhiteBIT's \
            JSON under "balance" with "route" and "user". Audited as account_read. For root, \
            control.agent_users and control.admin_group.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp("The partner's user reference.", valueName: "user"))
    var user: String

    @Argument(help: ArgumentHelp("main or spot.", valueName: "account"))
    var account: String

    @Argument(help: ArgumentHelp("One ticker, e.g. BTC (default: every ticker).", valueName: "ticker"))
    var ticker: String?

    var words: [String] { ["balance", user, account] + (ticker.map { [$0] } ?? []) }
}

struct History: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Agents and admins: a user's transactions, converts, orders or deals, read from WhiteBIT.",
        discussion: """
            FIELD=VALUE pairs narrow the history with WhiteBIT's own fields (e.g. limit=10 \
            offset=0 ticker=BTC; a list as addresses=a,b). --json gives WhiteBIT's JSON under \
            "history" with "route". Audited as account_read. For root, control.agent_users and \
            control.admin_group.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp("The partner's user reference.", valueName: "user"))
    var user: String

    @Argument(help: ArgumentHelp("transactions, converts, orders or deals.", valueName: "kind"))
    var kind: String

    @Argument(help: ArgumentHelp("WhiteBIT's fields for this history, as FIELD=VALUE.", valueName: "field=value"))
    var fields: [String] = []

    var words: [String] { ["history", user, kind] + fields }
}

struct Sign: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Agents: a signed V4 request (url, body, headers) for the caller to send to WhiteBIT itself.",
        discussion: """
            The path must be one of agent.sign_paths. wbkeyd assigns the nonce (with \
            nonceWindow: send within 5 seconds, in any order) from the one source it uses for \
            every signature of the key, so callers never collide. Send the body exactly as \
            printed. Audited as request_signed with the nonce. For root and control.agent_users.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp("The partner's user reference.", valueName: "user"))
    var user: String

    @Argument(help: ArgumentHelp("The /api/v4/… path to sign.", valueName: "path"))
    var path: String

    @Argument(help: ArgumentHelp("The endpoint's fields as one JSON object (default: none).", valueName: "json-body"))
    var body: String?

    var words: [String] { ["sign", user, path] + (body.map { [$0] } ?? []) }
}
