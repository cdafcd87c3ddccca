/// The per-IP rate limit (`rate_limit` setting). In an update, nil fields stay.
public struct SimRateLimit: Sendable, Equatable, Codable {
    public var enabled: Bool?
    public var windowMilliseconds: Int?
    /// Every path without a scope of its own, the OAuth endpoints included.
    public var defaultLimit: Int?
    /// `/api/v4/public/*`.
    public var publicLimit: Int?
    public var mainAccount: Int?
    public var mainAccountHistory: Int?
    public var tradeAccount: Int?

    public init(
        enabled: Bool? = nil, windowMilliseconds: Int? = nil, defaultLimit: Int? = nil, publicLimit: Int? = nil,
        mainAccount: Int? = nil, mainAccountHistory: Int? = nil, tradeAccount: Int? = nil
    ) {
        self.enabled = enabled
        self.windowMilliseconds = windowMilliseconds
        self.defaultLimit = defaultLimit
        self.publicLimit = publicLimit
        self.mainAccount = mainAccount
        self.mainAccountHistory = mainAccountHistory
        self.tradeAccount = tradeAccount
    }

    enum CodingKeys: String, CodingKey {
        case enabled, windowMilliseconds = "window_ms", defaultLimit = "default", publicLimit = "public"
        case mainAccount = "main_account", mainAccountHistory = "main_account_history", tradeAccount = "trade_account"
    }
}

/// What one client address did: every request but the admin API's, and how many of them
/// the per-IP rate limit answered 429.
public struct SimSourceCount: Sendable, Equatable, Decodable {
    public let requests: Int
    public let rateLimited: Int

    public init(requests: Int, rateLimited: Int) {
        self.requests = requests
        self.rateLimited = rateLimited
    }

    enum CodingKeys: String, CodingKey {
        case requests, rateLimited = "rate_limited"
    }
}
