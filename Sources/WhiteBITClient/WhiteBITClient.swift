import AsyncHTTPClient
import FoundationEssentials
import Logging
import NIOCore
import NIOSSL
import Sensitive

/// The four WhiteBIT calls of the Fast API Key flow (docs/whitebit-api.md §3.1, §3.4), and
/// the six account reads, signed (V4) or Bearer (`WhiteBITClient+V4.swift`).
///
/// Built on async-http-client rather than URLSession: on Linux it brings its own TLS
/// (BoringSSL through swift-nio-ssl) for the real whitebit.com, real deadlines and
/// cancellation that reach the socket, and a connection pool, all without libcurl.
///
/// Every call is rate-limited (`rateLimit` per second) and concurrency-limited
/// (`maxConcurrency` in flight), both shared by all calls of one client; has a deadline
/// (`requestTimeout`, covering the whole answer); stops when the calling task is
/// cancelled; and is counted for `status` and `metrics`.
///
/// The client never retries on its own. Whether and when to call again is the daemon's
/// scheduler's decision, which persists attempt counts across restarts and knows what a
/// repeated call means (a second `GET …/secret` after a lost answer yields 409); it
/// uses `WhiteBITError.isTransient` and `Lifecycle`'s `Backoff` for that.
///
/// Call `shutdown()` before dropping the client.
public final class WhiteBITClient: Sendable {
    /// Larger answers are refused: WhiteBIT's are a few hundred bytes.
    public static let maximumBodyBytes = 256 * 1024

    public let configuration: Configuration
    let baseURL: String
    let http: HTTPClient
    let logger: Logger
    let rateLimiter: RateLimiter<ContinuousClock>
    let concurrencyLimiter: ConcurrencyLimiter
    let liveCounters: RequestCounters
    let keyLanes: KeyLanes

    /// - Parameter logger: gets one debug line per request (method, path, status or error
    ///   kind, duration); never a secret.
    public convenience init(configuration: Configuration, logger: Logger = Logger(label: "wbkeyd.whitebit"))
        throws(ConfigurationError)
    {
        try self.init(configuration: configuration, logger: logger, counters: RequestCounters(), keyLanes: KeyLanes())
    }

    /// A client with other settings that counts on from this one's counters, so that
    /// `status` and `metrics` do not start again from zero when a reload rebuilds the
    /// client. Calls still in flight on this one are counted too, and signed calls for one
    /// key still go one at a time across both.
    public func reconfigured(_ configuration: Configuration) throws(ConfigurationError) -> WhiteBITClient {
        try WhiteBITClient(configuration: configuration, logger: logger, counters: liveCounters, keyLanes: keyLanes)
    }

    private init(
        configuration: Configuration, logger: Logger, counters: RequestCounters, keyLanes: KeyLanes
    ) throws(ConfigurationError) {
        self.liveCounters = counters
        self.keyLanes = keyLanes
        self.baseURL = try configuration.validatedBaseURL()
        self.configuration = configuration
        self.logger = logger
        self.rateLimiter = RateLimiter(rate: configuration.rateLimit, clock: ContinuousClock())
        self.concurrencyLimiter = ConcurrencyLimiter(limit: configuration.maxConcurrency)

        self.http = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: Self.httpConfiguration(for: configuration)
        )
    }

    static func httpConfiguration(for configuration: Configuration) -> HTTPClient.Configuration {
        var httpConfiguration = HTTPClient.Configuration()
        // TLS 1.0 and 1.1 are deprecated (RFC 8996): a server or a middlebox offering only
        // those fails the handshake instead of carrying the secrets.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        httpConfiguration.tlsConfiguration = tls
        // A redirect would carry a form with the client secret elsewhere: answer it as a 3xx.
        httpConfiguration.redirectConfiguration = .disallow
        let timeout = TimeAmount.nanoseconds(configuration.requestTimeout.nanoseconds)
        httpConfiguration.timeout = .init(connect: timeout, read: timeout)
        // A failed connect fails the call at once; the daemon's scheduler retries.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        httpConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = configuration.maxConcurrency
        // async-http-client (1.37+) binds each new connection's socket to this address before
        // connecting (NIO's `ClientBootstrap.bind(to:)`, port 0: the kernel picks the port).
        httpConfiguration.localAddress = configuration.sourceAddress
        return httpConfiguration
    }

    /// Closes the connections. Calls made afterwards fail with a transport error.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// A copy of the counters now.
    public var counters: Counters { liveCounters.snapshot }

    /// `POST /oauth2/token`: exchanges an authorization code and its PKCE verifier for an
    /// access token.
    public func exchangeCode(code: Sensitive, codeVerifier: Sensitive) async throws(WhiteBITError) -> AccessToken {
        var fields: [(name: String, value: String)] = [
            ("client_id", configuration.clientID),
            ("client_secret", configuration.clientSecret.revealed),
            ("code", code.revealed),
            ("code_verifier", codeVerifier.revealed),
        ]
        if let redirectURI = configuration.redirectURI, !redirectURI.isEmpty {
            fields.append(("redirect_uri", redirectURI))
        }
        if configuration.sendsGrantType {
            fields.append(("grant_type", "authorization_code"))
        }
        let call = OutgoingRequest(
            endpoint: .token, externalID: nil, path: Endpoint.token.pathTemplate,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: PercentEncoding.form(fields),
            secrets: [code, codeVerifier, configuration.clientSecret]
        )
        return try await perform(call, decode: ResponseDecoding.accessToken)
    }

    /// `GET /oauth2/api-key/info`: the key of the (user, client) pair the token belongs to.
    public func apiKeyInfo(token: Sensitive) async throws(WhiteBITError) -> APIKeyInfo {
        let call = try bearerCall(.info, externalID: nil, token: token)
        return try await perform(call, decode: ResponseDecoding.apiKeyInfo)
    }

    /// `GET /oauth2/api-key/{externalId}/secret`: the API secret, which WhiteBIT hands out
    /// once. A timeout, a transport error, a cancellation or a malformed 200 here means the
    /// secret may be spent already: the next attempt may well answer 409.
    public func apiKeySecret(externalID: String, token: Sensitive) async throws(WhiteBITError) -> Sensitive {
        let call = try bearerCall(.secret, externalID: externalID, token: token)
        return try await perform(call, decode: ResponseDecoding.apiSecret)
    }

    /// `DELETE /oauth2/api-key/{externalId}`: revokes the key. Any 2xx is success; 404 is
    /// thrown as `.notFound`, which the daemon counts as done.
    public func deleteAPIKey(externalID: String, token: Sensitive) async throws(WhiteBITError) {
        let call = try bearerCall(.delete, externalID: externalID, token: token)
        try await perform(call, decode: { (_: [UInt8]) throws(MalformedBody) in () })
    }

    private func bearerCall(_ endpoint: Endpoint, externalID: String?, token: Sensitive) throws(WhiteBITError) -> OutgoingRequest {
        var path = endpoint.pathTemplate
        if let externalID {
            guard let segment = PathSegment(externalID) else {
                throw refused(endpoint, externalID, "externalId is empty, only dots, or too long")
            }
            path = endpoint.path(segment: segment.escaped)
        }
        // Checked here so that no HTTP library ever sees (and quotes) an unusable header value.
        guard !token.isEmpty, token.revealed.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw refused(endpoint, externalID, "access token is empty or not visible ASCII")
        }
        return OutgoingRequest(
            endpoint: endpoint, externalID: externalID, path: path,
            headers: [("Authorization", "Bearer \(token.revealed)"), ("Accept", "application/json")],
            body: nil, secrets: [token]
        )
    }

    func refused(_ endpoint: Endpoint, _ externalID: String?, _ reason: String) -> WhiteBITError {
        let error = WhiteBITError(endpoint: endpoint, externalID: externalID, kind: .invalidRequest(reason: reason))
        liveCounters.recordError(error, at: Date())
        return error
    }
}
