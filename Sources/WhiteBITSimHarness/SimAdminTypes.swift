import Sensitive

/// When the key of a consent appears (the `key` field of `/sim/consent`).
public enum SimKeyAppearance: Sendable, Equatable {
    case now
    /// The user abandons key creation: no key.
    case never
    case after(milliseconds: Int)
}

/// What `POST /sim/consent` answered.
public struct SimConsent: Sendable {
    public let code: Sensitive
    public let state: String?
    /// `redirect_uri?code=…&state=…`, where the browser would be sent.
    public let location: String
    /// `created`, `partner_key_active_exists`, `partner_key_expired_exists` or `not_created`.
    public let key: String
    /// The new key's id when `key == "created"`.
    public let externalID: String?
    /// The public key the callback carries (`api_key`), in the `api_key_header=api_key` reading only.
    public let apiKey: String?
}

/// A consent made with a fresh PKCE pair: everything a partner's callback would hold.
public struct SimAuthorization: Sendable {
    public let code: Sensitive
    public let verifier: Sensitive
    public let state: String
    public let location: String
    public let externalID: String?
}

/// A fault to queue (`POST /sim/faults`).
public struct SimFaultSpec: Sendable, Equatable, Decodable {
    /// `signed`: every private V4 request; `accounts`: every Bearer `/api/v4/accounts/*` read.
    public enum Endpoint: String, Sendable { case token, info, secret, delete, signed, accounts, any }

    public enum Kind: Sendable, Equatable {
        /// The request is served at once, its answer held back this long.
        case latency(milliseconds: Int)
        /// This status with a plausible body instead of serving.
        case status(Int)
        /// The connection closes before the request is served.
        case drop
        /// Served (secret marked retrieved, code spent, …), then the connection closes
        /// without the answer.
        case lostSecret
    }

    public var endpoint: Endpoint
    public var kind: Kind
    /// Matching requests that get it; 0: until cleared.
    public var count: Int
    public var user: String?

    public init(endpoint: Endpoint, kind: Kind, count: Int = 1, user: String? = nil) {
        self.endpoint = endpoint
        self.kind = kind
        self.count = count
        self.user = user
    }

    /// Reads an entry of `GET /sim/faults` (the shape `POST /sim/faults` takes).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let endpointName = try container.decode(String.self, forKey: .endpoint)
        guard let endpoint = Endpoint(rawValue: endpointName) else {
            throw DecodingError.dataCorruptedError(forKey: .endpoint, in: container, debugDescription: endpointName)
        }
        self.endpoint = endpoint
        count = try container.decodeIfPresent(Int.self, forKey: .count) ?? 1
        user = try container.decodeIfPresent(String.self, forKey: .user)
        switch try container.decode(String.self, forKey: .kind) {
        case "latency": kind = .latency(milliseconds: try container.decode(Int.self, forKey: .latencyMilliseconds))
        case "status": kind = .status(try container.decode(Int.self, forKey: .status))
        case "drop": kind = .drop
        case "lost_secret": kind = .lostSecret
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: other)
        }
    }

    enum CodingKeys: String, CodingKey {
        case endpoint, kind, count, user, status, latencyMilliseconds = "latency_ms"
    }

    var json: [String: JSONText] {
        var fields: [String: JSONText] = ["endpoint": .string(endpoint.rawValue), "count": .integer(count)]
        if let user { fields["user"] = .string(user) }
        switch kind {
        case .latency(let milliseconds):
            fields["kind"] = "latency"
            fields["latency_ms"] = .integer(milliseconds)
        case .status(let status):
            fields["kind"] = "status"
            fields["status"] = .integer(status)
        case .drop: fields["kind"] = "drop"
        case .lostSecret: fields["kind"] = "lost_secret"
        }
        return fields
    }
}

/// The simulator's switches and lifetimes (`GET`/`PUT /sim/settings`). In an update, nil
/// fields are left as they are.
public struct SimAdminSettings: Sendable, Equatable, Codable {
    /// `absent`, `null`, `empty` or `present`.
    public var refreshToken: String?
    /// `number`, `absent` or `string`.
    public var expiresIn: String?
    /// `data` or `bare`.
    public var tokenWrapper: String?
    /// `ignored`, `required` or `rejected`.
    public var grantType: String?
    /// `ignored` or `required`.
    public var tokenRedirectURI: String?
    /// `401`, `400` or `422`.
    public var tokenError: String?
    /// `403`, `404` or `200`.
    public var deleteDisabled: String?
    public var tokenLifetimeMilliseconds: Int?
    public var codeLifetimeMilliseconds: Int?
    public var keyDelayMilliseconds: Int?
    /// A key without a successful signed request for this long is disabled.
    public var keyInactivityMilliseconds: Int?
    /// `external_id` or `api_key`: which value `X-TXC-APIKEY` carries.
    public var apiKeyHeader: String?
    /// `401`, `403` or `404`: the signed-request answer for a deleted key.
    public var deletedKey: String?
    /// `plain` or `request_nonce`: whether Bearer account bodies must carry `request` and `nonce`.
    public var accountsBody: String?
    /// The scopes new tokens carry; null (shown as nil) means the client's own.
    public var grantedScopes: [String]?
    public var rateLimit: SimRateLimit?

    public init(
        refreshToken: String? = nil, expiresIn: String? = nil, tokenWrapper: String? = nil, grantType: String? = nil,
        tokenRedirectURI: String? = nil, tokenError: String? = nil, deleteDisabled: String? = nil,
        tokenLifetimeMilliseconds: Int? = nil, codeLifetimeMilliseconds: Int? = nil, keyDelayMilliseconds: Int? = nil,
        keyInactivityMilliseconds: Int? = nil, apiKeyHeader: String? = nil, deletedKey: String? = nil,
        accountsBody: String? = nil, grantedScopes: [String]? = nil, rateLimit: SimRateLimit? = nil
    ) {
        self.keyInactivityMilliseconds = keyInactivityMilliseconds
        self.apiKeyHeader = apiKeyHeader
        self.deletedKey = deletedKey
        self.accountsBody = accountsBody
        self.grantedScopes = grantedScopes
        self.rateLimit = rateLimit
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
        self.tokenWrapper = tokenWrapper
        self.grantType = grantType
        self.tokenRedirectURI = tokenRedirectURI
        self.tokenError = tokenError
        self.deleteDisabled = deleteDisabled
        self.tokenLifetimeMilliseconds = tokenLifetimeMilliseconds
        self.codeLifetimeMilliseconds = codeLifetimeMilliseconds
        self.keyDelayMilliseconds = keyDelayMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case refreshToken = "refresh_token", expiresIn = "expires_in", tokenWrapper = "token_wrapper"
        case grantType = "grant_type", tokenRedirectURI = "token_redirect_uri", tokenError = "token_error"
        case deleteDisabled = "delete_disabled", tokenLifetimeMilliseconds = "token_lifetime_ms"
        case codeLifetimeMilliseconds = "code_lifetime_ms", keyDelayMilliseconds = "key_delay_ms"
        case keyInactivityMilliseconds = "key_inactivity_ms", apiKeyHeader = "api_key_header", deletedKey = "deleted_key"
        case accountsBody = "accounts_body", grantedScopes = "granted_scopes", rateLimit = "rate_limit"
    }
}

/// One entry of a key's request log (`GET /sim/keys/{externalId}/requests`).
public struct SimKeyRequest: Sendable, Equatable, Decodable {
    public let at: String
    public let path: String
    public let nonce: Int?
    public let status: Int
    /// The error message, nil for a 200.
    public let message: String?
    /// The client's IP address.
    public let source: String?
}

/// One OAuth call of a user's, as the simulator logged it.
public struct SimOAuthCall: Sendable, Equatable, Decodable {
    public let at: String
    /// `token`, `info`, `secret` or `delete`.
    public let endpoint: String
    /// Nil: the connection was dropped (a fault).
    public let status: Int?
    /// The client's IP address.
    public let source: String?
}

/// A key after `last-use` or `permissions` changed it.
public struct SimKeyStatus: Sendable, Decodable {
    public let externalID: String
    public let enabled: Bool
    public let deleted: Bool
    public let lastUsedAt: String
    enum CodingKeys: String, CodingKey {
        case externalID = "external_id", enabled, deleted, lastUsedAt = "last_used_at"
    }
}

/// One key of `POST /sim/keys`.
public struct SimBulkKey: Sendable, Decodable {
    public let user: String
    public let externalID: String
    public let apiSecret: Sensitive

    enum CodingKeys: String, CodingKey {
        case user, externalID = "external_id", apiSecret = "api_secret"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        user = try container.decode(String.self, forKey: .user)
        externalID = try container.decode(String.self, forKey: .externalID)
        apiSecret = Sensitive(try container.decode(String.self, forKey: .apiSecret))
    }
}

/// `GET /sim/counts`: what `SimState` counts, without its lists.
public struct SimCounts: Sendable, Decodable {
    /// `token`, `info`, `secret`, `delete`.
    public let requests: [String: Int]
    /// `signed` (private V4 requests) and `accounts` (Bearer reads).
    public let accountRequests: [String: Int]
    /// Answers per `"ENDPOINT STATUS"`.
    public let responses: [String: Int]
    /// Per client IP address (the TCP peer the simulator saw).
    public let sources: [String: SimSourceCount]

    enum CodingKeys: String, CodingKey {
        case requests, accountRequests = "account_requests", responses, sources
    }
}

/// Everything the simulator holds (`GET /sim/state`), secrets included.
public struct SimState: Sendable, Decodable {
    public struct Client: Sendable, Decodable {
        public let clientID: String
        public let clientSecret: String
        public let redirectURIs: [String]
        public let scopes: [String]
        enum CodingKeys: String, CodingKey {
            case clientID = "client_id", clientSecret = "client_secret", redirectURIs = "redirect_uris", scopes
        }
    }

    public struct Key: Sendable, Decodable {
        public let externalID: String
        public let user: String
        public let clientID: String
        public let enabled: Bool
        public let deleted: Bool
        public let secretFetches: Int
        public let secretRetrieved: Bool
        public let retrievalInFlight: Bool
        public let apiSecret: String
        public let createdAt: String
        public let appearsAt: String
        public let visible: Bool
        /// The separate public key of the `api_key` reading.
        public let apiKey: String
        public let lastUsedAt: String
        public let highestNonce: Int?
        /// Signed requests that named this key (the log keeps the newest 1,000).
        public let signedRequests: Int
        enum CodingKeys: String, CodingKey {
            case externalID = "external_id", user, clientID = "client_id", enabled, deleted
            case secretFetches = "secret_fetches", secretRetrieved = "secret_retrieved"
            case retrievalInFlight = "retrieval_in_flight", apiSecret = "api_secret", createdAt = "created_at"
            case appearsAt = "appears_at", visible, apiKey = "api_key", lastUsedAt = "last_used_at"
            case highestNonce = "highest_nonce", signedRequests = "signed_requests"
        }
    }

    public struct Token: Sendable, Decodable {
        public let accessToken: String
        public let user: String
        public let clientID: String
        public let expiresAt: String
        public let scopes: [String]
        public let expired: Bool
        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", user, clientID = "client_id", expiresAt = "expires_at", scopes, expired
        }
    }

    public struct Code: Sendable, Decodable {
        public let code: String
        public let user: String
        public let clientID: String
        public let used: Bool
        public let expiresAt: String
        enum CodingKeys: String, CodingKey {
            case code, user, clientID = "client_id", used, expiresAt = "expires_at"
        }
    }

    public let clients: [Client]
    public let keys: [Key]
    public let tokens: [Token]
    public let codes: [Code]
    /// Requests per endpoint: `token`, `info`, `secret`, `delete`.
    public let requests: [String: Int]
    /// Account reads: `signed` (private V4 requests) and `accounts` (Bearer `/api/v4/accounts/*`).
    public let accountRequests: [String: Int]
    /// Answers per `"ENDPOINT STATUS"` (`"secret dropped"` for a closed connection).
    public let responses: [String: Int]
    /// Faults still queued.
    public let faults: [SimFaultSpec]
    public let settings: SimAdminSettings

    enum CodingKeys: String, CodingKey {
        case clients, keys, tokens, codes, requests, accountRequests = "account_requests", responses, faults, settings
    }

    public func key(_ externalID: String) -> Key? { keys.first { $0.externalID == externalID } }
    public func keys(of user: String) -> [Key] { keys.filter { $0.user == user } }
}
