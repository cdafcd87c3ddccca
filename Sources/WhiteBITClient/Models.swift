import Sensitive

/// What `POST /oauth2/token` grants (docs/whitebit-api.md §3.1). A refresh token, if WhiteBIT
/// sends one, is dropped: the Fast API Key flow documents none and wbkeyd never refreshes.
public struct AccessToken: Sendable, CustomStringConvertible {
    public let value: Sensitive
    /// As WhiteBIT stated it; nil when it did not, and the caller then assumes 4 h.
    public let expiresIn: Duration?
    public let scopes: [String]

    public init(value: Sensitive, expiresIn: Duration?, scopes: [String]) {
        self.value = value
        self.expiresIn = expiresIn
        self.scopes = scopes
    }

    public var description: String {
        "AccessToken(value: \(value), expiresIn: \(expiresIn.map { "\($0)" } ?? "unstated"), scopes: \(scopes))"
    }
}

/// `GET /oauth2/api-key/info` (docs/whitebit-api.md §3.4): whether the (user, client) pair has
/// a partner-issued key. `exists:false` is "no key", not an error.
public struct APIKeyInfo: Sendable, Equatable {
    public let exists: Bool
    public let isEnabled: Bool
    /// Nil exactly when `exists` is false.
    public let externalID: String?
    /// Empty when there is no key, and in responses older than 2026-07-06.
    public let permissions: [Permission]

    public init(exists: Bool, isEnabled: Bool, externalID: String?, permissions: [Permission]) {
        self.exists = exists
        self.isEnabled = isEnabled
        self.externalID = externalID
        self.permissions = permissions
    }
}

public struct Permission: Sendable, Equatable {
    /// Locale-independent: branch on this.
    public let name: String
    /// Localised: display only.
    public let title: String
    public let urls: [PermittedURL]

    public init(name: String, title: String, urls: [PermittedURL]) {
        self.name = name
        self.title = title
        self.urls = urls
    }
}

public struct PermittedURL: Sendable, Equatable {
    public let url: String
    public let enable: Bool

    public init(url: String, enable: Bool) {
        self.url = url
        self.enable = enable
    }
}
