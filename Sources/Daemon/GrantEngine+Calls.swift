import Foundation
import GRDB
import Lifecycle
import Sensitive
import Store
import WhiteBITClient

/// Performing the WhiteBIT call a transition asked for, and turning its outcome into
/// the next event (with the sealed data that must commit alongside it).
extension GrantEngine {
    func perform(_ call: Call, user: String) async {
        let outcome = await outcome(of: call, user: user)
        await withLock(user) {
            // Only once its outcome is committed is the call over: `finish()` waits for that.
            // The commit makes the next call at once when one follows (securing → fetch).
            callReturned(user)
            defer { outcomeSettled() }
            do {
                _ = try await applyLocked(outcome.event, user: user, extras: outcome.extras)
            } catch {
                logger.error("could not record a WhiteBIT outcome", metadata: ["user": "\(user)", "error": "\(error)"])
            }
        }
    }

    struct Outcome: Sendable {
        var event: GrantEvent
        var extras: Extras?
    }

    private func outcome(of call: Call, user: String) async -> Outcome {
        let stored: StoredGrant?
        do {
            stored = try await store.pool.read { db in try GrantRecords.load(user: user, in: db) }
        } catch {
            return Outcome(event: Self.failureEvent(for: call, .transient("store read failed")))
        }
        guard let stored else { return Outcome(event: Self.failureEvent(for: call, .rejected("grant vanished"))) }
        switch call {
        case .exchangeToken:
            return await exchange(stored)
        case .keyInfo:
            guard let token = openToken(stored) else { return Outcome(event: .keyInfoFailed(.unauthorized)) }
            do {
                let info = try await client.apiKeyInfo(token: token)
                return Outcome(event: .keyInfo(KeyInfo(exists: info.exists, isEnabled: info.isEnabled, externalID: info.externalID)))
            } catch {
                return Outcome(event: .keyInfoFailed(failure(error)))
            }
        case .fetchSecret(let externalID):
            guard let token = openToken(stored) else { return Outcome(event: .secretFetchFailed(.unauthorized)) }
            do {
                let secret = try await client.apiKeySecret(externalID: externalID, token: token)
                let sealed = sealer.seal(secret, binding: SealBinding(kind: .apiSecret, user: user, externalId: externalID))
                return Outcome(event: .secretFetched) { _, db in
                    try GrantRecords.setSecret(sealed, externalID: externalID, user: user, in: db)
                }
            } catch {
                return Outcome(event: .secretFetchFailed(failure(error)))
            }
        case .checkKey(let externalID, let identity):
            let report = await checkKey(stored, externalID: externalID, identity: identity)
            // The nonces the check used become durable with its outcome, as `sign`'s do.
            let marks = Self.readings(identity, apiKey: stored.grant.apiKey, externalID: externalID)
                .map { $0 == .apiKey ? stored.grant.apiKey ?? externalID : externalID }
                .compactMap { key in nonces.lastIssued(for: key).map { (key, $0) } }
            return Outcome(event: .keyChecked(report)) { _, db in
                for (key, nonce) in marks { try NonceRecords.raise(key, to: nonce, in: db) }
            }
        case .deleteKey(let externalID):
            guard let token = openToken(stored) else { return Outcome(event: .keyDeletionFailed(.unauthorized)) }
            do {
                try await client.deleteAPIKey(externalID: externalID, token: token)
                return Outcome(event: .keyDeleted(alreadyGone: false))
            } catch where error.kind == .notFound {
                return Outcome(event: .keyDeleted(alreadyGone: true))
            } catch {
                return Outcome(event: .keyDeletionFailed(failure(error)))
            }
        }
    }

    private func exchange(_ stored: StoredGrant) async -> Outcome {
        let user = stored.grant.user
        let clearAuthorization: Extras = { _, db in
            try GrantRecords.setAuthorization(code: nil, verifier: nil, user: user, in: db)
        }
        guard let sealedCode = stored.sealedCode, let sealedVerifier = stored.sealedVerifier,
            let code = try? sealer.open(sealedCode, binding: SealBinding(kind: .authorizationCode, user: user)),
            let verifier = try? sealer.open(sealedVerifier, binding: SealBinding(kind: .codeVerifier, user: user))
        else {
            logger.error("the stored authorization cannot be opened", metadata: ["user": "\(user)"])
            return Outcome(event: .tokenExchangeFailed(.rejected("the stored authorization cannot be opened")), extras: clearAuthorization)
        }
        do {
            let token = try await client.exchangeCode(code: code, codeVerifier: verifier)
            let sealed = sealer.seal(token.value, binding: SealBinding(kind: .accessToken, user: user))
            return Outcome(event: .tokenExchanged(expiresIn: token.expiresIn)) { _, db in
                try GrantRecords.setToken(sealed, user: user, in: db)
                try GrantRecords.setAuthorization(code: nil, verifier: nil, user: user, in: db)
            }
        } catch {
            let failure = failure(error)
            if case .transient = failure { return Outcome(event: .tokenExchangeFailed(failure)) }
            return Outcome(event: .tokenExchangeFailed(failure), extras: clearAuthorization)
        }
    }

    private func openToken(_ stored: StoredGrant) -> Sensitive? {
        guard let sealed = stored.sealedToken else { return nil }
        do {
            return try sealer.open(sealed, binding: SealBinding(kind: .accessToken, user: stored.grant.user))
        } catch {
            logger.error("the stored access token cannot be opened", metadata: ["user": "\(stored.grant.user)", "error": "\(error)"])
            return nil
        }
    }

    /// The client's typed errors in the lifecycle's terms (docs/design.md §5).
    func failure(_ error: WhiteBITError) -> CallFailure {
        logFailure(error)
        switch error.kind {
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .secretAlreadyRetrieved: return .alreadyRetrieved
        case .locked: return .locked
        case .rateLimited, .server, .transport, .timeout, .malformedResponse, .cancelled: return .transient(error.description)
        case .validation, .rejected, .invalidRequest, .signatureRejected, .keyDisabled, .endpointNotPermitted,
             .nonceOutsideWindow, .invalidPayload:
            return .rejected(error.description)
        case .nonceNotIncreasing: return .transient(error.description)
        }
    }

    func logFailure(_ error: WhiteBITError) {
        logger.warning(
            "WhiteBIT request failed", metadata: ["event": "whitebit_request_failed", "endpoint": "\(error.endpoint)", "error": "\(error)"])
    }

    static func failureEvent(for call: Call, _ failure: CallFailure) -> GrantEvent {
        switch call {
        case .exchangeToken: .tokenExchangeFailed(failure)
        case .keyInfo: .keyInfoFailed(failure)
        case .fetchSecret: .secretFetchFailed(failure)
        case .deleteKey: .keyDeletionFailed(failure)
        case .checkKey(let externalID, _): .keyChecked(KeyCheckReport(externalID: externalID, outcome: .failed, message: failure.summary))
        }
    }
}
