import Foundation

/// What happened to a grant: something an operator or a partner asked for, a
/// deadline that came due, or the outcome of a WhiteBIT call the engine asked for.
public enum GrantEvent: Sendable, Equatable {
    /// A new authorization for this user is stored (sealed code and verifier).
    case authorizationReceived(receivedAt: Date, apiKey: String?)
    case revokeRequested(reason: String)
    /// A deadline of this grant came due.
    case due
    /// An admin asked for a reconcile now.
    case reconcileRequested

    case tokenExchanged(expiresIn: Duration?)
    case tokenExchangeFailed(CallFailure)
    case keyInfo(KeyInfo)
    case keyInfoFailed(CallFailure)
    /// The secret arrived and is sealed in the same transaction as this transition.
    case secretFetched
    case secretFetchFailed(CallFailure)
    /// DELETE answered 200 (`alreadyGone` false) or 404 (true); both mean done.
    case keyDeleted(alreadyGone: Bool)
    case keyDeletionFailed(CallFailure)
    /// What a signed read with the key found (docs/design.md §12).
    case keyChecked(KeyCheckReport)
}

/// The verdict of one signed read of a key, as the shell worked it out from WhiteBIT's
/// answer (it tries both readings of docs/whitebit-api.md §3.6 while none is proven).
public struct KeyCheckReport: Sendable, Equatable {
    public var externalID: String
    public var outcome: KeyCheck
    /// The identity WhiteBIT recognised (the key answered, enabled or not); nil otherwise.
    public var identity: KeyIdentity?
    /// WhiteBIT's words, or why no answer came; never a secret.
    public var message: String?

    public init(externalID: String, outcome: KeyCheck, identity: KeyIdentity? = nil, message: String? = nil) {
        self.externalID = externalID
        self.outcome = outcome
        self.identity = identity
        self.message = message
    }
}

/// What `/oauth2/api-key/info` said.
public struct KeyInfo: Sendable, Equatable {
    public var exists: Bool
    public var isEnabled: Bool
    public var externalID: String?
    /// Another live grant (this partner user) holds `externalID` already: two partner
    /// users consented with one WhiteBIT account. The shell looks it up in the store.
    public var heldByOtherUser: String?

    public init(exists: Bool, isEnabled: Bool, externalID: String?, heldByOtherUser: String? = nil) {
        self.exists = exists
        self.isEnabled = isEnabled
        self.externalID = externalID
        self.heldByOtherUser = heldByOtherUser
    }
}

/// How a WhiteBIT call failed, in the terms the lifecycle rules are written in
/// (docs/design.md §5). The shell maps the client's typed errors onto these.
public enum CallFailure: Sendable, Equatable {
    case unauthorized
    case forbidden
    case notFound
    case alreadyRetrieved
    case locked
    /// Network, timeout, 5xx, 429: worth retrying.
    case transient(String)
    /// Any other refusal that retrying will not change (400, 422 …).
    case rejected(String)

    public var summary: String {
        switch self {
        case .unauthorized: "401 unauthorized"
        case .forbidden: "403 forbidden"
        case .notFound: "404 not found"
        case .alreadyRetrieved: "409 secret already retrieved"
        case .locked: "423 locked"
        case .transient(let why): why
        case .rejected(let why): why
        }
    }
}
