import Sensitive

/// The engine's answer to one event, with every effect of the decision: the grant as
/// it must be stored, the secret material to seal and keep, what to wipe, the nonce
/// marks to make durable, the audit rows, and at most one WhiteBIT call to make after
/// the commit. The store applies all of it in one atomic commit; nothing else is
/// written for a grant. Committing before calling is what makes the once-only secret
/// safe: the intent is durable before `GET …/secret` leaves the process.
public struct Transition: Sendable, Equatable {
    public var grant: Grant
    public var audit: [AuditNote]
    public var call: Call?
    /// Sealed by the store after the wipes below, in the same commit.
    public var keep: [Keep]
    public var wipeToken: Bool
    public var wipeSecret: Bool
    /// The stored authorization (sealed code and verifier) is of no more use: it was
    /// exchanged, an exchange failed for good, or the code aged out before any call.
    public var wipeAuthorization: Bool
    /// Nonces a signed call of this decision used; a restart never hands out one below.
    public var nonceMarks: [NonceMark]

    public init(
        grant: Grant, audit: [AuditNote] = [], call: Call? = nil, keep: [Keep] = [], wipeToken: Bool = false,
        wipeSecret: Bool = false, wipeAuthorization: Bool = false, nonceMarks: [NonceMark] = []
    ) {
        self.grant = grant
        self.audit = audit
        self.call = call
        self.keep = keep
        self.wipeToken = wipeToken
        self.wipeSecret = wipeSecret
        self.wipeAuthorization = wipeAuthorization
        self.nonceMarks = nonceMarks
    }
}

/// Secret material a decision keeps for its grant; the store seals each bound to its
/// kind, user and key.
public enum Keep: Sendable, Equatable {
    /// A new authorization: its code and PKCE verifier, until the exchange.
    case authorization(code: Sensitive, verifier: Sensitive)
    case token(Sensitive)
    /// The once-only API secret of `externalID`.
    case secret(Sensitive, externalID: String)
}

/// The highest V4 nonce used with one key value (docs/design.md §12).
public struct NonceMark: Sendable, Equatable {
    public var key: String
    public var nonce: Int64

    public init(key: String, nonce: Int64) {
        self.key = key
        self.nonce = nonce
    }
}

/// A WhiteBIT call the shell performs for the engine; its outcome comes back as an event.
public enum Call: Sendable, Equatable {
    case exchangeToken
    case keyInfo
    case fetchSecret(externalID: String)
    case deleteKey(externalID: String)
    /// One signed read with the key (verification or probe); `identity` nil: try both
    /// readings of docs/whitebit-api.md §3.6, externalId first.
    case checkKey(externalID: String, identity: KeyIdentity?)
}

/// An audit row the engine wants written; the shell adds time, actor and chain.
public struct AuditNote: Sendable, Equatable {
    public var event: AuditEvent
    public var externalID: String?
    public var detail: [String: String]

    public init(_ event: AuditEvent, externalID: String? = nil, detail: [String: String] = [:]) {
        self.event = event
        self.externalID = externalID
        self.detail = detail
    }
}

/// The audit events of docs/design.md §6. The raw values are what the audit log's `event`
/// column holds and what its hash chain covers: never rename one. Grant transitions
/// produce most of them; the rest (daemon, spool, socket) are the shell's.
public enum AuditEvent: String, Sendable, CaseIterable, Codable {
    case daemonStarted = "daemon_started"
    case daemonStopped = "daemon_stopped"
    case configReloaded = "config_reloaded"
    case authorizationReceived = "authorization_received"
    case authorizationRejected = "authorization_rejected"
    case authorizationDuplicate = "authorization_duplicate"
    case tokenExchanged = "token_exchanged"
    case tokenExchangeFailed = "token_exchange_failed"
    case keyDetected = "key_detected"
    case keyNotCreated = "key_not_created"
    case secretSecured = "secret_secured"
    case secretLost = "secret_lost"
    case secretRead = "secret_read"
    case keyDisabled = "key_disabled"
    case keyGone = "key_gone"
    case reconcileDrift = "reconcile_drift"
    case revokeRequested = "revoke_requested"
    case keyRevoked = "key_revoked"
    case keyRevokeFailed = "key_revoke_failed"
    case tokenExpired = "token_expired"
    case auditPruned = "audit_pruned"
    case authorizeURLIssued = "authorize_url_issued"
    case commandRefused = "command_refused"
    /// The chain became keyed (a new store, or the first start after an upgrade).
    case auditKeyed = "audit_keyed"
    /// The chain's head no longer holds the row last witnessed outside the store.
    case auditWitnessMismatch = "audit_witness_mismatch"
    /// `wbkeyd rewrap` moved every sealed box and the chain key to a new master key.
    case masterKeyRewrapped = "master_key_rewrapped"
    /// The first signed read with a freshly sealed key worked (docs/design.md §12).
    case keyVerified = "key_verified"
    /// It did not; the detail carries WhiteBIT's words.
    case keyVerificationFailed = "key_verification_failed"
    /// A later signed read of a key no token watches (`keys.probe_interval`).
    case keyProbed = "key_probed"
    /// `balance` or `history` asked WhiteBIT through a user's key or token (docs/design.md §12).
    case accountRead = "account_read"
    /// `sign` handed a caller a signed request with the nonce in the detail.
    case requestSigned = "request_signed"
    /// `backup PATH` wrote a consistent copy of the store.
    case storeBackedUp = "store_backed_up"
    /// An event reached a grant in a state where it changes nothing (a call's answer that
    /// arrived after a revocation or a new authorization moved the grant on): recorded
    /// rather than dropped, so that no (state, event) pair passes unseen.
    case eventIgnored = "event_ignored"
}
