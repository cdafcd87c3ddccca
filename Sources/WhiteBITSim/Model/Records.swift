import Foundation
import Sensitive

/// An authorization code handed out at consent. Single use: `used` is set by the first
/// exchange attempt, whatever its outcome.
struct AuthorizationCode: Sendable {
    let value: Sensitive
    let user: String
    let clientID: String
    let redirectURI: String
    let state: String?
    /// Nil when issued without PKCE (only `/sim/consent` can do that).
    let challenge: String?
    let expiresAt: Date
    var used = false
}

/// A bearer token for one (user, client).
struct AccessToken: Sendable {
    let value: Sensitive
    let user: String
    let clientID: String
    let scopes: [String]
    var expiresAt: Date
}

/// A partner-issued API key. Deleted keys stay as records (for `/sim/state`) but are no
/// key to any endpoint.
struct APIKey: Sendable {
    let externalID: String
    let user: String
    let clientID: String
    let apiSecret: Sensitive
    /// The separate public key string of the `api_key` reading of `docs/whitebit-api.md` §3.6.
    let apiKey: String
    var permissions: [JSONValue]
    let createdAt: Date
    /// Before this moment the key is still being created by the user: invisible.
    let appearsAt: Date
    /// The last successful signed request, or the key's appearance: where idleness counts from.
    var lastUsedAt: Date
    /// The highest nonce accepted so far; the next plain nonce must exceed it.
    var highestNonce: Int?
    /// `nonceWindow` nonces accepted within the last 5 s either side of the clock.
    var windowNonces: Set<Int> = []
    /// Every signed request that named this key, oldest first.
    var requests: [KeyRequest] = []
    var enabled = true
    var deleted = false
    var secretRetrieved = false
    /// Requests that reached the secret handler for this key with a valid token.
    var secretFetches = 0
    /// A retrieval is in flight; a concurrent one gets 423.
    var retrievalInFlight = false

    /// Still counts against "one key per (user, client)", visible or not yet.
    var isLive: Bool { !deleted }

    func isVisible(at now: Date) -> Bool { !deleted && appearsAt <= now }
}

/// One signed request as the key's log keeps it: when, where, with which nonce, and how it
/// was answered. Nothing secret: no signature, no body.
public struct KeyRequest: Sendable, Equatable {
    public let at: Date
    public let path: String
    public let nonce: Int?
    public let status: Int
    /// The error message, or nil for a 200.
    public let message: String?
    public let source: String?

    var json: JSONValue {
        [
            "at": SimulatedWhiteBIT.date(at), "path": .string(path), "nonce": nonce.map(JSONValue.integer) ?? .null,
            "status": .integer(status), "message": message.map(JSONValue.string) ?? .null,
            "source": source.map(JSONValue.string) ?? .null,
        ]
    }
}

/// When the key a consent creates becomes visible.
public enum KeyAppearance: Sendable, Equatable {
    case now
    /// The user abandons key creation: no key at all.
    case never
    case after(milliseconds: Int)

    /// `now`, `never`, or a whole number of milliseconds (the `sim_key` query value).
    public init?(text: String) {
        switch text {
        case "now": self = .now
        case "never": self = .never
        default:
            guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
                let milliseconds = Int(text)
            else { return nil }
            self = .after(milliseconds: milliseconds)
        }
    }
}

/// What the consent did about the key, as WhiteBIT's consent screen would end.
public enum KeyCreation: Sendable, Equatable {
    case created(externalID: String)
    /// `partner_key_active_exists`: a live enabled key (visible or still appearing).
    case activeExists
    /// `partner_key_expired_exists`: a disabled key must be deleted by the user first.
    case expiredExists
    /// The user abandoned creation (`never`), or the client lacks `apikeys.create`.
    case notCreated

    public var name: String {
        switch self {
        case .created: "created"
        case .activeExists: "partner_key_active_exists"
        case .expiredExists: "partner_key_expired_exists"
        case .notCreated: "not_created"
        }
    }
}

/// One OAuth call as the simulator's per-user log keeps it: when, which endpoint, how it
/// was answered (nil: dropped) and from which address. Nothing secret.
public struct OAuthCall: Sendable, Equatable {
    public let at: Date
    public let endpoint: SimEndpoint
    public let status: Int?
    public let source: String?

    var json: JSONValue {
        [
            "at": SimulatedWhiteBIT.date(at), "endpoint": .string(endpoint.rawValue), "status": status.map(JSONValue.integer) ?? .null,
            "source": source.map(JSONValue.string) ?? .null,
        ]
    }
}
