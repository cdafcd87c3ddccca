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
        #expect(t.audit.isEmpty)
    }
}
