import Foundation
import Sensitive

/// What a valid spool file asks for.
public enum SpoolItem: Sendable, Equatable {
    case authorization(AuthorizationRequest)
    case revocation(RevocationRequest)

    /// The partner's user reference; valid by construction.
    public var user: String {
        switch self {
        case .authorization(let request): request.user
        case .revocation(let request): request.user
        }
    }
}

/// A user's consent came back: exchange `code` for a token. Without `codeVerifier`,
/// `state` names the pending `authorize-url` whose verifier wbkeyd holds.
public struct AuthorizationRequest: Sendable, Equatable {
    public let user: String
    public let code: Sensitive
    public let codeVerifier: Sensitive?
    public let state: Sensitive?
    public let receivedAt: Date
    /// The public API key, when WhiteBIT handed it to the callback. Not a secret.
    public let apiKey: String?

    public init(
        user: String, code: Sensitive, codeVerifier: Sensitive?, state: Sensitive?, receivedAt: Date,
        apiKey: String?
    ) {
        self.user = user
        self.code = code
        self.codeVerifier = codeVerifier
        self.state = state
        self.receivedAt = receivedAt
        self.apiKey = apiKey
    }
}

/// The partner wants the user's key deleted.
public struct RevocationRequest: Sendable, Equatable {
    public let user: String
    public let reason: String

    public static let defaultReason = "requested"

    public init(user: String, reason: String) {
        self.user = user
        self.reason = reason
    }
}

/// The fields of docs/design.md §4, by their names in the file.
public enum SpoolField: String, Sendable, CaseIterable {
    case type
    case user
    case code
    case codeVerifier = "code_verifier"
    case state
    case receivedAt = "received_at"
    case apiKey = "api_key"
    case reason

    /// Values of these fields never appear in a reason, not even in part.
    var isSecret: Bool { self == .code || self == .codeVerifier || self == .state }
}

/// The JSON type a value had, for "code must be a string, got number".
public enum JSONKind: String, Sendable {
    case object, array, string, number, boolean, null
}
