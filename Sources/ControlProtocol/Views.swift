import Foundation
import GrantLifecycle
import Sensitive

/// What the daemon hands to the renderer. Plain values, so that replies can be
/// rendered and tested without a daemon, and nothing secret can slip in except
/// through `SecretView`, whose secret is `Sensitive`.
public struct StatusView: Sendable, Equatable {
    public var version: String
    public var uptimeSeconds: Int
    public var phase: String
    public var grants: [GrantState: Int]
    public var spool: SpoolView
    public var nextDeadline: Date?
    public var whitebit: WhiteBITView
    public var audit: AuditHeadView
    /// The last configuration reload (SIGHUP) since start; nil until the first.
    public var lastReload: ReloadView?
    /// Every instance that has run on the store, by name (this one included).
    public var cluster: [InstanceView]

    public init(version: String, uptimeSeconds: Int, phase: String, grants: [GrantState: Int], spool: SpoolView, nextDeadline: Date?, whitebit: WhiteBITView, audit: AuditHeadView, lastReload: ReloadView? = nil, cluster: [InstanceView] = []) {
        self.lastReload = lastReload
        self.cluster = cluster
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.phase = phase
        self.grants = grants
        self.spool = spool
        self.nextDeadline = nextDeadline
        self.whitebit = whitebit
        self.audit = audit
    }
}

/// One instance sharing the store, as its own last write left it (docs/design.md §13).
public struct InstanceView: Sendable, Equatable {
    public var name: String
    public var host: String
    public var pid: Int
    public var startedAt: Date
    public var lastSeen: Date
    /// When it stopped cleanly; nil while it runs, or when it ended without a word.
    public var stoppedAt: Date?
    /// The instance answering this `status`.
    public var isSelf: Bool
    /// Grants whose owner it is, as of the answering instance's last heartbeat (an
    /// instance that ended without a word keeps them until another takes them over).
    public var grants: Int

    public init(name: String, host: String, pid: Int, startedAt: Date, lastSeen: Date, stoppedAt: Date?, isSelf: Bool, grants: Int = 0) {
        self.grants = grants
        self.name = name
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.lastSeen = lastSeen
        self.stoppedAt = stoppedAt
        self.isSelf = isSelf
    }
}

/// A reload's outcome: `applied`, or `refused` with the first problem.
public struct ReloadView: Sendable, Equatable {
    public var at: Date
    public var outcome: String
    public var problem: String?

    public init(at: Date, outcome: String, problem: String?) {
        self.at = at
        self.outcome = outcome
        self.problem = problem
    }
}

public struct SpoolView: Sendable, Equatable {
    public var new: Int
    public var claimed: Int
    public var rejected: Int
    public var oldestAgeSeconds: Int?

    public init(new: Int, claimed: Int, rejected: Int, oldestAgeSeconds: Int?) {
        self.new = new
        self.claimed = claimed
        self.rejected = rejected
        self.oldestAgeSeconds = oldestAgeSeconds
    }
}

public struct WhiteBITView: Sendable, Equatable {
    public var requests: Int
    public var errors: Int
    public var lastError: String?

    public init(requests: Int, errors: Int, lastError: String?) {
        self.requests = requests
        self.errors = errors
        self.lastError = lastError
    }
}

public struct AuditHeadView: Sendable, Equatable {
    public var seq: Int
    public var hash: String

    public init(seq: Int, hash: String) {
        self.seq = seq
        self.hash = hash
    }
}

public struct GrantView: Sendable, Equatable {
    public var user: String
    public var state: GrantState
    public var externalID: String?
    public var tokenExpiresAt: Date?
    public var updatedAt: Date?
    public var reason: String?
    public var apiKey: String?
    public var hasSecret: Bool
    public var nextActionAt: Date?
    public var attempts: Int
    public var key: KeyWatchView
    /// The instance that works on the grant: with one writer per store, the one that
    /// holds it (docs/design.md §13).
    public var owner: String?

    public init(user: String, state: GrantState, externalID: String?, tokenExpiresAt: Date?, updatedAt: Date?, reason: String?, apiKey: String? = nil, hasSecret: Bool = false, nextActionAt: Date? = nil, attempts: Int = 0, key: KeyWatchView = KeyWatchView(), owner: String? = nil) {
        self.owner = owner
        self.user = user
        self.state = state
        self.externalID = externalID
        self.tokenExpiresAt = tokenExpiresAt
        self.updatedAt = updatedAt
        self.reason = reason
        self.apiKey = apiKey
        self.hasSecret = hasSecret
        self.nextActionAt = nextActionAt
        self.attempts = attempts
        self.key = key
    }
}

/// What signed reads found about a grant's key (docs/design.md §12), for `show`.
public struct KeyWatchView: Sendable, Equatable {
    /// `external_id` or `api_key`: the X-TXC-APIKEY reading a signed read proved.
    public var identity: String?
    /// ok, disabled, gone or failed; nil: never checked.
    public var check: String?
    public var checkedAt: Date?
    public var usedAt: Date?
    /// The next verification or probe.
    public var nextCheckAt: Date?

    public init(identity: String? = nil, check: String? = nil, checkedAt: Date? = nil, usedAt: Date? = nil, nextCheckAt: Date? = nil) {
        self.identity = identity
        self.check = check
        self.checkedAt = checkedAt
        self.usedAt = usedAt
        self.nextCheckAt = nextCheckAt
    }
}

public struct AuditRowView: Sendable, Equatable {
    public var seq: Int
    public var at: String
    public var event: String
    public var user: String?
    public var externalID: String?
    public var actor: String
    /// The row's `detail` column: a JSON object, as stored.
    public var detail: String

    public init(seq: Int, at: String, event: String, user: String?, externalID: String?, actor: String, detail: String) {
        self.seq = seq
        self.at = at
        self.event = event
        self.user = user
        self.externalID = externalID
        self.actor = actor
        self.detail = detail
    }
}

public struct SecretView: Sendable, Equatable {
    public var user: String
    public var externalID: String
    public var apiKey: String
    public var apiSecret: Sensitive

    public init(user: String, externalID: String, apiKey: String, apiSecret: Sensitive) {
        self.user = user
        self.externalID = externalID
        self.apiKey = apiKey
        self.apiSecret = apiSecret
    }
}
