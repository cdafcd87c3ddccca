import Foundation
import Sensitive

/// The start of a secret retrieval. While `lockedKey` is set the retrieval holds that key's
/// lock, and the caller must end it with `endSecretRetrieval(of:)` once the answer is out.
public struct SecretRetrieval: Sendable, Equatable {
    public let answer: SimAnswer
    public let lockedKey: String?
}

extension SimulatedWhiteBIT {
    /// `GET /oauth2/api-key/info`: the key of the token's (user, client), if visible.
    public func apiKeyInfo(authorization: String?) -> SimAnswer {
        let headers = ["Cache-Control": "no-cache"]
        guard let token = authorizedToken(authorization, scope: "apikeys.read") else {
            return .unauthorized.with(headers)
        }
        let moment = now
        guard
            let found = keys.values.first(where: {
                $0.user == token.user && $0.clientID == token.clientID && $0.isVisible(at: moment)
            })
        else {
            return .json(200, ["data": ["exists": false, "isEnabled": false, "externalId": .null, "permissions": []]], headers: headers)
        }
        disableIfIdle(found.externalID)
        let key = keys[found.externalID] ?? found
        let info: JSONValue = [
            "exists": true, "isEnabled": .bool(key.enabled), "externalId": .string(key.externalID),
            "permissions": .array(key.permissions),
        ]
        return .json(200, ["data": info], headers: headers)
    }

    /// `GET /oauth2/api-key/{externalId}/secret`, first half: decides the answer and, for a
    /// 200, marks the secret retrieved and takes the key's lock.
    public func beginSecretRetrieval(authorization: String?, externalID: String) -> SecretRetrieval {
        let headers = ["Cache-Control": "no-store"]
        func answer(_ answer: SimAnswer) -> SecretRetrieval {
            SecretRetrieval(answer: answer.with(headers), lockedKey: nil)
        }
        disableIfIdle(externalID)
        guard let token = authorizedToken(authorization, scope: "apikeys.read") else { return answer(.unauthorized) }
        switch ownedKey(externalID, token: token) {
        case .refused(let refusal): return answer(refusal)
        case .owned(var key):
            key.secretFetches += 1
            defer { keys[externalID] = key }
            if key.retrievalInFlight { return answer(.temporaryLock) }
            if key.secretRetrieved { return answer(.secretAlreadyRetrieved) }
            key.secretRetrieved = true
            key.retrievalInFlight = true
            return SecretRetrieval(
                answer: .json(200, ["data": ["apiSecret": .string(key.apiSecret.revealed)]], headers: headers),
                lockedKey: externalID)
        }
    }

    /// Second half of a retrieval: releases the key's lock.
    public func endSecretRetrieval(of externalID: String) {
        keys[externalID]?.retrievalInFlight = false
    }

    /// Both halves at once, for callers that hold no answer back.
    public func retrieveSecret(authorization: String?, externalID: String) -> SimAnswer {
        let retrieval = beginSecretRetrieval(authorization: authorization, externalID: externalID)
        if let locked = retrieval.lockedKey { endSecretRetrieval(of: locked) }
        return retrieval.answer
    }

    /// `DELETE /oauth2/api-key/{externalId}`: deletes an active key of the calling client.
    public func deleteKey(authorization: String?, externalID: String) -> SimAnswer {
        let headers = ["Cache-Control": "no-cache"]
        disableIfIdle(externalID)
        guard let token = authorizedToken(authorization, scope: "apikeys.delete") else {
            return .unauthorized.with(headers)
        }
        switch ownedKey(externalID, token: token) {
        case .refused(let refusal): return refusal.with(headers)
        case .owned(let key):
            if !key.enabled {
                switch settings.deleteDisabled {
                case .forbidden: return SimAnswer.forbidden.with(headers)
                case .notFound: return SimAnswer.keyNotFound.with(headers)
                case .deleted: break
                }
            }
            keys[externalID]?.deleted = true
            return .json(200, ["data": []], headers: headers)
        }
    }

    /// The token behind a `Bearer` header if it is known, unexpired and has the scope.
    func authorizedToken(_ authorization: String?, scope: String) -> AccessToken? {
        guard let value = Self.bearerToken(authorization), let token = tokens[value],
            now < token.expiresAt, token.scopes.contains(scope)
        else { return nil }
        return token
    }

    /// The key the token may act on, or the refusal: 404 for a key that is unknown,
    /// deleted, not yet created, or another user's; 403 for another client's key.
    func ownedKey(_ externalID: String, token: AccessToken) -> KeyLookup {
        guard let key = keys[externalID], key.isVisible(at: now) else { return .refused(.keyNotFound) }
        guard key.clientID == token.clientID else { return .refused(.forbidden) }
        guard key.user == token.user else { return .refused(.keyNotFound) }
        return .owned(key)
    }
}

enum KeyLookup {
    case owned(APIKey)
    case refused(SimAnswer)
}

extension SimAnswer {
    func with(_ extra: [String: String]) -> SimAnswer {
        var answer = self
        answer.headers.merge(extra) { _, new in new }
        return answer
    }
}
