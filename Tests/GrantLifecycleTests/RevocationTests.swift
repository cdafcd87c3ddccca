import Foundation
import Testing
@testable import GrantLifecycle

@Suite struct RevocationTests {
    func revoking() -> Walk {
        var walk = Walk()
        walk.activate("key-1")
        let t = walk.on(.revokeRequested(reason: "user disconnected"))
        #expect(t.grant.state == .revoking)
        #expect(t.grant.doomedKey == "key-1")
        #expect(t.audit.map(\.event) == [.revokeRequested])
        #expect(t.audit.first?.detail["outcome"] == "deleting")
        return walk
    }

    @Test func deletionEndsRevokedWithTheSecretWiped() {
        var walk = revoking()
        #expect(walk.on(.due).call == .deleteKey(externalID: "key-1"))
        let t = walk.on(.keyDeleted(alreadyGone: false))
        #expect(t.grant.state == .revoked)
        #expect(t.wipeSecret)
        #expect(t.audit.map(\.event) == [.keyRevoked])
        #expect(t.grant.reason == "user disconnected")
    }

    @Test func notFoundCountsAsDone() {
        var walk = revoking()
        walk.on(.due)
        let t = walk.on(.keyDeletionFailed(.notFound))
        #expect(t.grant.state == .revoked)
        #expect(t.audit.first?.detail["result"] == "already gone (404)")
    }

    @Test func forbiddenIsPermanent() {
        var walk = revoking()
        walk.on(.due)
        let t = walk.on(.keyDeletionFailed(.forbidden))
        #expect(t.grant.state == .irrevocable)
        #expect(t.audit.map(\.event) == [.keyRevokeFailed])
        #expect(t.audit.first?.detail["permanent"] == "true")
        #expect(t.grant.stepAt == nil)
    }

    @Test func transientFailuresRetryWithAPersistedCountAndThinnedAudit() {
        var walk = revoking()
        var audited: [Int] = []
        for attempt in 1...9 {
            #expect(walk.fireNextDeadline().call == .deleteKey(externalID: "key-1"))
            let t = walk.on(.keyDeletionFailed(.transient("503 from WhiteBIT")))
            #expect(t.grant.state == .revoking)
            #expect(t.grant.stepAttempts == attempt)
            #expect(t.grant.reason == "user disconnected")
            if !t.audit.isEmpty { audited.append(attempt) }
        }
        #expect(audited == [1, 2, 4, 8])
    }

    @Test func tokenEndingWhileRevokingPostponesIt() {
        var walk = revoking()
        walk.now = walk.grant.tokenExpiresAt!
        let t = walk.on(.due)
        #expect(t.grant.state == .revokePending)
        #expect(t.grant.doomedKey == "key-1")
    }

    @Test func revokePendingDeletesTheOldKeyWithTheNextTokenThenCarriesOn() {
        var walk = Walk()
        walk.activate("key-1")
        walk.now = walk.grant.tokenExpiresAt!
        walk.on(.due)
        let pending = walk.on(.revokeRequested(reason: "user disconnected"))
        #expect(pending.grant.state == .revokePending)
        #expect(pending.audit.first?.detail["outcome"] == "postponed until the user's next token")
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        #expect(walk.grant.state == .revokePending)
        walk.on(.due)
        let token = walk.on(.tokenExchanged(token: Walk.token, expiresIn: nil))
        #expect(token.grant.state == .revoking)
        #expect(walk.on(.due).call == .deleteKey(externalID: "key-1"))
        let deleted = walk.on(.keyDeleted(alreadyGone: false))
        #expect(deleted.grant.state == .awaitingKey)
        #expect(deleted.grant.externalID == nil)
        #expect(walk.on(.due).call == .keyInfo)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-2")))
        #expect(walk.grant.state == .securing)
    }

    @Test func revokeBeforeTheExchangeFindsTheKeyAndDeletesIt() {
        var walk = Walk()
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        let t = walk.on(.revokeRequested(reason: "fraud"))
        #expect(t.grant.state == .revokePending)
        walk.on(.due)
        walk.on(.tokenExchanged(token: Walk.token, expiresIn: nil))
        #expect(walk.grant.state == .revoking)
        #expect(walk.on(.due).call == .keyInfo)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-9")))
        #expect(walk.on(.due).call == .deleteKey(externalID: "key-9"))
        #expect(walk.on(.keyDeleted(alreadyGone: false)).grant.state == .revoked)
    }

    @Test func revokeBeforeTheExchangePollsForTheKeyTheUserIsStillCreating() {
        var walk = Walk()
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        walk.on(.revokeRequested(reason: "fraud"))
        walk.on(.due)
        walk.on(.tokenExchanged(token: Walk.token, expiresIn: nil))
        #expect(walk.on(.due).call == .keyInfo)
        walk.on(.keyInfo(KeyInfo(exists: false, isEnabled: false, externalID: nil)))
        #expect(walk.grant.state == .revoking)
        #expect(walk.seconds(until: walk.grant.stepAt) == 2, "polled like awaiting_key, not at the next reconcile")
        walk.advance(2)
        #expect(walk.on(.due).call == .keyInfo)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-late")))
        #expect(walk.on(.due).call == .deleteKey(externalID: "key-late"))
    }

    @Test func revokeWhileNoKeyEverAppearsEndsRevokedAtExpiry() {
        var walk = Walk()
        walk.exchange(expiresIn: .seconds(60))
        walk.on(.revokeRequested(reason: "fraud"))
        #expect(walk.grant.state == .revoking)
        walk.on(.due)
        walk.on(.keyInfo(KeyInfo(exists: false, isEnabled: false, externalID: nil)))
        #expect(walk.grant.stepAt != nil)
        walk.now = walk.grant.tokenExpiresAt!
        #expect(walk.on(.due).grant.state == .revoked)
    }

    /// A failed grant may still have a key upstream (the user created it on the consent
    /// screen; or its secret was refused with 403): the revocation waits for the next token.
    @Test func aFailedGrantWithoutTokenBecomesRevokePending() {
        var walk = Walk()
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        walk.on(.due)
        walk.on(.tokenExchangeFailed(.rejected("HTTP 400 invalid grant")))
        #expect(walk.grant.state == .failed)
        let t = walk.on(.revokeRequested(reason: "user disconnected"))
        #expect(t.grant.state == .revokePending)
        #expect(t.grant.reason == "user disconnected")
        #expect(t.audit.first?.detail["outcome"] == "postponed until the user's next token")
        // The next authorization's token finds the key and deletes it first.
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        walk.on(.due)
        walk.on(.tokenExchanged(token: Walk.token, expiresIn: .seconds(14_400)))
        #expect(walk.grant.state == .revoking)
        #expect(walk.on(.due).call == .keyInfo)
    }

    @Test func aFailedGrantWhoseSecretWasRefusedKeepsItsKeyForDeletion() {
        var walk = Walk()
        walk.exchange()
        walk.on(.due)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")))
        walk.on(.due)
        walk.on(.secretFetchFailed(.forbidden))
        #expect(walk.grant.state == .failed)
        // With the token still alive the deletion runs now.
        let live = walk.on(.revokeRequested(reason: "operator"))
        #expect(live.grant.state == .revoking)
        #expect(walk.on(.due).call == .deleteKey(externalID: "key-1"))
    }

    @Test(arguments: [GrantState.revoked, .gone, .noKey])
    func nothingToDeleteLeavesTheStateAlone(state: GrantState) {
        var walk = Walk(state: state)
        let t = walk.on(.revokeRequested(reason: "x"))
        #expect(t.grant.state == state)
        #expect(t.audit.first?.detail["outcome"] == "nothing to delete")
    }

    @Test func disabledKeysCannotBeDeletedByUs() {
        var walk = Walk()
        walk.exchange()
        walk.on(.due)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: false, externalID: "key-1")))
        let t = walk.on(.revokeRequested(reason: "x"))
        #expect(t.grant.state == .disabled)
        #expect(t.audit.first?.detail["outcome"]?.hasPrefix("refused") == true)
    }

    @Test func secondRevokeIsAlreadyUnderWay() {
        var walk = revoking()
        let t = walk.on(.revokeRequested(reason: "again"))
        #expect(t.grant.state == .revoking)
        #expect(t.audit.first?.detail["outcome"] == "already under way")
    }

    @Test func lostWithDeletionPendingBecomesRevokePendingAtExpiry() {
        var walk = Walk()
        walk.exchange()
        walk.on(.due)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")))
        walk.on(.due)
        walk.on(.secretFetchFailed(.alreadyRetrieved))
        walk.on(.due)
        walk.on(.keyDeletionFailed(.transient("timeout")))
        walk.now = walk.grant.tokenExpiresAt!
        let t = walk.on(.due)
        #expect(t.grant.state == .revokePending)
        #expect(t.grant.reason == "secret_lost")
    }

    @Test(arguments: [GrantState.revoked, .gone, .noKey, .failed, .lost])
    func finishedGrantsRestartOnANewAuthorization(state: GrantState) {
        var walk = Walk(state: state)
        let t = walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        #expect(t.grant.state == .pending)
    }
}
