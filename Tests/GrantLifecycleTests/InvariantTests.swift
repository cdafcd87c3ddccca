import Foundation
import Testing
@testable import GrantLifecycle

/// Random walks through the engine, checking rules that must hold after any event.
@Suite struct InvariantTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let failures: [CallFailure] = [.unauthorized, .forbidden, .notFound, .alreadyRetrieved, .locked, .transient("t"), .rejected("r")]

    /// The outcome of `call` as WhiteBIT might answer it.
    func outcome(of call: Call, _ rng: inout SplitMix) -> GrantEvent {
        let failure = Self.failures.randomElement(using: &rng)!
        let succeeds = Int.random(in: 0..<3, using: &rng) > 0
        switch call {
        case .exchangeToken:
            return succeeds ? .tokenExchanged(token: Walk.token, expiresIn: .seconds(Int64.random(in: 1...20_000, using: &rng))) : .tokenExchangeFailed(failure)
        case .keyInfo:
            guard succeeds else { return .keyInfoFailed(failure) }
            let exists = Bool.random(using: &rng)
            let id = ["key-1", "key-2"].randomElement(using: &rng)
            return .keyInfo(KeyInfo(exists: exists, isEnabled: Bool.random(using: &rng), externalID: exists ? id : nil))
        case .fetchSecret(let id):
            return succeeds ? .secretFetched(Walk.secret, externalID: id) : .secretFetchFailed(failure)
        case .deleteKey:
            return succeeds ? .keyDeleted(alreadyGone: Bool.random(using: &rng)) : .keyDeletionFailed(failure)
        case .checkKey(let id, let identity):
            let outcome = KeyCheck.allCases.randomElement(using: &rng)!
            let recognised = outcome == .ok || outcome == .disabled
            return .keyChecked(KeyCheckReport(externalID: id, outcome: outcome, identity: recognised ? identity ?? .externalID : nil))
        }
    }

    /// Something from outside, or time passing to the next deadline.
    func external(_ rng: inout SplitMix, grant: Grant, now: inout Date) -> GrantEvent {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return .authorizationReceived(Walk.authorization(at: now))
        case 1: return .revokeRequested(reason: "r")
        case 2: return .reconcileRequested
        default:
            if let next = grant.nextDeadline, next > now { now = next }
            return .due
        }
    }

    /// Walks as the shell drives the engine: an external event or a deadline, or the
    /// outcome of the call the engine asked for.
    @Test func rulesHoldOnRandomWalks() {
        var reached = Set<GrantState>()
        walk(seed: 42) { before, _, after, now in
            reached.insert(after.grant.state)
            check(before: before, after: after, now: now)
        }
        #expect(reached == Set(GrantState.allCases))
    }

    /// Walks where a request from outside (a revocation, a new authorization, a reconcile)
    /// may arrive while a call is out, as the shell allows: the answer then meets a grant
    /// that moved on. The rules must hold, and a revocation must never be dropped.
    @Test func rulesHoldWhenRequestsOvertakeACallOut() {
        var reached = Set<GrantState>()
        walk(seed: 1_042, interleaving: true) { before, event, after, now in
            reached.insert(after.grant.state)
            check(before: before, after: after, now: now)
            // Out of `revoking` only by the deletion, its failure for good, the token's end,
            // or finding there is nothing (of this grant) to delete.
            if before.state == .revoking, after.grant.state != .revoking {
                #expect(
                    [.revoked, .revokePending, .irrevocable, .awaitingKey].contains(after.grant.state),
                    "revoking left for \(after.grant.state) on \(event.name)")
                if after.grant.state == .awaitingKey {
                    #expect(before.resumeAfterDeletion, "a revocation was dropped on \(event.name)")
                }
            }
        }
        #expect(reached == Set(GrantState.allCases))
    }

    /// 3,000 walks of 80 events each, the same ones for the same seed; `visit` sees every
    /// transition with the grant before it, the event that caused it and the time. With
    /// `interleaving`, one time in four a request from outside arrives while a call is out;
    /// a call its transition asks for then is not made (one call out per grant), and the
    /// grant's deadline makes it later.
    func walk(seed: UInt64, interleaving: Bool = false, visit: (Grant, GrantEvent, Transition, Date) -> Void) {
        let engine = Lifecycle()
        var rng = SplitMix(state: seed)
        for _ in 0..<3_000 {
            var grant = Grant(user: "u", now: Walk.t0)
            var now = Walk.t0
            var inFlight: Call?
            for _ in 0..<80 {
                let event: GrantEvent
                let overtaking = interleaving && inFlight != nil && Int.random(in: 0..<4, using: &rng) == 0
                if let call = inFlight, !overtaking {
                    now = now.addingTimeInterval(Double.random(in: 0...2, using: &rng))
                    event = outcome(of: call, &rng)
                } else if overtaking {
                    event = request(&rng, now: now)
                } else {
                    event = external(&rng, grant: grant, now: &now)
                }
                let before = grant
                let t = engine.transition(grant, on: event, at: now, roll: Double.random(in: 0..<1, using: &rng))
                grant = t.grant
                if overtaking {
                    // The call out keeps going; its answer comes next, to the moved-on grant.
                } else {
                    inFlight = t.call
                }
                visit(before, event, t, now)
            }
        }
    }

    /// A request from outside, at `now`.
    func request(_ rng: inout SplitMix, now: Date) -> GrantEvent {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: .authorizationReceived(Walk.authorization(at: now))
        case 1: .revokeRequested(reason: "r")
        default: .reconcileRequested
        }
    }

    func check(before: Grant, after t: Transition, now: Date) {
        let g = t.grant
        // A secret is only ever fetched for the key being secured, with a token held.
        if case .fetchSecret(let id)? = t.call {
            #expect(g.state == .securing && g.externalID == id && g.tokenExpiresAt != nil)
        }
        // Deletions are of the doomed key and need a token.
        if case .deleteKey(let id)? = t.call {
            #expect(g.doomedKey == id && g.tokenExpiresAt != nil)
        }
        if t.call == .keyInfo { #expect(g.tokenExpiresAt != nil) }
        // Only a key whose secret is sealed is checked, and only the grant's own key.
        if case .checkKey(let id, _)? = t.call {
            #expect(g.hasSecret && g.externalID == id)
        }
        // A planned check is for a key with a sealed secret.
        if g.probeAt != nil { #expect(g.hasSecret && g.externalID != nil) }
        // A wiped token leaves no expiry behind; a secret is only held for a known key.
        if t.wipeToken { #expect(g.tokenExpiresAt == nil && before.tokenExpiresAt != nil) }
        if t.wipeSecret { #expect(before.hasSecret && !g.hasSecret) }
        // States that need a token to make progress have one or will be moved on by expiry.
        if [.awaitingKey, .securing, .revoking].contains(g.state) { #expect(g.tokenExpiresAt != nil) }
        // Deadlines set by this transition are never in the past.
        for (old, new) in [(before.stepAt, g.stepAt), (before.exchangeAt, g.exchangeAt), (before.tokenExpiresAt, g.tokenExpiresAt), (before.probeAt, g.probeAt)] {
            if let new, new != old { #expect(new >= now) }
        }
        // Losing a secret is always audited.
        if before.hasSecret && !g.hasSecret {
            #expect(t.audit.contains { [.keyGone, .keyRevoked].contains($0.event) })
        }
    }
}
