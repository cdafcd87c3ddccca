import Sensitive

/// An OAuth client registered with the simulated WhiteBIT (the partner).
public struct SimClient: Sendable {
    public var id: String
    public var secret: Sensitive
    /// Exact-match redirect URIs; the first is the default of `/sim/consent`.
    public var redirectURIs: [String]
    /// What every token of this client carries (fixed at client setup, API doc §2.2).
    public var scopes: [String]

    public static let fastAPIKeyScopes = ["apikeys.create", "apikeys.read", "apikeys.delete"]

    public init(id: String, secret: Sensitive, redirectURIs: [String], scopes: [String] = fastAPIKeyScopes) {
        self.id = id
        self.secret = secret
        self.redirectURIs = redirectURIs
        self.scopes = scopes
    }
}

/// What the simulator starts with, and what `POST /sim/reset` returns to.
public struct SimConfiguration: Sendable {
    /// The client of the command-line flags; user actions without `client_id` address it.
    public var defaultClient: SimClient
    public var settings: SimSettings
    /// Makes codes, tokens, key ids and secrets repeat from run to run; nil: system randomness.
    public var seed: UInt64?

    public static let demoClientID = "wbkeyd-demo"
    public static let demoClientSecret = Sensitive("demo-client-secret")
    public static let demoRedirectURI = "https://partner.example/oauth/callback"

    public init(
        defaultClient: SimClient = SimClient(
            id: demoClientID, secret: demoClientSecret, redirectURIs: [demoRedirectURI]),
        settings: SimSettings = SimSettings(),
        seed: UInt64? = nil
    ) {
        self.defaultClient = defaultClient
        self.settings = settings
        self.seed = seed
    }
}
