import Sensitive

/// What `whitebit-sim` registers at start when no flag says otherwise: the client a test
/// configures its WhiteBIT client with.
public enum SimDefaults {
    public static let clientID = "wbkeyd-demo"
    public static let clientSecret = Sensitive("demo-client-secret")
    public static let redirectURI = "https://partner.example/oauth/callback"
    /// `expires_in` of a token: 4 hours.
    public static let tokenLifetimeSeconds = 14_400
}
