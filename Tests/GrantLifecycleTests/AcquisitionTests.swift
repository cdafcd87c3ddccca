import Foundation
import Testing
@testable import GrantLifecycle

@Suite struct AcquisitionTests {
    @Test func authorizationStartsPendingWithAnExchangeDueNow() {
        var walk = Walk()
        let t = walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: "pub-1")))
        #expect(t.grant.state == .pending)
        #expect(t.grant.exchangeAt == walk.now)
        #expect(t.grant.apiKey == "pub-1")
        // The exchange is due at once: the transition carries it, to be made after the commit.
        #expect(t.call == .exchangeToken)
    }

    @Test func codeOlderThanMaxAgeFailsWithoutACall() {
        var walk = Walk()
        // The exchange is due at once, so the authorization's own transition finds the code too old.
        let t = walk.on(.authorizationReceived(Walk.authorization(at: walk.now.addingTimeInterval(-601), apiKey: nil)))
        #expect(t.call == nil)
        #expect(t.grant.state == .failed)
        #expect(t.audit.map(\.event) == [.tokenExchangeFailed])
        #expect(t.grant.reason?.contains("expired") == true)
        // The code and verifier are of no more use: cleared in the same commit.
        #expect(t.wipeAuthorization)
    }

    @Test func exchangeStartsPollingWithTheReportedLifetime() {
        var walk = Walk()
        walk.exchange(expiresIn: .seconds(14_400))
        #expect(walk.grant.state == .awaitingKey)
        #expect(walk.seconds(until: walk.grant.tokenExpiresAt) == 14_400)
        #expect(walk.seconds(until: walk.grant.pollUntil) == 30)
        #expect(walk.grant.stepAt == walk.now)
        #expect(walk.grant.exchangeAt == nil)
        #expect(walk.last.audit.map(\.event) == [.tokenExchanged])
        #expect(walk.on(.due).call == .keyInfo)
    }

    @Test(arguments: [
        (nil, 14_400.0), (Duration.milliseconds(100), 1.0), (.seconds(0), 1.0), (.seconds(30), 30.0), (.seconds(200_000), 86_400.0),
    ] as [(Duration?, Double)])
    func tokenLifetimeIsDefaultedAndClamped(expiresIn: Duration?, expected: Double) {
        var walk = Walk()
        walk.exchange(expiresIn: expiresIn)
        #expect(walk.seconds(until: walk.grant.tokenExpiresAt) == expected)
    }

    @Test(arguments: [CallFailure.unauthorized, .rejected("422 code: validation.invalid"), .forbidden])
    func refusedExchangeFailsAPendingGrant(failure: CallFailure) {
        var walk = Walk()
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        walk.on(.due)
        let t = walk.on(.tokenExchangeFailed(failure))
        #expect(t.grant.state == .failed)
        #expect(t.grant.exchangeAt == nil)
        #expect(t.audit.map(\.event) == [.tokenExchangeFailed])
    }

    @Test func transientExchangeFailureRetriesUntilTheCodeIsTooOld() {
        var walk = Walk()
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        walk.on(.due)
        var retries = 0
        while walk.grant.state == .pending {
            let t = walk.on(.tokenExchangeFailed(.transient("503 from WhiteBIT")))
            guard t.grant.state == .pending else { break }
            retries += 1
            #expect(t.grant.exchangeAttempts == retries)
            #expect(walk.fireNextDeadline().call == .exchangeToken)
            #expect(retries < 100)
        }
        #expect(walk.grant.state == .failed)
        #expect(walk.grant.reason?.contains("unreachable") == true)
        #expect(retries > 5)
        #expect(walk.now.timeIntervalSince(Walk.t0) <= 600)
    }

    @Test func pollsInfoEveryIntervalForTheBudgetThenAtReconcile() {
        var walk = Walk()
        walk.exchange()
        var polls: [Double] = []
        for _ in 0..<20 {
            #expect(walk.fireNextDeadline().call == .keyInfo)
            let t = walk.on(.keyInfo(KeyInfo(exists: false, isEnabled: false, externalID: nil)))
            guard let next = walk.seconds(until: t.grant.stepAt) else { break }
            polls.append(next)
            if next > 2 { break }
        }
        #expect(polls.prefix(15).allSatisfy { $0 == 2 })
        #expect(polls.count == 16)
        // After the 30 s budget the next look is a (jittered) reconcile.
        #expect(polls.last! >= 0.9 * 900 && polls.last! <= 1.1 * 900)
        #expect(walk.grant.state == .awaitingKey)
    }

    @Test func keySeenMovesToSecuringWithIntentBeforeTheFetch() {
        var walk = Walk()
        walk.exchange()
        walk.on(.due)
        let t = walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")))
        #expect(t.grant.state == .securing)
        #expect(t.grant.externalID == "key-1")
        #expect(t.audit.map(\.event) == [.keyDetected])
        // The intent (securing) and the fetch it leads to are one decision: the shell commits
        // the intent, then makes the call.
        #expect(t.call == .fetchSecret(externalID: "key-1"))
        #expect(t.grant.stepAt == walk.now, "the intent is durable: a restart makes the call again")
    }

    @Test func secretFetchedMakesTheGrantActive() {
        var walk = Walk()
        walk.activate()
        #expect(walk.grant.state == .active)
        #expect(walk.grant.hasSecret)
        #expect(walk.last.audit.map(\.event) == [.secretSecured])
        let next = walk.seconds(until: walk.grant.stepAt)!
        #expect(next >= 810 && next <= 990)
    }

    @Test func disabledKeyOnFirstSightIsDisabled() {
        var walk = Walk()
        walk.exchange()
        walk.on(.due)
        let t = walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: false, externalID: "key-1")))
        #expect(t.grant.state == .disabled)
        #expect(t.audit.map(\.event) == [.keyDisabled])
    }

    @Test func noKeyWhileTheTokenLivedEndsInNoKey() {
        var walk = Walk()
        walk.exchange(expiresIn: .seconds(60))
        walk.now = walk.grant.tokenExpiresAt!
        let t = walk.on(.due)
        #expect(t.grant.state == .noKey)
        #expect(t.wipeToken)
        #expect(t.grant.tokenExpiresAt == nil)
        #expect(t.audit.map(\.event) == [.tokenExpired, .keyNotCreated])
        #expect(t.grant.nextDeadline == nil)
    }

    /// Issue 12 item 10: an `api_key` in a later file must not replace the public key of a
    /// key whose secret is held; it is taken when the grant starts over.
    @Test func aLaterAuthorizationDoesNotReplaceTheApiKeyOfASecuredKey() {
        var walk = Walk()
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: "pub-1")))
        walk.on(.due)
        walk.on(.tokenExchanged(token: Walk.token, expiresIn: .seconds(14_400)))
        walk.on(.due)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")))
        walk.on(.due)
        walk.on(.secretFetched(Walk.secret, externalID: "key-1"))
        #expect(walk.grant.state == .active && walk.grant.apiKey == "pub-1")

        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: "pub-other")))
        #expect(walk.grant.apiKey == "pub-1")

        var failed = Walk(state: .failed)
        failed.on(.authorizationReceived(Walk.authorization(at: failed.now, apiKey: "pub-2")))
        #expect(failed.grant.state == .pending && failed.grant.apiKey == "pub-2")
    }

    /// Issue 12 item 14b: a key that another grant holds is not fetched, and not deleted.
    @Test func aKeyHeldByAnotherGrantFailsThisOneWithoutACall() {
        var walk = Walk()
        walk.exchange()
        walk.on(.due)
        let t = walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1", heldByOtherUser: "u-first")))
        #expect(t.call == nil)
        #expect(t.grant.state == .failed)
        #expect(t.grant.reason?.hasPrefix("key_held_by_another_grant") == true)
        #expect(t.grant.doomedKey == nil && t.grant.tokenExpiresAt == nil && t.wipeToken)
        #expect(t.audit.map(\.event) == [.keyDetected])
        #expect(walk.on(.due).call == nil)
    }
}
