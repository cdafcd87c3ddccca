import Foundation
import Sensitive

/// What the user does on WhiteBIT's side, outside any partner call (API doc §3.5).
extension SimulatedWhiteBIT {
    /// The user deletes the key in the dashboard.
    public func userDeletesKey(user: String, clientID: String? = nil) throws(SimRequestError) -> String {
        let externalID = try liveKeyID(user: user, clientID: clientID)
        keys[externalID]?.deleted = true
        return externalID
    }

    /// 14 days without API activity: WhiteBIT's cron disables the key.
    public func disableKey(user: String, clientID: String? = nil) throws(SimRequestError) -> String {
        let externalID = try liveKeyID(user: user, clientID: clientID)
        keys[externalID]?.enabled = false
        return externalID
    }

    /// A password change deletes every key of the user; tokens stay. Answers how many.
    public func changePassword(user: String) -> Int {
        let doomed = keys.values.filter { $0.user == user && $0.isLive }.map(\.externalID)
        for externalID in doomed { keys[externalID]?.deleted = true }
        return doomed.count
    }

    /// Every token of the user expires now. Answers how many were still valid.
    public func expireTokens(user: String) -> Int {
        let moment = now
        var expired = 0
        for value in tokenOrder where tokens[value]?.user == user {
            if let expiresAt = tokens[value]?.expiresAt, expiresAt > moment {
                tokens[value]?.expiresAt = moment
                expired += 1
            }
        }
        return expired
    }

    private func liveKeyID(user: String, clientID: String?) throws(SimRequestError) -> String {
        let client = try client(clientID)
        guard let key = keys.values.first(where: { $0.user == user && $0.clientID == client.id && $0.isLive }) else {
            throw SimRequestError("user \"\(user)\" has no key for client \"\(client.id)\"")
        }
        return key.externalID
    }

    /// Everything, secrets included, for tests to check what a client did.
    public func stateJSON() -> JSONValue {
        disableIdleKeys()
        let moment = now
        let clientList: [JSONValue] = clientOrder.compactMap { clients[$0] }.map { client in
            [
                "client_id": .string(client.id), "client_secret": .string(client.secret.revealed),
                "redirect_uris": .array(client.redirectURIs.map(JSONValue.string)),
                "scopes": .array(client.scopes.map(JSONValue.string)),
            ]
        }
        let keyList: [JSONValue] = keyOrder.compactMap { keys[$0] }.map { key in
            [
                "external_id": .string(key.externalID), "user": .string(key.user), "client_id": .string(key.clientID),
                "enabled": .bool(key.enabled), "deleted": .bool(key.deleted),
                "secret_fetches": .integer(key.secretFetches), "secret_retrieved": .bool(key.secretRetrieved),
                "retrieval_in_flight": .bool(key.retrievalInFlight),
                "api_secret": .string(key.apiSecret.revealed), "permissions": .array(key.permissions),
                "created_at": Self.date(key.createdAt), "appears_at": Self.date(key.appearsAt),
                "visible": .bool(key.isVisible(at: moment)), "api_key": .string(key.apiKey),
                "last_used_at": Self.date(key.lastUsedAt), "highest_nonce": key.highestNonce.map(JSONValue.integer) ?? .null,
                "signed_requests": .integer(key.requests.count),
            ]
        }
        let tokenList: [JSONValue] = tokenOrder.compactMap { tokens[$0] }.map { token in
            [
                "access_token": .string(token.value.revealed), "user": .string(token.user),
                "client_id": .string(token.clientID), "expires_at": Self.date(token.expiresAt),
                "scopes": .array(token.scopes.map(JSONValue.string)), "expired": .bool(moment >= token.expiresAt),
            ]
        }
        let codeList: [JSONValue] = codeOrder.compactMap { codes[$0] }.map { code in
            [
                "code": .string(code.value.revealed), "user": .string(code.user), "client_id": .string(code.clientID),
                "used": .bool(code.used), "expires_at": Self.date(code.expiresAt),
                "redirect_uri": .string(code.redirectURI), "state": code.state.map(JSONValue.string) ?? .null,
                "code_challenge": code.challenge.map(JSONValue.string) ?? .null,
            ]
        }
        var state: [String: JSONValue] = [
            "clients": .array(clientList), "keys": .array(keyList), "tokens": .array(tokenList),
            "codes": .array(codeList), "faults": .array(faults.map(\.json)), "settings": settings.json,
        ]
        state.merge(counters(), uniquingKeysWith: { first, _ in first })
        return .object(state)
    }

    /// The request and answer counters of `stateJSON` alone (`GET /sim/counts`): cheap to
    /// read again and again with 100,000 keys, whose list `stateJSON` would render each time.
    public func counters() -> [String: JSONValue] {
        var requests: [String: JSONValue] = [:]
        var accountRequests: [String: JSONValue] = [:]
        for endpoint in SimEndpoint.allCases {
            // The account reads count apart, so `requests` stays the four OAuth calls it always was.
            let count = JSONValue.integer(requestCounts[endpoint, default: 0])
            if endpoint.isAccountRead { accountRequests[endpoint.rawValue] = count } else { requests[endpoint.rawValue] = count }
        }
        return [
            "requests": .object(requests), "account_requests": .object(accountRequests),
            "responses": .object(responseCounts.mapValues(JSONValue.integer)), "sources": sourceCountsJSON,
        ]
    }
}
