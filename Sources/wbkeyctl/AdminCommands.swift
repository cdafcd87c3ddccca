import ArgumentParser

// Commands that change things or reveal a secret. wbkeyd decides who may run them from
// the caller's uid and groups (SO_PEERCRED); wbkeyctl adds no rights of its own.

struct AuthorizeURL: ControlLine {
    static let configuration = CommandConfiguration(
        commandName: "authorize-url",
        abstract: "Admin: prints a WhiteBIT authorization URL for a user, with fresh PKCE and state.",
        discussion: """
            The code verifier stays inside wbkeyd for 10 minutes; the callback's spool file then \
            needs only the code and the state (`wbkeyctl submit --state`). For root and members \
            of control.admin_group; audited.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp("The partner's user reference.", valueName: "user"))
    var user: String

    var words: [String] { ["authorize-url", user] }
}

struct Reconcile: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Admin: asks WhiteBIT now about one user's key (or every grant with a live token).",
        discussion: """
            Reports what changed. With --dry-run (or the word dry-run, as on the socket) it asks \
            WhiteBIT and reports what would change, changing nothing. Only grants that hold a \
            live token can be reconciled. Waits for WhiteBIT's answer (up to 10 seconds; sends \
            the option word `wait`) unless --no-wait is given. For root and members of \
            control.admin_group.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat
    @OptionGroup var waiting: WaitOption

    @Flag(name: .long, help: "Report what would change; change nothing.")
    var dryRun = false

    @Argument(help: ArgumentHelp("The partner's user reference (default: every grant with a live token).", valueName: "user"))
    var user: [String] = []

    /// A last word `dry-run` is the option, as on the socket, unless --dry-run is given
    /// too (`wbkeyctl reconcile --dry-run dry-run`: the user named dry-run).
    private var wordDryRun: Bool { !dryRun && user.last == "dry-run" }
    var words: [String] { ["reconcile"] + (wordDryRun ? user.dropLast() : user) }
    var options: [String] { (dryRun || wordDryRun ? ["dry-run"] : []) + waiting.words }
}

struct Revoke: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Admin: deletes a user's key at WhiteBIT and reports the resulting state.",
        discussion: """
            Answers after the first DELETE attempt or 5 seconds, whichever comes first (sends the \
            option word `wait`; with --no-wait, within 0.3 s with what was started). Without \
            a live token the deletion waits for the user's next authorization (revoke_pending). \
            Audited as revoke_requested with actor uid:N. For root and members of \
            control.admin_group.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp("The partner's user reference.", valueName: "user"))
    var user: String

    @Argument(help: ArgumentHelp("Why, for the audit log (up to 200 characters; the rest of the line).", valueName: "reason"))
    var reason: [String] = []

    @OptionGroup var waiting: WaitOption

    var options: [String] { waiting.words }

    var words: [String] { ["revoke", user] + reason }
}

struct Secret: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Secret readers: prints a user's external id, API key and API secret.",
        discussion: """
            Only for root and the users and groups in control.secret_readers; every read is \
            audited as secret_read with the reader's uid. The secret goes to stdout: pipe it \
            where it is needed rather than into a terminal's scrollback (--json gives \
            {user, external_id, api_key, api_secret}).
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat

    @Argument(help: ArgumentHelp("The partner's user reference.", valueName: "user"))
    var user: String

    var words: [String] { ["secret", user] }
}

struct Backup: ControlLine {
    static let configuration = CommandConfiguration(
        abstract: "Admin: writes a consistent copy of the store while wbkeyd runs.",
        discussion: """
            PATH must be absolute and must not exist; wbkeyd itself writes it (under \
            wbkeyd.service only its own directories are writable, e.g. /var/lib/wbkeyd), mode \
            0600, as one self-contained SQLite file. Waits for the copy to end (sends the \
            option word `wait`) unless --no-wait is given. Audited as store_backed_up. Check \
            the copy with `wbkeyd audit-verify --store PATH --master-key-file …`. For root and \
            members of control.admin_group.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var format: OutputFormat
    @OptionGroup var waiting: WaitOption

    @Argument(help: ArgumentHelp("Where the copy goes (absolute, new).", valueName: "path"))
    var path: String

    var words: [String] { ["backup", path] }
    var options: [String] { waiting.words }
}
