import Foundation
import Testing
@testable import GrantLifecycle

@Suite struct ReconcileTests {
    func active() -> Walk {
        var walk = Walk()
        walk.activate("key-1")
        return walk
    }

    @Test func sameKeyChangesNothingButTheNextReconcile() {
        var walk = active()
        #expect(walk.fireNextDeadline().call == .keyInfo)
        let t = walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")), roll: 0)
        #expect(t.grant.state == .active)
        #expect(t.audit.isEmpty)
        #expect(walk.seconds(until: t.grant.stepAt) == 810)
    }

    @Test func disabledUpstreamIsDrift() {
        var walk = active()
        walk.fireNextDeadline()
        let t = walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: false, externalID: "key-1")))
        #expect(t.grant.state == .disabled)
        #expect(t.audit.map(\.event) == [.keyDisabled, .reconcileDrift])
        #expect(t.grant.hasSecret)
        walk.fireNextDeadline()
        let back = walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")))
        #expect(back.grant.state == .active)
        #expect(back.audit.map(\.event) == [.reconcileDrift])
    }

    @Test func vanishedKeyIsGoneAndItsSecretWiped() {
        var walk = active()
        walk.fireNextDeadline()
        let t = walk.on(.keyInfo(KeyInfo(exists: false, isEnabled: false, externalID: nil)))
        #expect(t.grant.state == .gone)
        #expect(t.wipeSecret)
        #expect(!t.grant.hasSecret)
        #expect(t.audit.map(\.event) == [.keyGone, .reconcileDrift])
        #expect(t.grant.stepAt == nil)
    }

    @Test func anotherKeyMeansTheOldIsGoneAndTheNewIsSecured() {
        var walk = active()
        walk.fireNextDeadline()
        let t = walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-2")))
        #expect(t.grant.state == .securing)
        #expect(t.grant.externalID == "key-2")
        #expect(t.wipeSecret)
        #expect(t.audit.map(\.event) == [.reconcileDrift, .keyGone, .keyDetected])
        #expect(t.audit[1].externalID == "key-1")
        #expect(walk.on(.due).call == .fetchSecret(externalID: "key-2"))
    }

    @Test func theFinalPassIsTheMarginBeforeExpiryAndTheLastOne() {
        var walk = active()
        let expiry = walk.grant.tokenExpiresAt!
        var passes: [Date] = []
        while let next = walk.grant.stepAt {
            walk.now = next
            passes.append(next)
            #expect(walk.on(.due).call == .keyInfo)
            walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")))
        }
        #expect(passes.last == expiry.addingTimeInterval(-300))
        #expect(passes.count >= 15 && passes.count <= 17)
        walk.now = expiry
        let t = walk.on(.due)
        #expect(t.grant.state == .dormant)
        #expect(t.wipeToken)
        #expect(t.grant.hasSecret)
        #expect(t.grant.nextDeadline == nil)
    }

    @Test func unauthorizedOnInfoEndsTheTokenEarly() {
        var walk = active()
        walk.fireNextDeadline()
        let t = walk.on(.keyInfoFailed(.unauthorized))
        #expect(t.grant.state == .dormant)
        #expect(t.audit.first?.detail["reason"] == "rejected")
        #expect(t.wipeToken)
    }

    @Test func transientInfoFailureRetriesSoon() {
        var walk = active()
        walk.fireNextDeadline()
        let t = walk.on(.keyInfoFailed(.transient("timeout")), roll: 0)
        #expect(t.grant.state == .active)
        #expect(walk.seconds(until: t.grant.stepAt) == 1)
    }

    @Test func reconcileRequestedRunsNowOnlyWithALiveToken() {
        var walk = active()
        #expect(walk.on(.reconcileRequested).grant.stepAt == walk.now)
        walk.now = walk.grant.tokenExpiresAt!
        walk.on(.due)
        #expect(walk.on(.reconcileRequested).grant.stepAt == nil)
    }

    @Test func reconsentOfADormantGrantFindsItsKeyWithoutFetchingAgain() {
        var walk = active()
        walk.now = walk.grant.tokenExpiresAt!
        walk.on(.due)
        #expect(walk.grant.state == .dormant)
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        #expect(walk.grant.state == .dormant)
        #expect(walk.on(.due).call == .exchangeToken)
        walk.on(.tokenExchanged(token: Walk.token, expiresIn: .seconds(14_400)))
        #expect(walk.grant.state == .awaitingKey)
        walk.on(.due)
        let t = walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")))
        #expect(t.grant.state == .active)
        #expect(t.call == nil)
        #expect(t.grant.hasSecret)
    }

    @Test func reconsentWhoseOldKeyVanishedWaitsForANewOne() {
        var walk = active()
        walk.now = walk.grant.tokenExpiresAt!
        walk.on(.due)
        walk.exchange()
        walk.on(.due)
        let t = walk.on(.keyInfo(KeyInfo(exists: false, isEnabled: false, externalID: nil)))
        #expect(t.grant.state == .awaitingKey)
        #expect(t.wipeSecret)
        #expect(t.audit.map(\.event) == [.keyGone])
        #expect(t.grant.externalID == nil)
    }

    @Test func aFailedReconsentKeepsTheActiveGrant() {
        var walk = active()
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        walk.on(.due)
        let t = walk.on(.tokenExchangeFailed(.unauthorized))
        #expect(t.grant.state == .active)
        #expect(t.grant.hasSecret)
        #expect(t.audit.map(\.event) == [.tokenExchangeFailed])
    }
}
