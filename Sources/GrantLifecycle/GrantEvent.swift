import Foundation
import Sensitive

/// What happened to a grant: something an operator or a partner asked for, a
/// deadline that came due, or the outcome of a WhiteBIT call the engine asked for.
public enum GrantEvent: Sendable, Equatable {
    /// A new authorization for this user arrived; its code and verifier are kept
    /// (sealed) by the transition that takes it.
    case authorizationReceived(Authorization)
    case revokeRequested(reason: String)
    /// A deadline of this grant came due.
    case due
    /// An admin asked for a reconcile now.
    case reconcileRequested

    /// The token is kept (sealed) by the transition that takes it.
    case tokenExchanged(token: Sensitive, expiresIn: Duration?)
    case tokenExchangeFailed(CallFailure)
    case keyInfo(KeyInfo)
    case keyInfoFailed(CallFailure)
    /// The secret of `externalID` arrived; it is sealed in the same commit as the
    /// transition that takes it.
    case secretFetched(Sensitive, externalID: String)
    case secretFetchFailed(CallFailure)
    /// DELETE answered 200 (`alreadyGone` false) or 404 (true); both mean done.
    case keyDeleted(alreadyGone: Bool)
    case keyDeletionFailed(CallFailure)
    /// What a signed read with the key found (docs/design.md §12).
    case keyChecked(KeyCheckReport)
}

/// A new authorization from the spool: what the partner's callback delivered.
public struct Authorization: Sendable, Equatable {
    public var receivedAt: Date
    /// An `api_key` delivered on the callback (docs/whitebit-api.md §3.6), if any.
    public var apiKey: String?
    public var code: Sensitive
    public var verifier: Sensitive

    public init(receivedAt: Date, apiKey: String?, code: Sensitive, verifier: Sensitive) {
        self.receivedAt = receivedAt
        self.apiKey = apiKey
        self.code = code
        self.verifier = verifier
    }
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
    /// The nonces the check's signed reads used, made durable with its outcome.
    public var nonceMarks: [NonceMark]

    public init(
        externalID: String, outcome: KeyCheck, identity: KeyIdentity? = nil, message: String? = nil, nonceMarks: [NonceMark] = []
    ) {
        self.externalID = externalID
        self.outcome = outcome
        self.identity = identity
        self.message = message
        self.nonceMarks = nonceMarks
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
