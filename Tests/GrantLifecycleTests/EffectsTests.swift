import Foundation
import Sensitive
import Testing
@testable import GrantLifecycle

/// Every effect of a decision is in its transition (what to keep, wipe and make durable),
/// so that the store applies one value in one commit and the shell adds nothing.
@Suite struct EffectsTests {
    @Test func anAuthorizationKeepsItsCodeAndVerifier() {
        var walk = Walk()
        let t = walk.on(.authorizationReceived(Walk.authorization(at: walk.now)))
        #expect(t.keep == [.authorization(code: Sensitive("code-of-the-walk"), verifier: Sensitive("verifier"))])
        #expect(!t.wipeAuthorization)
    }

    @Test func aCodeTooOldAtIntakeIsNotKeptAtAll() {
        var walk = Walk()
        let t = walk.on(.authorizationReceived(Walk.authorization(at: walk.now.addingTimeInterval(-601))))
        #expect(t.keep.isEmpty)
        #expect(t.wipeAuthorization)
    }

    @Test func anExchangedTokenIsKeptAndTheSpentCodeWiped() {
        var walk = Walk()
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now)))
        let t = walk.on(.tokenExchanged(token: Walk.token, expiresIn: .seconds(14_400)))
        #expect(t.keep == [.token(Walk.token)])
        #expect(t.wipeAuthorization)
    }

    @Test func aFailedExchangeForGoodWipesTheAuthorizationAndKeepsNothing() {
        var walk = Walk()
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now)))
        let t = walk.on(.tokenExchangeFailed(.rejected("invalid_grant")))
        #expect(t.keep.isEmpty)
        #expect(t.wipeAuthorization)
        #expect(t.grant.state == .failed)
    }

    @Test func aFetchedSecretIsKeptWithItsKey() {
        var walk = Walk()
        walk.exchange()
        walk.on(.due)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-9")))
        walk.on(.due)
        let t = walk.on(.secretFetched(Walk.secret, externalID: "key-9"))
        #expect(t.keep == [.secret(Walk.secret, externalID: "key-9")])
        #expect(t.grant.hasSecret)
    }

    @Test func aKeyChecksNoncesBecomeDurableEvenWhenTheCheckNoLongerCounts() {
        var walk = Walk()
        walk.activate("key-1")
        let marks = [NonceMark(key: "key-1", nonce: 1_800_000_000_123)]
        // A report about another key says nothing about this grant, but its nonces were spent.
        let t = walk.on(.keyChecked(KeyCheckReport(externalID: "key-other", outcome: .ok, nonceMarks: marks)))
        #expect(t.nonceMarks == marks)
        #expect(t.audit.map(\.event) == [.eventIgnored])
        #expect(t.grant.keyCheckedAt == walk.grant.keyCheckedAt)
    }
}

/// An event that changes nothing in the grant's state is recorded, never dropped.
@Suite struct IgnoredEventTests {
    @Test func aStaleAnswerIsAuditedAsIgnored() {
        var walk = Walk()
        walk.activate("key-1")
        walk.on(.revokeRequested(reason: "closing"))
        // The revocation's DELETE waits for the call out, whose late answer comes back:
        // ignored, and the DELETE it held up goes out now.
        let t = walk.on(.secretFetchFailed(.transient("late")))
        #expect(t.audit == [AuditNote(.eventIgnored, externalID: "key-1", detail: ["event": "secret_fetch_failed", "state": "revoking"])])
        #expect(t.call == .deleteKey(externalID: "key-1"))
    }

    /// A secret fetch still out when the partner revoked: its late 404 must not pull the
    /// grant back into the acquisition (the revocation would be lost and the key kept).
    @Test func aLateSecretFetchAnswerLeavesARevocationAlone() {
        var walk = Walk()
        walk.exchange()
        walk.on(.due)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")))
        #expect(walk.grant.state == .securing)
        walk.on(.revokeRequested(reason: "closing"))
        #expect(walk.grant.state == .revoking)
        for late in [CallFailure.notFound, .forbidden, .locked, .alreadyRetrieved, .transient("t")] {
            let before = walk.grant
            let t = walk.on(.secretFetchFailed(late))
            #expect(t.grant.state == .revoking && t.grant.doomedKey == "key-1" && t.grant.stepAt == before.stepAt, "\(late)")
            #expect(t.audit.map(\.event) == [.eventIgnored])
            #expect(t.call == .deleteKey(externalID: "key-1"))
        }
        // A rejected token is a fact in any state.
        #expect(walk.on(.secretFetchFailed(.unauthorized)).grant.state == .revokePending)
    }

    @Test func aLateInfoOrDeleteFailureLeavesOtherStatesAlone() {
        var walk = Walk()
        walk.activate("key-1")
        walk.on(.revokeRequested(reason: "closing"))
        let info = walk.on(.keyInfoFailed(.transient("late")))
        #expect(info.grant.state == .revoking && info.audit.map(\.event) == [.eventIgnored])
        var active = Walk()
        active.activate("key-2")
        let delete = active.on(.keyDeletionFailed(.forbidden))
        #expect(delete.grant.state == .active && delete.audit.map(\.event) == [.eventIgnored])
    }

    @Test func aDeadlineWithNothingDueAndAnEmptyReconcileAreRoutine() {
        var walk = Walk()
        walk.activate("key-1")
        walk.on(.keyDeletionFailed(.transient("x")))
        #expect(walk.audits.last == .eventIgnored)
        let due = walk.on(.due)
        #expect(due.audit.isEmpty)
        walk.advance(20_000)
        walk.fireNextDeadline()
        let reconcile = walk.on(.reconcileRequested)
        #expect(reconcile.audit.isEmpty)
    }

    @Test func everyIgnoredEventNamesOnlyTheEventAndTheState() {
        InvariantTests().walk(seed: 7) { before, event, after, _ in
            for note in after.audit where note.event == .eventIgnored {
                #expect(note.detail == ["event": event.name, "state": before.state.rawValue])
                #expect(after.keep.isEmpty, "an event that keeps something is not ignored")
            }
        }
    }
}
