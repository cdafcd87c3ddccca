import GrantLifecycle

/// One control-socket line, parsed (docs/design.md §7). A trailing word `json` asks for
/// one JSON document instead of aligned text.
public struct ControlRequest: Sendable, Equatable {
    public var command: ControlCommand
    public var json: Bool
    /// The option word `wait` (`reconcile`, `revoke`): answer at the end of the action, as
    /// long as it takes, instead of within `ControlRequest.answerBound`.
    public var wait: Bool

    public init(command: ControlCommand, json: Bool, wait: Bool = false) {
        self.command = command
        self.json = json
        self.wait = wait
    }

    /// How long an action (`reconcile`, `revoke`) without `wait` may take before its
    /// answer says what was started rather than how it ended. socat gives up 0.5 s after
    /// its standard input ends (`-t`) when nothing arrives, so the plain
    /// `echo … | socat - UNIX-CONNECT:…` needs the whole answer sooner than that
    /// (docs/design.md §7).
    public static let answerBound: Duration = .milliseconds(300)
}

public enum ControlCommand: Sendable, Equatable {
    case help
    case status
    case grants(state: GrantState?)
    case show(user: String)
    case audit(count: Int, user: String?)
    case metrics
    case authorizeURL(user: String)
    case reconcile(user: String?, dryRun: Bool)
    case revoke(user: String, reason: String?)
    case secret(user: String)
    /// docs/design.md §12: holds the connection; one JSON line per committed audit row.
    case events(user: String?)
    /// docs/design.md §12: answers when the grant is in one of `states`, or at `timeout`.
    case wait(user: String, states: [GrantState], timeout: Duration)
    case balance(user: String, account: BalanceAccount, ticker: String?)
    case history(user: String, kind: HistoryKind, fields: [String: HistoryValue])
    case sign(user: String, path: String, body: String?)
    /// An online copy of the store to an absolute path that does not exist yet.
    case backup(path: String)

    public var name: String {
        switch self {
        case .help: "help"
        case .status: "status"
        case .grants: "grants"
        case .show: "show"
        case .audit: "audit"
        case .metrics: "metrics"
        case .authorizeURL: "authorize-url"
        case .reconcile: "reconcile"
        case .revoke: "revoke"
        case .secret: "secret"
        case .events: "events"
        case .wait: "wait"
        case .balance: "balance"
        case .history: "history"
        case .sign: "sign"
        case .backup: "backup"
        }
    }

    /// Who may run it: read-only commands are for anyone who can connect.
    public var requiredTier: AccessTier {
        switch self {
        case .help, .status, .grants, .show, .audit, .metrics: .anyone
        case .authorizeURL, .reconcile, .revoke, .backup: .admin
        case .secret: .secretReader
        case .wait: .anyone
        case .events, .balance, .history: .agentOrAdmin
        case .sign: .agent
        }
    }
}

/// The access tiers of docs/design.md §7, decided from SO_PEERCRED, never from the client.
public enum AccessTier: Int, Sendable, Comparable {
    case anyone = 0
    case admin = 1
    case secretReader = 2
    /// `sign`: root and `control.agent_users` (docs/design.md §12).
    case agent = 3
    /// `balance`, `history`: agents and admins.
    case agentOrAdmin = 4

    public static func < (lhs: AccessTier, rhs: AccessTier) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .anyone: "anyone"
        case .admin: "root or a member of control.admin_group"
        case .secretReader: "root or a member of control.secret_readers or control.agent_users"
        case .agent: "root or a member of control.agent_users"
        case .agentOrAdmin: "root or a member of control.agent_users or control.admin_group"
        }
    }
}

public struct ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
