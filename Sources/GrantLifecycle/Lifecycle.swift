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
            step.keyInfoFailed(failure)
        case .secretFetched(let secret, let externalID):
            step.secretFetched(secret, externalID: externalID)
        case .secretFetchFailed(let failure):
            step.secretFetchFailed(failure)
        case .keyDeleted(let alreadyGone):
            step.keyDeleted(alreadyGone: alreadyGone)
        case .keyDeletionFailed(let failure):
            step.keyDeletionFailed(failure)
        case .keyChecked(let report):
            step.keyChecked(report)
        }
        step.settleKeyWatch()
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
