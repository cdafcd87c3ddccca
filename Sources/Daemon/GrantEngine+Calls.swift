import Foundation
import GrantLifecycle
import Sensitive
import Store
import WhiteBITClient

/// Performing the WhiteBIT call a transition asked for, and turning its outcome into
/// the next event; what the answer carries (a token, a secret) travels in the event, and
/// the decision on it keeps it.
extension GrantEngine {
    func perform(_ call: Call, user: String) async {
        guard haltReason == nil, leases.allowsCall(at: .now, lasting: callBudget) else {
            // Halted, or it waited for a turn past what the lease still covers: not made.
            // The grant stays due in the store, tried again once the lease is renewed (or
            // by the next start).
            await withLock(user) {
                callReturned(user)
                outcomeSettled()
                if haltReason == nil { await scheduler.reschedule(.grant(user), at: Date().addingTimeInterval(1)) }
            }
            return
        }
        let event = await outcome(of: call, user: user)
        await withLock(user) {
            // Only once its outcome is committed is the call over: `finish()` waits for that.
            // The commit makes the next call at once when one follows (securing → fetch).
            callReturned(user)
            defer { outcomeSettled() }
            do {
                _ = try await applyLocked(event, user: user)
            } catch is LeaseRefusal {
                // Logged where it was refused: another instance holds the grant now.
            } catch {
                logger.error("could not record a WhiteBIT outcome", metadata: ["user": "\(user)", "error": "\(error)"])
            }
        }
    }

    private func outcome(of call: Call, user: String) async -> GrantEvent {
        let stored: StoredGrant?
        do {
            stored = try await store.grant(user: user)
        } catch {
            return Self.failureEvent(for: call, .transient("store read failed"))
        }
        guard let stored else { return Self.failureEvent(for: call, .rejected("grant vanished")) }
        switch call {
        case .exchangeToken:
            return await exchange(stored)
        case .keyInfo:
            guard let token = openToken(stored) else { return .keyInfoFailed(.unauthorized) }
            do {
                let info = try await client.apiKeyInfo(token: token)
                return .keyInfo(KeyInfo(exists: info.exists, isEnabled: info.isEnabled, externalID: info.externalID))
            } catch {
                return .keyInfoFailed(failure(error))
            }
        case .fetchSecret(let externalID):
            guard let token = openToken(stored) else { return .secretFetchFailed(.unauthorized) }
            do {
                return .secretFetched(try await client.apiKeySecret(externalID: externalID, token: token), externalID: externalID)
            } catch {
                return .secretFetchFailed(failure(error))
            }
        case .checkKey(let externalID, let identity):
            var report = await checkKey(stored, externalID: externalID, identity: identity)
            // The nonces the check used become durable with its outcome, as `sign`'s do.
            report.nonceMarks = Self.readings(identity, apiKey: stored.grant.apiKey, externalID: externalID)
                .map { $0 == .apiKey ? stored.grant.apiKey ?? externalID : externalID }
                .compactMap { key in nonces.lastIssued(for: key).map { NonceMark(key: key, nonce: $0) } }
            return .keyChecked(report)
        case .deleteKey(let externalID):
            guard let token = openToken(stored) else { return .keyDeletionFailed(.unauthorized) }
            do {
                try await client.deleteAPIKey(externalID: externalID, token: token)
                return .keyDeleted(alreadyGone: false)
            } catch where error.kind == .notFound {
                return .keyDeleted(alreadyGone: true)
            } catch {
                return .keyDeletionFailed(failure(error))
            }
        }
    }

    /// A refused exchange (or a stored authorization that cannot be opened) ends that
    /// authorization: the decision on the failure wipes it.
    private func exchange(_ stored: StoredGrant) async -> GrantEvent {
        let user = stored.grant.user
        guard let sealedCode = stored.sealedCode, let sealedVerifier = stored.sealedVerifier,
            let code = try? sealer.open(sealedCode, binding: SealBinding(kind: .authorizationCode, user: user)),
            let verifier = try? sealer.open(sealedVerifier, binding: SealBinding(kind: .codeVerifier, user: user))
        else {
            logger.error("the stored authorization cannot be opened", metadata: ["user": "\(user)"])
            return .tokenExchangeFailed(.rejected("the stored authorization cannot be opened"))
        }
        do {
            let token = try await client.exchangeCode(code: code, codeVerifier: verifier)
            return .tokenExchanged(token: token.value, expiresIn: token.expiresIn)
        } catch {
            return .tokenExchangeFailed(failure(error))
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
