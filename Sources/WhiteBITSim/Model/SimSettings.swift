/// The behaviours `docs/whitebit-api.md` §7 leaves open, each one a switch so that a client can
/// be tested against every variant, plus the lifetimes that tests shorten.
public struct SimSettings: Sendable, Equatable {
    /// What the token answer carries as `refresh_token` (the Fast API Key flow issues none).
    public enum RefreshToken: String, Sendable, CaseIterable { case absent, null, empty, present }
    /// How `expires_in` is written: a number, left out, or a string.
    public enum ExpiresIn: String, Sendable, CaseIterable { case number, absent, string }
    /// `data`: WhiteBIT's documented `{"data":{…}}` wrapper; `bare`: RFC 6749 top-level fields.
    public enum TokenWrapper: String, Sendable, CaseIterable { case data, bare }
    /// Whether `grant_type` is ignored, demanded, or refused at the token endpoint.
    public enum GrantType: String, Sendable, CaseIterable { case ignored, required, rejected }
    /// Whether the token endpoint demands the `redirect_uri` used at `/auth/login`.
    public enum TokenRedirectURI: String, Sendable, CaseIterable { case ignored, required }
    /// The status of a refused grant (unknown, reused or expired code, PKCE mismatch).
    public enum TokenError: String, Sendable, CaseIterable {
        case unauthorized = "401", badRequest = "400", unprocessable = "422"
    }
    /// The answer to DELETE of a disabled key: refused, not found, or deleted.
    public enum DeleteDisabled: String, Sendable, CaseIterable {
        case forbidden = "403", notFound = "404", deleted = "200"
    }

    /// Which header value names a key (`docs/whitebit-api.md` §3.6): its `externalId` (stage)
    /// or a separate public key handed to the callback as `api_key` (main's PENDING note).
    public enum APIKeyHeader: String, Sendable, CaseIterable { case externalID = "external_id", apiKey = "api_key" }
    /// The signed-request answer for a deleted key, which the docs do not give.
    public enum DeletedKey: String, Sendable, CaseIterable {
        case unauthorized = "401", forbidden = "403", notFound = "404"
    }
    /// Whether the Bearer `/api/v4/accounts/*` bodies must carry `request` and `nonce` (§4: unknown).
    public enum AccountsBody: String, Sendable, CaseIterable { case plain, signed = "request_nonce" }

    public var refreshToken: RefreshToken = .absent
    public var expiresIn: ExpiresIn = .number
    public var tokenWrapper: TokenWrapper = .data
    public var grantType: GrantType = .ignored
    public var tokenRedirectURI: TokenRedirectURI = .ignored
    public var tokenError: TokenError = .unauthorized
    public var deleteDisabled: DeleteDisabled = .forbidden
    /// Fast API Key tokens live 4 hours.
    public var tokenLifetimeMilliseconds: Int = 4 * 3_600_000
    public var codeLifetimeMilliseconds: Int = 10 * 60_000
    /// How long after consent the key becomes visible; 0: at once.
    public var keyDelayMilliseconds: Int = 0
    /// A key without a successful signed request for this long is disabled (14 days).
    public var keyInactivityMilliseconds: Int = 14 * 86_400_000
    public var apiKeyHeader: APIKeyHeader = .externalID
    public var deletedKey: DeletedKey = .unauthorized
    public var accountsBody: AccountsBody = .plain
    /// The scopes new tokens carry; nil: the client's own (the Fast API Key scopes by default).
    public var grantedScopes: [String]?
    public var rateLimit = RateLimitSettings()

    public init() {}

    /// The settings as `GET /sim/settings` shows them.
    public var json: JSONValue {
        [
            "refresh_token": .string(refreshToken.rawValue),
            "expires_in": .string(expiresIn.rawValue),
            "token_wrapper": .string(tokenWrapper.rawValue),
            "grant_type": .string(grantType.rawValue),
            "token_redirect_uri": .string(tokenRedirectURI.rawValue),
            "token_error": .string(tokenError.rawValue),
            "delete_disabled": .string(deleteDisabled.rawValue),
            "token_lifetime_ms": .integer(tokenLifetimeMilliseconds),
            "code_lifetime_ms": .integer(codeLifetimeMilliseconds),
            "key_delay_ms": .integer(keyDelayMilliseconds),
            "key_inactivity_ms": .integer(keyInactivityMilliseconds),
            "api_key_header": .string(apiKeyHeader.rawValue),
            "deleted_key": .string(deletedKey.rawValue),
            "accounts_body": .string(accountsBody.rawValue),
            "granted_scopes": grantedScopes.map { .array($0.map(JSONValue.string)) } ?? .null,
            "rate_limit": rateLimit.json,
        ]
    }

    /// Applies the fields present in a `PUT /sim/settings` body. All or nothing: on a bad
    /// field, `self` is left as it was.
    public mutating func apply(_ body: JSONValue) throws(SimRequestError) {
        guard let fields = body.objectValue else { throw SimRequestError("settings must be a JSON object") }
        var updated = self
        for (name, value) in fields {
            switch name {
            case "refresh_token": updated.refreshToken = try Self.choice(name, value)
            case "expires_in": updated.expiresIn = try Self.choice(name, value)
            case "token_wrapper": updated.tokenWrapper = try Self.choice(name, value)
            case "grant_type": updated.grantType = try Self.choice(name, value)
            case "token_redirect_uri": updated.tokenRedirectURI = try Self.choice(name, value)
            case "token_error": updated.tokenError = try Self.choice(name, value)
            case "delete_disabled": updated.deleteDisabled = try Self.choice(name, value)
            case "token_lifetime_ms": updated.tokenLifetimeMilliseconds = try Self.milliseconds(name, value)
            case "code_lifetime_ms": updated.codeLifetimeMilliseconds = try Self.milliseconds(name, value)
            case "key_delay_ms": updated.keyDelayMilliseconds = try Self.milliseconds(name, value)
            case "key_inactivity_ms": updated.keyInactivityMilliseconds = try Self.milliseconds(name, value)
            case "api_key_header": updated.apiKeyHeader = try Self.choice(name, value)
            case "deleted_key": updated.deletedKey = try Self.choice(name, value)
            case "accounts_body": updated.accountsBody = try Self.choice(name, value)
            case "granted_scopes": updated.grantedScopes = try Self.scopes(name, value)
            case "rate_limit": try updated.rateLimit.apply(value)
            default: throw SimRequestError("unknown setting \"\(name)\"")
            }
        }
        self = updated
    }

    private static func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, _ value: JSONValue
    ) throws(SimRequestError) -> Choice where Choice.RawValue == String {
        // Status-like switches may come as numbers: "token_error": 422.
        let text = value.stringValue ?? value.intValue.map(String.init)
        guard let text, let choice = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw SimRequestError("setting \"\(name)\" must be one of \(allowed)")
        }
        return choice
    }

    private static func scopes(_ name: String, _ value: JSONValue) throws(SimRequestError) -> [String]? {
        if value.isNull { return nil }
        guard let list = value.arrayValue, list.allSatisfy({ !($0.stringValue ?? "").isEmpty }) else {
            throw SimRequestError("setting \"\(name)\" must be null or an array of scope names")
        }
        return list.compactMap(\.stringValue)
    }

    static func milliseconds(_ name: String, _ value: JSONValue) throws(SimRequestError) -> Int {
        guard let milliseconds = value.intValue, milliseconds >= 0 else {
            throw SimRequestError("setting \"\(name)\" must be a whole number of milliseconds, 0 or more")
        }
        return milliseconds
    }
}

/// A `/sim/` request the simulator cannot carry out; answered `400 {"error": message}`.
public struct SimRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
