import Foundation

/// The grant lifecycle of docs/design.md §5 as a pure function:
/// (grant, event, now) → (grant, audit rows, at most one WhiteBIT call).
///
/// No clocks, files or sockets: `now` and the random `roll` (for jitter) come in as
/// values, so every rule is tested in microseconds and a replay is deterministic.
/// The shell around it commits each `Transition` in one store transaction and only
/// then performs its call, feeding the outcome back in as the next event. A transition
/// whose next step is due at once carries that call itself; the scheduler only ever
/// holds deadlines in the future.
public struct Lifecycle: Sendable {
    public var policy: LifecyclePolicy

    public init(policy: LifecyclePolicy = LifecyclePolicy()) {
        self.policy = policy
    }

    /// - Parameter roll: a random number in [0, 1) used for jitter.
    public func transition(_ grant: Grant, on event: GrantEvent, at now: Date, roll: Double = 0.5) -> Transition {
        var step = TransitionDraft(grant: grant, now: now, roll: roll, policy: policy)
        switch event {
        case .authorizationReceived(let authorization):
            step.authorizationReceived(authorization)
        case .revokeRequested(let reason):
            step.revokeRequested(reason: reason)
        case .due:
            step.due()
        case .reconcileRequested:
            step.reconcileRequested()
        case .tokenExchanged(let token, let expiresIn):
            step.tokenExchanged(token, expiresIn: expiresIn)
        case .tokenExchangeFailed(let failure):
            step.tokenExchangeFailed(failure)
        case .keyInfo(let info):
            step.keyInfo(info)
        case .keyInfoFailed(let failure):
            // A rejected token is a fact whatever the state; any other failure answers a
            // poll only a polling state asked for (not one a revocation overtook).
            if failure == .unauthorized || step.pollsInfo { step.keyInfoFailed(failure) }
        case .secretFetched(let secret, let externalID):
            step.secretFetched(secret, externalID: externalID)
        case .secretFetchFailed(let failure):
            // Only `securing` fetches: a late 404 or 403 must not pull a grant that a
            // revocation or a new authorization moved on back into the acquisition.
            if failure == .unauthorized || grant.state == .securing { step.secretFetchFailed(failure) }
        case .keyDeleted(let alreadyGone):
            step.keyDeleted(alreadyGone: alreadyGone)
        case .keyDeletionFailed(let failure):
            // 401 (token rejected) and 404 (key already gone) are facts whatever the state;
            // a retry or a 403 only concerns a grant still deleting.
            if failure == .unauthorized || failure == .notFound || [.revoking, .lost].contains(grant.state) {
                step.keyDeletionFailed(failure)
            }
        case .keyChecked(let report):
            step.keyChecked(report)
        }
        step.settleKeyWatch()
        if step.result.changesNothing(of: grant), event.isOutcomeOrRequest {
            // Nothing in this state answers the event: said, never dropped in silence.
            step.audit(.eventIgnored, ["event": event.name, "state": grant.state.rawValue])
        }
        // A decision whose next step is due at once carries that step's call, committed
        // with it, rather than a deadline of `now` for the scheduler to fire a moment later.
        if event != .due, step.result.call == nil, let next = step.grant.nextDeadline, next <= now {
            step.due()
            step.settleKeyWatch()
        }
        if step.result.grant != grant { step.result.grant.updatedAt = now }
        return step.result
    }
}

extension Transition {
    /// No effect on the grant or the world (nonce marks are bookkeeping, kept regardless).
    func changesNothing(of grant: Grant) -> Bool {
        self.grant == grant && audit.isEmpty && call == nil && keep.isEmpty && !wipeToken && !wipeSecret && !wipeAuthorization
    }
}

extension GrantEvent {
    /// A call's answer or a request from outside. A deadline or a reconcile that finds
    /// nothing to do is routine, not an ignored event.
    var isOutcomeOrRequest: Bool {
        switch self {
        case .due, .reconcileRequested: false
        default: true
        }
    }

    /// The event's name in `event_ignored` rows; never carries a value (a token, a secret).
    public var name: String {
        switch self {
        case .authorizationReceived: "authorization_received"
        case .revokeRequested: "revoke_requested"
        case .due: "due"
        case .reconcileRequested: "reconcile_requested"
        case .tokenExchanged: "token_exchanged"
        case .tokenExchangeFailed: "token_exchange_failed"
        case .keyInfo: "key_info"
        case .keyInfoFailed: "key_info_failed"
        case .secretFetched: "secret_fetched"
        case .secretFetchFailed: "secret_fetch_failed"
        case .keyDeleted: "key_deleted"
        case .keyDeletionFailed: "key_deletion_failed"
        case .keyChecked: "key_checked"
        }
    }
}

/// One transition being worked out; the per-event rules live in extensions by phase.
struct TransitionDraft {
    var result: Transition
    let now: Date
    let roll: Double
    let policy: LifecyclePolicy

    init(grant: Grant, now: Date, roll: Double, policy: LifecyclePolicy) {
        self.result = Transition(grant: grant)
        self.now = now
        self.roll = roll
        self.policy = policy
    }

    var grant: Grant {
        get { result.grant }
        set { result.grant = newValue }
    }

    mutating func move(to state: GrantState, reason: String? = nil) {
        grant.state = state
        grant.reason = reason
    }

    mutating func audit(_ event: AuditEvent, externalID: String? = nil, _ detail: [String: String] = [:]) {
        result.audit.append(AuditNote(event, externalID: externalID ?? grant.externalID, detail: detail))
    }

    /// The states whose step is an `/info` poll or reconcile.
    var pollsInfo: Bool {
        switch grant.state {
        case .awaitingKey, .active, .disabled: true
        case .revoking: grant.doomedKey == nil
        default: false
        }
    }

    mutating func call(_ call: Call) {
        result.call = call
    }

    func after(_ duration: Duration) -> Date {
        now.addingTimeInterval(duration.seconds)
    }

    /// Starts a fresh retry ladder for the state's step, running at once.
    mutating func stepNow() {
        grant.stepAt = now
        grant.stepAttempts = 0
        grant.stepStartedAt = now
        grant.lockAttempts = 0
        grant.lockStartedAt = nil
    }

    mutating func clearStep() {
        grant.stepAt = nil
        grant.stepAttempts = 0
        grant.stepStartedAt = nil
        grant.lockAttempts = 0
        grant.lockStartedAt = nil
    }

    /// The next periodic reconcile: jittered ±10 % around the interval, and never
    /// later than the final pass `expiry_margin` before the token ends. Nil once
    /// the final pass is behind us: nothing more can be learned before expiry.
    func nextReconcile() -> Date? {
        guard let expiry = grant.tokenExpiresAt else { return nil }
        let finalPass = expiry.addingTimeInterval(-policy.expiryMargin.seconds)
        guard finalPass > now else { return nil }
        let jittered = policy.reconcileInterval.seconds * (0.9 + 0.2 * roll)
        return min(now.addingTimeInterval(jittered), finalPass)
    }

    /// Retry the state's step after a failure, with backoff. Each cause climbs its own
    /// ladder (`attempts`, `startedAt`): the 423 lock ladder is not the transient one.
    mutating func retryStep(
        _ failure: CallFailure, backoff: Backoff,
        attempts: WritableKeyPath<Grant, Int> = \.stepAttempts, startedAt: WritableKeyPath<Grant, Date?> = \.stepStartedAt
    ) -> Bool {
        grant[keyPath: attempts] += 1
        let started = grant[keyPath: startedAt] ?? now
        grant[keyPath: startedAt] = started
        guard let wait = backoff.delay(attempt: grant[keyPath: attempts], started: started, now: now, roll: roll) else {
            return false
        }
        grant.stepAt = after(wait)
        grant.reason = "retrying after \(failure.summary)"
        return true
    }

    mutating func wipeSecret() {
        if grant.hasSecret { result.wipeSecret = true }
        grant.hasSecret = false
    }

    // MARK: deadlines

    mutating func due() {
        if let expiry = grant.tokenExpiresAt, expiry <= now {
            tokenEnded(reason: "expired")
            return
        }
        if let exchangeAt = grant.exchangeAt, exchangeAt <= now {
            dueExchange()
            return
        }
        guard let stepAt = grant.stepAt, stepAt <= now else {
            _ = dueKeyCheck()
            return
        }
        switch grant.state {
        case .awaitingKey, .active, .disabled:
            call(.keyInfo)
        case .securing:
            if let key = grant.externalID { call(.fetchSecret(externalID: key)) } else { clearStep() }
        case .revoking:
            if let key = grant.doomedKey { call(.deleteKey(externalID: key)) } else { call(.keyInfo) }
        case .lost:
            if let key = grant.doomedKey { call(.deleteKey(externalID: key)) } else { clearStep() }
        default:
            clearStep()
        }
    }

    mutating func reconcileRequested() {
        guard grant.holdsLiveToken(at: now) else { return }
        switch grant.state {
        case .active, .disabled, .awaitingKey: grant.stepAt = now
        default: break
        }
    }

    /// The token ended: at its expiry, or early when WhiteBIT refused it with 401.
    /// It is wiped; what the grant becomes depends on what was under way.
    mutating func tokenEnded(reason: String) {
        audit(.tokenExpired, ["reason": reason])
        grant.tokenExpiresAt = nil
        grant.pollUntil = nil
        result.wipeToken = true
        clearStep()
        switch grant.state {
        case .awaitingKey:
            if grant.externalID != nil, grant.hasSecret {
                move(to: .dormant)
            } else {
                audit(.keyNotCreated, ["reason": "no key appeared while the token lived"])
                move(to: .noKey, reason: "no key appeared while the token lived")
            }
        case .active:
            move(to: .dormant)
        case .securing:
            audit(.secretLost, ["reason": "the token ended before the secret was secured"])
            grant.doomedKey = grant.externalID
            grant.resumeAfterDeletion = false
            move(to: .revokePending, reason: "secret_lost")
        case .lost where grant.doomedKey != nil:
            move(to: .revokePending, reason: "secret_lost")
        case .revoking:
            if grant.doomedKey != nil {
                move(to: .revokePending, reason: grant.reason)
            } else {
                move(to: .revoked, reason: "no key existed to delete while the token lived")
            }
        default:
            break
        }
    }
}
