import Foundation
import Sensitive

/// From a stored authorization to a sealed secret, and keeping it true while the
/// token lives: exchange, `/info` polling and reconcile, the once-only secret.
extension TransitionDraft {
    /// The file's `api_key` is taken only when it can belong to the key this
    /// authorization leads to: the grant starts over, or it holds no key and no secret
    /// yet. A later file must never replace what `secret` answers for a key already
    /// secured (issue 12 item 10).
    mutating func authorizationReceived(_ authorization: Authorization) {
        let apiKey = authorization.apiKey
        result.keep.append(.authorization(code: authorization.code, verifier: authorization.verifier))
        grant.exchangeAt = now
        grant.exchangeAttempts = 0
        grant.authorizationReceivedAt = authorization.receivedAt
        guard grant.state.restartsOnAuthorization else {
            if let apiKey, !grant.hasSecret, grant.externalID == nil { grant.apiKey = apiKey }
            return
        }
        // The old public key belonged to the old key.
        grant.apiKey = apiKey
        move(to: .pending)
        grant.externalID = nil
        grant.doomedKey = nil
        grant.resumeAfterDeletion = false
        clearStep()
    }

    mutating func dueExchange() {
        let received = grant.authorizationReceivedAt ?? now
        if now.timeIntervalSince(received) > policy.maxCodeAge.seconds {
            exchangeFailed(because: "the authorization code expired before it could be exchanged")
            return
        }
        call(.exchangeToken)
    }

    mutating func tokenExchanged(_ token: Sensitive, expiresIn: Duration?) {
        // The code is spent: only the token is worth keeping now.
        result.keep.append(.token(token))
        result.wipeAuthorization = true
        let lifetime = policy.tokenLifetime(from: expiresIn)
        grant.tokenExpiresAt = after(lifetime)
        grant.exchangeAt = nil
        grant.exchangeAttempts = 0
        grant.authorizationReceivedAt = nil
        audit(.tokenExchanged, ["expires_in_s": String(Int(lifetime.seconds))])
        switch grant.state {
        case .revokePending:
            // docs/design.md §5: the old key goes first, then the new authorization carries on.
            grant.resumeAfterDeletion = grant.doomedKey != nil
            // No key known yet (revoked before the exchange): look for the one the user
            // is creating as often as `awaiting_key` would, not only at each reconcile.
            if grant.doomedKey == nil { grant.pollUntil = after(policy.infoPollBudget) }
            move(to: .revoking, reason: grant.reason)
            stepNow()
        case .securing, .revoking:
            break
        case .lost where grant.doomedKey != nil:
            break
        default:
            move(to: .awaitingKey)
            grant.pollUntil = after(policy.infoPollBudget)
            stepNow()
        }
    }

    mutating func tokenExchangeFailed(_ failure: CallFailure) {
        guard case .transient = failure else {
            exchangeFailed(because: "WhiteBIT refused the token exchange: \(failure.summary)")
            return
        }
        grant.exchangeAttempts += 1
        let received = grant.authorizationReceivedAt ?? now
        let wait = policy.transient.delay(attempt: grant.exchangeAttempts, started: received, now: now, roll: roll) ?? .zero
        let retryAt = after(wait)
        if retryAt.timeIntervalSince(received) > policy.maxCodeAge.seconds {
            exchangeFailed(because: "the authorization code expired while WhiteBIT was unreachable (\(failure.summary))")
            return
        }
        grant.exchangeAt = retryAt
    }

    /// A failed exchange ends that authorization. A grant that had nothing else
    /// becomes `failed`; one that holds a key or a duty keeps its state.
    mutating func exchangeFailed(because reason: String) {
        audit(.tokenExchangeFailed, ["reason": reason])
        // A code already too old at intake fails in the decision that received it: its
        // authorization is not kept, rather than stored and wiped in one commit.
        result.keep.removeAll { if case .authorization = $0 { true } else { false } }
        result.wipeAuthorization = true
        grant.exchangeAt = nil
        grant.exchangeAttempts = 0
        grant.authorizationReceivedAt = nil
        if grant.state == .pending { move(to: .failed, reason: reason) }
    }

    mutating func keyInfo(_ info: KeyInfo) {
        switch grant.state {
        case .awaitingKey: acquire(info)
        case .active, .disabled: reconcile(info)
        case .revoking where grant.doomedKey == nil: findDoomedKey(info)
        default: break
        }
    }

    /// After a token exchange: the key the user is creating, or the one we know.
    mutating func acquire(_ info: KeyInfo) {
        guard info.exists, let id = info.externalID else {
            if let old = grant.externalID {
                audit(.keyGone, externalID: old, ["seen": "after a new consent"])
                grant.externalID = nil
                wipeSecret()
            }
            keepPolling()
            return
        }
        if id == grant.externalID, grant.hasSecret {
            if info.isEnabled {
                move(to: .active)
                grant.pollUntil = nil
                clearStep()
                grant.stepAt = nextReconcile()
            } else {
                audit(.keyDisabled)
                move(to: .disabled, reason: "WhiteBIT reports the key disabled; only the user can delete it")
                clearStep()
                grant.stepAt = nextReconcile()
            }
            return
        }
        adopt(newKey: id, enabled: info.isEnabled, heldByOtherUser: info.heldByOtherUser)
    }

    /// A key we have not secured yet: secure it, or note it disabled. A key another
    /// grant holds is not ours to take: its secret went to that grant (a fetch would
    /// answer 409, and `lost` would then DELETE the other user's key), so this grant
    /// fails, touching nothing at WhiteBIT.
    mutating func adopt(newKey id: String, enabled: Bool, heldByOtherUser other: String?) {
        if let other {
            sharedAccount(id, heldBy: other)
            return
        }
        if let old = grant.externalID, old != id {
            audit(.keyGone, externalID: old, ["replaced_by": id])
            wipeSecret()
            // Its public key string named the old key; the new one's is not known.
            grant.apiKey = nil
        }
        grant.externalID = id
        grant.pollUntil = nil
        if enabled {
            audit(.keyDetected, externalID: id)
            move(to: .securing)
            stepNow()
        } else {
            audit(.keyDisabled, externalID: id)
            move(to: .disabled, reason: "WhiteBIT reports the key disabled; only the user can delete it")
            clearStep()
            grant.stepAt = nextReconcile()
        }
    }

    /// Two partner users consented with one WhiteBIT account, and the key is the other's.
    /// The token is dropped too: it opens the other user's key.
    mutating func sharedAccount(_ id: String, heldBy other: String) {
        let reason = "key_held_by_another_grant: the WhiteBIT account's key \(id) is held by the grant of \(other) "
            + "(two partner users consented with one WhiteBIT account); nothing fetched or deleted"
        audit(.keyDetected, externalID: id, ["held_by_grant_of": other, "outcome": "failed: key held by another grant"])
        if let old = grant.externalID, old != id {
            audit(.keyGone, externalID: old, ["replaced_by": id])
            wipeSecret()
            grant.externalID = nil
        }
        grant.pollUntil = nil
        grant.tokenExpiresAt = nil
        result.wipeToken = true
        grant.doomedKey = nil
        grant.resumeAfterDeletion = false
        clearStep()
        move(to: .failed, reason: reason)
    }

    mutating func keepPolling() {
        if let until = grant.pollUntil, after(policy.infoPollInterval) <= until {
            grant.stepAt = after(policy.infoPollInterval)
        } else {
            grant.pollUntil = nil
            grant.stepAt = nextReconcile()
        }
    }

    /// While a token lives `/info` is the truth (docs/design.md §5 "Reconcile").
    mutating func reconcile(_ info: KeyInfo) {
        let from = grant.state
        grant.stepAttempts = 0
        guard info.exists, let id = info.externalID else {
            audit(.keyGone, ["seen": "reconcile"])
            audit(.reconcileDrift, ["from": from.rawValue, "to": GrantState.gone.rawValue, "why": "key no longer exists"])
            wipeSecret()
            move(to: .gone, reason: "the key vanished upstream")
            clearStep()
            return
        }
        if id != grant.externalID {
            audit(.reconcileDrift, ["from": from.rawValue, "why": "WhiteBIT reports another key", "new_external_id": id])
            adopt(newKey: id, enabled: info.isEnabled, heldByOtherUser: info.heldByOtherUser)
            return
        }
        switch (info.isEnabled, from) {
        case (false, .active):
            audit(.keyDisabled)
            audit(.reconcileDrift, ["from": from.rawValue, "to": GrantState.disabled.rawValue, "why": "key disabled upstream"])
            move(to: .disabled, reason: "WhiteBIT reports the key disabled; only the user can delete it")
        case (true, .disabled):
            audit(.reconcileDrift, ["from": from.rawValue, "why": "key enabled again upstream"])
            if grant.hasSecret {
                move(to: .active)
            } else {
                audit(.keyDetected)
                move(to: .securing)
                stepNow()
                return
            }
        default:
            break
        }
        grant.reason = grant.state == .disabled ? grant.reason : nil
        grant.stepAt = nextReconcile()
    }

    mutating func keyInfoFailed(_ failure: CallFailure) {
        if failure == .unauthorized {
            tokenEnded(reason: "rejected")
            return
        }
        if !retryStep(failure, backoff: policy.transient) {
            grant.stepAt = nextReconcile()
        }
    }

    mutating func secretFetched(_ secret: Sensitive, externalID: String) {
        // Whatever the state, the secret is kept: WhiteBIT hands it out once.
        result.keep.append(.secret(secret, externalID: externalID))
        grant.hasSecret = true
        // A new key: nothing a signed read found about the last one holds for it.
        grant.keyIdentity = nil
        grant.keyCheckedAt = nil
        grant.keyCheck = nil
        grant.keyUsedAt = nil
        grant.probeAt = nil
        guard grant.state == .securing else { return }
        audit(.secretSecured)
        move(to: .active)
        clearStep()
        grant.stepAt = nextReconcile()
    }

    mutating func secretFetchFailed(_ failure: CallFailure) {
        switch failure {
        case .alreadyRetrieved:
            secretLost(because: "WhiteBIT says the secret was already retrieved (409)")
        case .locked:
            if !retryStep(failure, backoff: policy.secretLock, attempts: \.lockAttempts, startedAt: \.lockStartedAt) {
                secretLost(because: "the secret stayed locked (423) for the whole retry budget")
            }
        case .notFound:
            move(to: .awaitingKey)
            grant.pollUntil = after(policy.infoPollBudget)
            stepNow()
        case .forbidden:
            move(to: .failed, reason: "key_not_ours: WhiteBIT refused its secret (403)")
            clearStep()
        case .unauthorized:
            tokenEnded(reason: "rejected")
        case .transient, .rejected:
            _ = retryStep(failure, backoff: policy.transient)
        }
    }

    /// The secret can no longer be had: delete the key while the token lives.
    mutating func secretLost(because reason: String) {
        audit(.secretLost, ["reason": reason])
        grant.doomedKey = grant.externalID
        grant.resumeAfterDeletion = false
        move(to: .lost, reason: "secret_lost")
        stepNow()
    }
}
