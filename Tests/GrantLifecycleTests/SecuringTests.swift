import Foundation
import Testing
@testable import GrantLifecycle

/// The once-only secret (docs/design.md §5): 409, the 423 ladder, 404, 403, 401, transport.
@Suite struct SecuringTests {
    func securing() -> Walk {
        var walk = Walk()
        walk.exchange()
        walk.on(.due)
        walk.on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")))
        walk.on(.due)
        #expect(walk.grant.state == .securing)
        return walk
    }

    @Test func conflictMeansLostAndTheKeyIsDeletedWhileTheTokenLives() {
        var walk = securing()
        let t = walk.on(.secretFetchFailed(.alreadyRetrieved))
        #expect(t.grant.state == .lost)
        #expect(t.grant.doomedKey == "key-1")
        #expect(t.audit.map(\.event) == [.secretLost])
        #expect(walk.on(.due).call == .deleteKey(externalID: "key-1"))
        let done = walk.on(.keyDeleted(alreadyGone: false))
        #expect(done.grant.state == .lost)
        #expect(done.grant.doomedKey == nil)
        #expect(done.audit.map(\.event) == [.keyRevoked])
        #expect(done.grant.stepAt == nil)
    }

    @Test func lockedFollowsTheLadderThenGivesUpAsLost() {
        var walk = securing()
        var waits: [Double] = []
        while true {
            let t = walk.on(.secretFetchFailed(.locked))
            guard t.grant.state == .securing else { break }
            waits.append(walk.seconds(until: t.grant.stepAt)!)
            #expect(walk.fireNextDeadline().call == .fetchSecret(externalID: "key-1"))
        }
        #expect(waits == [5, 10, 20, 40, 60, 60, 60])
        #expect(walk.grant.state == .lost)
        #expect(walk.grant.reason == "secret_lost")
        #expect(walk.last.audit.first?.detail["reason"]?.contains("423") == true)
    }

    /// A chaos run saw 10.6 s and 20 s waits after a 5xx or a reset between two 423s: the
    /// transient retry had climbed the lock ladder. Each cause keeps its own ladder.
    @Test(arguments: [CallFailure.transient("HTTP 502"), .transient("connection reset"), .rejected("HTTP 429")])
    func aTransientFailureBetweenLocksDoesNotStretchTheLockLadder(between: CallFailure) {
        var walk = securing()
        var waits: [Double] = []
        for _ in 0..<3 {
            let locked = walk.on(.secretFetchFailed(.locked))
            waits.append(walk.seconds(until: locked.grant.stepAt)!)
            #expect(walk.fireNextDeadline().call == .fetchSecret(externalID: "key-1"))
            let transient = walk.on(.secretFetchFailed(between), roll: 0)
            #expect(transient.grant.state == .securing)
            #expect(walk.fireNextDeadline().call == .fetchSecret(externalID: "key-1"))
        }
        #expect(waits == [5, 10, 20])
        #expect(walk.grant.lockAttempts == 3)
        #expect(walk.grant.stepAttempts == 3)
    }

    @Test func theLockLadderBudgetRunsFromTheFirstLock() {
        var walk = securing()
        // Transient failures for four minutes before the first 423 do not use up its 5 minutes.
        for _ in 0..<8 {
            walk.on(.secretFetchFailed(.transient("HTTP 503")), roll: 0)
            walk.advance(30)
            walk.on(.due)
        }
        var waits: [Double] = []
        while true {
            let t = walk.on(.secretFetchFailed(.locked))
            guard t.grant.state == .securing else { break }
            waits.append(walk.seconds(until: t.grant.stepAt)!)
            walk.fireNextDeadline()
        }
        #expect(waits == [5, 10, 20, 40, 60, 60, 60])
        #expect(walk.grant.state == .lost)
    }

    @Test func leavingSecuringResetsTheLockLadder() {
        var walk = securing()
        walk.on(.secretFetchFailed(.locked))
        walk.fireNextDeadline()
        let t = walk.on(.secretFetchFailed(.notFound))
        #expect(t.grant.state == .awaitingKey)
        #expect(t.grant.lockAttempts == 0)
        #expect(t.grant.lockStartedAt == nil)
    }

    @Test func notFoundGoesBackToInfo() {
        var walk = securing()
        let t = walk.on(.secretFetchFailed(.notFound))
        #expect(t.grant.state == .awaitingKey)
        #expect(walk.on(.due).call == .keyInfo)
    }

    @Test func forbiddenMeansTheKeyIsNotOurs() {
        var walk = securing()
        let t = walk.on(.secretFetchFailed(.forbidden))
        #expect(t.grant.state == .failed)
        #expect(t.grant.reason?.hasPrefix("key_not_ours") == true)
        #expect(t.grant.stepAt == nil)
    }

    @Test func transportFailureRetriesAndAConflictAfterItIsLost() {
        var walk = securing()
        let t = walk.on(.secretFetchFailed(.transient("connection closed without an answer")))
        #expect(t.grant.state == .securing)
        #expect(t.grant.stepAttempts == 1)
        #expect(walk.fireNextDeadline().call == .fetchSecret(externalID: "key-1"))
        #expect(walk.on(.secretFetchFailed(.alreadyRetrieved)).grant.state == .lost)
    }

    @Test func unauthorizedEndsTheTokenAndPostponesTheDeletion() {
        var walk = securing()
        let t = walk.on(.secretFetchFailed(.unauthorized))
        #expect(t.grant.state == .revokePending)
        #expect(t.grant.reason == "secret_lost")
        #expect(t.grant.doomedKey == "key-1")
        #expect(t.wipeToken)
        #expect(t.audit.map(\.event) == [.tokenExpired, .secretLost])
        #expect(t.audit.first?.detail["reason"] == "rejected")
    }

    @Test func tokenEndingWhileSecuringPostponesTheDeletion() {
        var walk = securing()
        walk.on(.secretFetchFailed(.locked))
        walk.now = walk.grant.tokenExpiresAt!
        let t = walk.on(.due)
        #expect(t.grant.state == .revokePending)
        #expect(t.grant.doomedKey == "key-1")
        #expect(t.audit.map(\.event) == [.tokenExpired, .secretLost])
    }

    @Test func aSecretArrivingInAnyStateIsNeverForgotten() {
        var walk = securing()
        walk.on(.revokeRequested(reason: "operator"))
        let t = walk.on(.secretFetched(Walk.secret, externalID: "key-1"))
        #expect(t.grant.hasSecret)
        #expect(t.grant.state == .revoking)
    }
}
