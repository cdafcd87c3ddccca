import Foundation

extension SimulatedWhiteBIT {
    /// How many requests a key's log keeps (the newest).
    static let keyLogLimit = 1_000
    /// `nonceWindow`: the nonce must be this close to the clock (`docs/whitebit-api.md` §5.2).
    static let nonceWindowMilliseconds = 5_000

    /// A private V4 request (`/api/v4/main-account/balance` …) that the rate limit
    /// (`limitRate`) let through: checked in the order the docs' errors suggest — payload,
    /// body, key, signature, key state, nonce, permission, fields — then answered from the
    /// key's user's `AccountData`. Every request whose `X-TXC-APIKEY` names a key lands in
    /// that key's log.
    public func signedRequest(_ request: SignedRequest) -> SimAnswer {
        let keyID = request.apiKey.flatMap(keyID(named:))
        if let keyID { disableIfIdle(keyID) }
        var nonce: Int?
        let answer: SimAnswer
        switch evaluate(request, keyID: keyID, nonce: &nonce) {
        case .success(let served): answer = served
        case .failure(let refusal): answer = refusal.answer
        }
        if let keyID { log(request.path, nonce: nonce, answer: answer, source: request.source, in: keyID) }
        return answer
    }

    /// Appends to the key's log, which keeps the newest `keyLogLimit` entries.
    func log(_ path: String, nonce: Int?, answer: SimAnswer, source: String?, in keyID: String) {
        let entry = KeyRequest(
            at: now, path: path, nonce: nonce, status: answer.status,
            message: answer.status == 200 ? nil : answer.json?["message"]?.stringValue, source: source)
        keys[keyID]?.requests.append(entry)
        if let count = keys[keyID]?.requests.count, count > Self.keyLogLimit {
            keys[keyID]?.requests.removeFirst(count - Self.keyLogLimit)
        }
    }

    private func evaluate(_ request: SignedRequest, keyID: String?, nonce: inout Int?) -> Result<SimAnswer, SignedRefusal> {
        let moment = now
        guard let payload = request.payload, !payload.isEmpty else { return .failure(.payloadMissing) }
        guard let decoded = Data(base64Encoded: payload), Array(decoded) == request.body else {
            return .failure(.payloadMismatch)
        }
        let body: SignedBody
        switch SignedBody.parse(request.body) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let parsed): body = parsed
        }
        nonce = body.nonce
        guard body.request == request.path else { return .failure(.requestMismatch) }
        guard let keyID, let key = keys[keyID], key.appearsAt <= moment else { return .failure(.unknownKey) }
        if key.deleted { return .failure(.deletedKey(settings.deletedKey)) }
        let expected = SignedRequest.expectedSignature(payload: payload, secret: key.apiSecret.revealed)
        guard SignedRequest.sameSignature(request.signature, expected) else { return .failure(.badSignature) }
        guard key.enabled else { return .failure(.disabledKey) }
        if let refusal = acceptNonce(body, keyID: keyID, at: moment) { return .failure(refusal) }
        guard KeyPermissions.permits(key.permissions, path: request.path) else { return .failure(.noPermission) }
        guard let endpoint = AccountEndpoint(signedPath: request.path) else { return .failure(.noPermission) }
        switch AccountQuery.answer(endpoint, body: body.fields, data: AccountData(user: key.user, now: moment), now: moment) {
        case .failure(let failure): return .failure(.invalid(failure))
        case .success(let value):
            keys[keyID]?.lastUsedAt = moment
            return .success(.json(200, value))
        }
    }

    /// Plain nonces must exceed every nonce the key accepted; `nonceWindow` ones must be
    /// within ±5 s of the clock and not seen before. An accepted nonce is remembered.
    private func acceptNonce(_ body: SignedBody, keyID: String, at moment: Date) -> SignedRefusal? {
        guard let key = keys[keyID] else { return .unknownKey }
        let clock = Int((moment.timeIntervalSince1970 * 1000).rounded(.down))
        var window = key.windowNonces.filter { $0 >= clock - Self.nonceWindowMilliseconds }
        if body.nonceWindow {
            guard abs(body.nonce - clock) <= Self.nonceWindowMilliseconds else { return .nonceOutsideWindow }
            guard !window.contains(body.nonce) else { return .nonceRepeated }
            window.insert(body.nonce)
        } else if let highest = key.highestNonce, body.nonce <= highest {
            return .nonceNotIncreasing
        }
        keys[keyID]?.windowNonces = window
        keys[keyID]?.highestNonce = max(key.highestNonce ?? body.nonce, body.nonce)
        return nil
    }

    /// The key an `X-TXC-APIKEY` value names, in the reading the `api_key_header` switch picks.
    func keyID(named header: String) -> String? {
        switch settings.apiKeyHeader {
        case .externalID: return keys[header] == nil ? nil : header
        case .apiKey: return keys.values.first { $0.apiKey == header }?.externalID
        }
    }

    /// WhiteBIT's cron (`docs/whitebit-api.md` §3.5): a key idle for the inactivity period is
    /// disabled. Run on a key before anything reads or uses it, so the clock alone decides.
    func disableIfIdle(_ externalID: String) {
        guard let key = keys[externalID], key.enabled, !key.deleted else { return }
        let moment = now
        let period = TimeInterval(settings.keyInactivityMilliseconds) / 1000
        if key.appearsAt <= moment, moment.timeIntervalSince(key.lastUsedAt) >= period { keys[externalID]?.enabled = false }
    }

    /// The cron over every key, for views of them all.
    func disableIdleKeys() {
        for externalID in keyOrder { disableIfIdle(externalID) }
    }
}
