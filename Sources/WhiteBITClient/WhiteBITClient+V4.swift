import Sensitive
import Synchronization

extension WhiteBITClient {
    /// One of the six account reads, signed with the issued key (docs/whitebit-api.md §5.2),
    /// returning WhiteBIT's answer as it came, for the daemon to hand on.
    ///
    /// - Parameters:
    ///   - parameters: the endpoint's own fields (`ticker` for a balance; `limit`, `offset`,
    ///     `market`, … for a history, as §4 lists them); `request`, `nonce` and
    ///     `nonceWindow` are refused (`.invalidRequest`), the signer sets them.
    ///   - nonces: the key's nonce source; the nonce is taken once this call is the only
    ///     signed one in flight for the key (see below).
    ///
    /// Signed calls for one key go one at a time: two in flight could reach WhiteBIT in the
    /// other order, and the later-numbered one arriving first makes the other fail with
    /// "Too many requests.". Calls for different keys share only the client's limits.
    public func accountRead(
        _ read: AccountRead, parameters: [String: JSONValue] = [:], credentials: V4Credentials,
        nonces: V4NonceSource, nonceWindow: Bool = false
    ) async throws(WhiteBITError) -> JSONValue {
        let endpoint = read.signedEndpoint
        let lane = keyLanes.lane(for: credentials.apiKey)
        do {
            try await lane.acquire()
        } catch {
            throw WhiteBITError(endpoint: endpoint, externalID: credentials.apiKey, kind: .cancelled)
        }
        defer { lane.release() }
        let signed: SignedV4Request
        do {
            signed = try V4RequestSigner.sign(
                path: endpoint.pathTemplate, parameters: parameters, nonce: nonces.next(for: credentials.apiKey),
                nonceWindow: nonceWindow, credentials: credentials
            )
        } catch {
            throw refused(endpoint, credentials.apiKey, error.reason)
        }
        let call = OutgoingRequest(
            endpoint: endpoint, externalID: credentials.apiKey, path: endpoint.pathTemplate,
            headers: signed.headers + [("Accept", "application/json")], body: signed.body,
            secrets: [credentials.secret, Sensitive(signed.payload), Sensitive(signed.signature), Sensitive(signed.body)]
        )
        return try await perform(call, decode: ResponseDecoding.json)
    }

    /// The same read on the Bearer route, `POST /api/v4/accounts/*` with the OAuth access
    /// token and the fields as a JSON body (docs/whitebit-api.md §4). Whether WhiteBIT also
    /// wants `request` and `nonce` there is not documented (§7.12); none are sent, and the
    /// three names are refused as on the signed route so that one parameter set fits both.
    public func accountRead(
        _ read: AccountRead, parameters: [String: JSONValue] = [:], bearer token: Sensitive
    ) async throws(WhiteBITError) -> JSONValue {
        let endpoint = read.bearerEndpoint
        let reserved = parameters.keys.filter { V4RequestSigner.reservedFields.contains($0) }.sorted()
        guard reserved.isEmpty else {
            throw refused(endpoint, nil, "the body names \(reserved.joined(separator: ", ")), which are not read parameters")
        }
        guard !token.isEmpty, token.revealed.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw refused(endpoint, nil, "access token is empty or not visible ASCII")
        }
        let call = OutgoingRequest(
            endpoint: endpoint, externalID: nil, path: endpoint.pathTemplate,
            headers: [
                ("Authorization", "Bearer \(token.revealed)"), ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            body: JSONValue.object(parameters).compactText, secrets: [token]
        )
        return try await perform(call, decode: ResponseDecoding.json)
    }
}

extension WhiteBITClient {
    /// A signed request for a partner process to send itself (`sign USER PATH [JSON-BODY]`,
    /// docs/design.md §12), with the key's next nonce. Nothing is sent. Which paths may be
    /// signed (`agent.sign_paths`) is the caller's decision.
    ///
    /// The partner's request must reach WhiteBIT before any later-numbered one for the same
    /// key, wbkeyd's own reads included, or WhiteBIT answers "Too many requests.".
    public func signedRequest(
        path: String, jsonBody: String, credentials: V4Credentials, nonces: V4NonceSource, nonceWindow: Bool = false
    ) throws(V4SigningError) -> SignedV4Request {
        let parameters = try V4RequestSigner.parameters(fromJSON: jsonBody)
        return try V4RequestSigner.sign(
            path: path, parameters: parameters, nonce: nonces.next(for: credentials.apiKey), nonceWindow: nonceWindow,
            credentials: credentials
        )
    }

    /// The URL a signed request goes to: the configured base URL and its path.
    public func url(of request: SignedV4Request) -> String { baseURL + request.path }
}

/// One permit per API key, made on first use and kept for the client's life (one per
/// grant: a few thousand at most).
final class KeyLanes: Sendable {
    private let lanes = Mutex<[String: ConcurrencyLimiter]>([:])

    func lane(for apiKey: String) -> ConcurrencyLimiter {
        lanes.withLock { lanes in
            if let lane = lanes[apiKey] { return lane }
            let lane = ConcurrencyLimiter(limit: 1)
            lanes[apiKey] = lane
            return lane
        }
    }
}
