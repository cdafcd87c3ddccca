import Foundation

/// Deleting keys: on request, after a lost secret, or postponed to the user's next
/// token (`revoke_pending`). 404 counts as done, 403 is final, the rest retries.
extension TransitionDraft {
    mutating func revokeRequested(reason: String) {
        let key = grant.doomedKey ?? grant.externalID
        var outcome = "deleting"
        switch grant.state {
        case .revoking, .revokePending:
            outcome = "already under way"
        case .disabled:
            outcome = "refused: WhiteBIT reports the key disabled; only the user can delete it"
        case .revoked, .gone, .noKey:
            outcome = "nothing to delete"
        case .failed where !grant.holdsLiveToken(at: now):
            // A failed exchange or a refused secret does not mean no key exists upstream:
            // the user may have created one on the consent screen. Delete it with the
            // user's next token, whether or not its id is known yet.
            outcome = "postponed until the user's next token"
            grant.doomedKey = key
            grant.resumeAfterDeletion = false
            move(to: .revokePending, reason: reason)
            clearStep()
        case .lost:
            outcome = grant.doomedKey == nil ? "nothing to delete" : "already under way"
        case .pending where key == nil:
            outcome = "postponed until the pending authorization yields a token"
            grant.doomedKey = nil
            grant.resumeAfterDeletion = false
            move(to: .revokePending, reason: reason)
        default:
            if grant.holdsLiveToken(at: now) {
                grant.doomedKey = key
                grant.resumeAfterDeletion = false
                move(to: .revoking, reason: reason)
                stepNow()
            } else if key != nil {
                outcome = "postponed until the user's next token"
                grant.doomedKey = key
                grant.resumeAfterDeletion = false
                move(to: .revokePending, reason: reason)
                clearStep()
            } else {
                outcome = "nothing to delete"
            }
        }
        audit(.revokeRequested, externalID: key, ["reason": reason, "outcome": outcome])
    }

    /// Revoking before any key was known: find the key, then delete it.
    mutating func findDoomedKey(_ info: KeyInfo) {
        if info.exists, let id = info.externalID, let other = info.heldByOtherUser {
            // The account's key is another grant's: deleting it would revoke that user.
            grant.externalID = nil
            clearStep()
            move(to: .revoked, reason: "no key of this grant to delete: the account's key \(id) is held by the grant of \(other)")
        } else if info.exists, let id = info.externalID {
            grant.externalID = id
            grant.doomedKey = id
            stepNow()
        } else {
            keepPolling()
        }
    }

    mutating func keyDeleted(alreadyGone: Bool) {
        let key = grant.doomedKey ?? grant.externalID
        audit(.keyRevoked, externalID: key, ["result": alreadyGone ? "already gone (404)" : "deleted", "reason": grant.reason ?? "requested"])
        wipeSecret()
        grant.doomedKey = nil
        clearStep()
        switch grant.state {
        case .revoking where grant.resumeAfterDeletion:
            grant.resumeAfterDeletion = false
            grant.externalID = nil
            move(to: .awaitingKey)
            grant.pollUntil = after(policy.infoPollBudget)
            stepNow()
        case .lost:
            move(to: .lost, reason: "secret_lost")
        default:
            move(to: .revoked, reason: grant.reason)
        }
    }

    mutating func keyDeletionFailed(_ failure: CallFailure) {
        let key = grant.doomedKey
        switch failure {
        case .notFound:
            keyDeleted(alreadyGone: true)
        case .forbidden:
            audit(.keyRevokeFailed, externalID: key, ["status": "403", "permanent": "true"])
            move(to: .irrevocable, reason: "WhiteBIT refused the deletion (403); an operator must act")
            clearStep()
        case .unauthorized:
            tokenEnded(reason: "rejected")
        case .transient, .rejected, .locked, .alreadyRetrieved:
            let reason = grant.reason
            _ = retryStep(failure, backoff: policy.transient)
            let attempt = grant.stepAttempts
            // Every failure is counted; the log gets the 1st, 2nd, 4th, 8th … so an
            // outage of hours does not flood the audit chain.
            if attempt & (attempt - 1) == 0 {
                audit(.keyRevokeFailed, externalID: key, ["error": failure.summary, "attempt": String(attempt), "permanent": "false"])
            }
            grant.reason = reason
        }
    }
}
