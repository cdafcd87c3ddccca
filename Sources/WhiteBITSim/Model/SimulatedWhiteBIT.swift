import Foundation
import Sensitive

/// WhiteBIT's OAuth side in memory: clients, consents, codes, tokens and partner keys, with
/// the rules of `docs/whitebit-api.md` §2–§3.6 and the switches of §7; and the issued keys in
/// use: signed V4 reads and the Bearer account reads (§4–§5). It does no I/O and reads
/// the time only from `clock`, so every rule can be tested without sockets or sleeping.
/// Answers come back as `SimAnswer` values for the HTTP layer to write.
public actor SimulatedWhiteBIT {
    public typealias Clock = @Sendable () -> Date

    let configuration: SimConfiguration
    let clock: Clock
    var settings: SimSettings
    var clients: [String: SimClient] = [:]
    var clientOrder: [String] = []
    var codes: [Sensitive: AuthorizationCode] = [:]
    var codeOrder: [Sensitive] = []
    var tokens: [Sensitive: AccessToken] = [:]
    var tokenOrder: [Sensitive] = []
    var keys: [String: APIKey] = [:]
    var keyOrder: [String] = []
    var faults: [SimFault] = []
    var requestCounts: [SimEndpoint: Int] = [:]
    var responseCounts: [String: Int] = [:]
    var random: SimRandom
    var rateLimiter = RateLimiter()
    var sourceCounts: [String: SourceCount] = [:]
    /// The OAuth calls a partner's server made for each user, newest last (`oauthCallLimit`
    /// per user): which instance called (its source address) is the proof a fencing test
    /// needs that a paused one called nothing.
    var oauthCalls: [String: [OAuthCall]] = [:]
    static let oauthCallLimit = 200

    public init(configuration: SimConfiguration = SimConfiguration(), clock: @escaping Clock = { Date() }) {
        self.configuration = configuration
        self.clock = clock
        self.settings = configuration.settings
        self.random = SimRandom(seed: configuration.seed)
        self.clients = [configuration.defaultClient.id: configuration.defaultClient]
        self.clientOrder = [configuration.defaultClient.id]
    }

    var now: Date { clock() }

    /// Back to the start-up state: only the start-up client, start-up settings, nothing else.
    public func reset() {
        settings = configuration.settings
        random = SimRandom(seed: configuration.seed)
        clients = [configuration.defaultClient.id: configuration.defaultClient]
        clientOrder = [configuration.defaultClient.id]
        codes = [:]
        codeOrder = []
        tokens = [:]
        tokenOrder = []
        keys = [:]
        keyOrder = []
        faults = []
        requestCounts = [:]
        responseCounts = [:]
        rateLimiter = RateLimiter()
        sourceCounts = [:]
        oauthCalls = [:]
    }

    // MARK: Faults and counters

    /// Counts the request and lets the first matching queued fault decide its fate.
    /// `user` is whom the request's code or token belongs to, when known.
    public func admit(_ endpoint: SimEndpoint, user: String?) -> Admission {
        requestCounts[endpoint, default: 0] += 1
        guard let index = faults.firstIndex(where: { $0.matches(endpoint, user: user) }) else {
            return .serve(latencyMilliseconds: 0, loseAnswer: false)
        }
        let fault = faults[index]
        if let remaining = fault.remaining {
            if remaining <= 1 { faults.remove(at: index) } else { faults[index].remaining = remaining - 1 }
        }
        switch fault.kind {
        case .latency(let milliseconds): return .serve(latencyMilliseconds: milliseconds, loseAnswer: false)
        case .status(let status):
            // Signed requests fail in the V4 shape, `{"code":0,"message":…}`.
            let answer = SimAnswer.fault(status: status)
            guard endpoint == .signed, let text = answer.message else { return .answer(answer) }
            return .answer(.v4(status, code: 0, text))
        case .drop: return .drop
        case .lostAnswer: return .serve(latencyMilliseconds: 0, loseAnswer: true)
        }
    }

    /// Records how a request ended: a status, or nil when the connection was closed instead.
    public func recordOutcome(_ endpoint: SimEndpoint, status: Int?) {
        responseCounts["\(endpoint.rawValue) \(status.map(String.init) ?? "dropped")", default: 0] += 1
    }

    /// One OAuth call of `user`'s (the token's or the code's), however it was answered.
    public func logCall(_ endpoint: SimEndpoint, user: String?, status: Int?, source: String?) {
        guard let user else { return }
        oauthCalls[user, default: []].append(OAuthCall(at: now, endpoint: endpoint, status: status, source: source))
        if let count = oauthCalls[user]?.count, count > Self.oauthCallLimit {
            oauthCalls[user]?.removeFirst(count - Self.oauthCallLimit)
        }
    }

    public func calls(of user: String) -> [OAuthCall] { oauthCalls[user] ?? [] }

    public func addFault(_ fault: SimFault) -> [SimFault] {
        faults.append(fault)
        return faults
    }

    public func clearFaults() { faults = [] }

    public var queuedFaults: [SimFault] { faults }

    /// Whose code this is, for faults aimed at one user.
    public func user(ofCode code: String?) -> String? {
        code.flatMap { codes[Sensitive($0)]?.user }
    }

    /// Whose token the `Authorization` header carries, expired or not.
    public func user(ofAuthorization header: String?) -> String? {
        Self.bearerToken(header).flatMap { tokens[$0]?.user }
    }

    /// Whose key an `X-TXC-APIKEY` value names, in the current reading.
    public func user(ofAPIKey header: String?) -> String? {
        header.flatMap(keyID(named:)).flatMap { keys[$0]?.user }
    }

    // MARK: Settings and clients

    public var currentSettings: SimSettings { settings }

    public func updateSettings(_ body: JSONValue) throws(SimRequestError) -> SimSettings {
        try settings.apply(body)
        return settings
    }

    public func register(_ client: SimClient) throws(SimRequestError) {
        guard !client.id.isEmpty else { throw SimRequestError("\"client_id\" must not be empty") }
        guard !client.secret.isEmpty else { throw SimRequestError("\"client_secret\" must not be empty") }
        guard !client.redirectURIs.isEmpty else { throw SimRequestError("\"redirect_uris\" must list at least one URI") }
        if clients[client.id] == nil { clientOrder.append(client.id) }
        clients[client.id] = client
    }

    func client(_ id: String?) throws(SimRequestError) -> SimClient {
        let id = id ?? configuration.defaultClient.id
        guard let client = clients[id] else { throw SimRequestError("unknown client \"\(id)\"") }
        return client
    }

    // MARK: Helpers shared by the endpoints

    static func bearerToken(_ header: String?) -> Sensitive? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : Sensitive(token)
    }

    static func date(_ date: Date) -> JSONValue {
        .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    static func addingMilliseconds(_ milliseconds: Int, to date: Date) -> Date {
        date.addingTimeInterval(TimeInterval(milliseconds) / 1000)
    }
}
