import Foundation

/// Everything the lifecycle engine knows about one grant: one (partner user, OAuth
/// client) pair. Secrets are not here, only whether the store holds them sealed; the
/// engine decides, the shell around it keeps the sealed bytes.
///
/// Deadlines are absolute wall-clock times that the shell stores with the grant and
/// rebuilds its scheduler from at start, so a restart resumes where it stopped.
public struct Grant: Sendable, Equatable {
    public let user: String
    public var state: GrantState
    /// Why the grant is where it is, for operators (`failed`, `lost`, `revoke_pending`…).
    public var reason: String?
    /// The key WhiteBIT reported for this user, while it matters.
    public var externalID: String?
    /// The public key string, when the callback handed one (docs/whitebit-api.md §3.6, `main`).
    public var apiKey: String?
    /// The store holds this key's secret, sealed.
    public var hasSecret: Bool
    /// When the access token ends; nil when no token is held.
    public var tokenExpiresAt: Date?

    /// When the current state's next step runs (poll, secret fetch, delete, reconcile).
    public var stepAt: Date?
    /// Retries of the current step so far, and when its retry ladder began.
    public var stepAttempts: Int
    public var stepStartedAt: Date?
    /// The 423 ladder of a secret fetch keeps its own count and start: a 5xx or a reset
    /// between two locks must not stretch it (5 s, then 10 s, whatever came between).
    public var lockAttempts: Int
    public var lockStartedAt: Date?
    /// End of the `/info` polling budget after a token exchange.
    public var pollUntil: Date?

    /// An authorization waits for its token exchange: when to try, how often it was
    /// tried, and when it was received (codes older than `max_code_age` are useless).
    public var exchangeAt: Date?
    public var exchangeAttempts: Int
    public var authorizationReceivedAt: Date?

    /// A key that must be deleted (revoking, lost, revoke_pending), and whether the
    /// grant carries on with its new authorization once it is gone.
    public var doomedKey: String?
    public var resumeAfterDeletion: Bool

    /// Which value goes in `X-TXC-APIKEY` (docs/whitebit-api.md §3.6), once a signed read
    /// proved it; nil until then, when the `stage` reading (externalId) is assumed.
    public var keyIdentity: KeyIdentity?
    /// The last signed read of the key (verification or probe): when, and what it found.
    public var keyCheckedAt: Date?
    public var keyCheck: KeyCheck?
    /// The last time a signed request with this key was accepted by WhiteBIT.
    public var keyUsedAt: Date?
    /// When the next probe of a key that no token watches runs (`keys.probe_interval`).
    public var probeAt: Date?

    public var updatedAt: Date

    public init(user: String, state: GrantState = .pending, now: Date) {
        self.user = user
        self.state = state
        self.hasSecret = false
        self.stepAttempts = 0
        self.lockAttempts = 0
        self.exchangeAttempts = 0
        self.resumeAfterDeletion = false
        self.updatedAt = now
    }

    /// The earliest moment something must happen to this grant; the scheduler's key.
    public var nextDeadline: Date? {
        [stepAt, exchangeAt, tokenExpiresAt, probeAt].compactMap { $0 }.min()
    }

    /// The `X-TXC-APIKEY` value for this grant's key: the identity a signed read proved,
    /// or externalId before any did (docs/whitebit-api.md §3.6, the `stage` reading).
    public var signingIdentity: String? {
        switch keyIdentity {
        case .apiKey: apiKey
        case .externalID, nil: externalID
        }
    }

    public func holdsLiveToken(at now: Date) -> Bool {
        guard let expiry = tokenExpiresAt else { return false }
        return expiry > now
    }
}

/// The two readings of docs/whitebit-api.md §3.6. Raw values are stored and shown.
public enum KeyIdentity: String, Sendable, Codable, CaseIterable {
    case externalID = "external_id"
    case apiKey = "api_key"
}

/// What the last signed read of a key found. Raw values are stored, shown and counted.
public enum KeyCheck: String, Sendable, Codable, CaseIterable {
    /// WhiteBIT accepted the signed request.
    case ok
    /// WhiteBIT said the key is disabled.
    case disabled
    /// The key no longer authenticates (deleted, or never known under either identity).
    case gone
    /// Anything else: a refusal that says nothing about the key, or no answer.
    case failed
}
