import Foundation
import Testing
@testable import GrantLifecycle

/// Signed checks of the key (docs/design.md §12): verification right after the secret is
/// sealed, probes once no token watches the key.
@Suite struct KeyWatchTests {
    /// A walk with the shipped defaults: verification on, probes every 24 h.
    func watched() -> Walk {
        var walk = Walk()
        walk.policy = LifecyclePolicy()
        return walk
    }

    func ok(_ id: String = "key-1", _ identity: KeyIdentity = .externalID) -> GrantEvent {
        .keyChecked(KeyCheckReport(externalID: id, outcome: .ok, identity: identity))
    }

    @Test func aSealedSecretIsVerifiedAtOnce() {
        var walk = watched()
        walk.activate()
        walk.grant.apiKey = "pub-1"
        #expect(walk.grant.state == .active && walk.grant.probeAt == walk.now)
        let due = walk.on(.due)
        #expect(due.call == .checkKey(externalID: "key-1", identity: nil))
        let checked = walk.on(ok("key-1", .apiKey))
        #expect(checked.audit.map(\.event) == [.keyVerified])
        #expect(checked.audit.first?.detail == ["outcome": "ok", "identity": "api_key"])
        #expect(walk.grant.keyIdentity == .apiKey && walk.grant.signingIdentity == "pub-1")
        #expect(walk.grant.keyCheck == .ok && walk.grant.keyUsedAt == walk.now && walk.grant.keyCheckedAt == walk.now)
        #expect(walk.grant.probeAt == nil, "a live token watches the key: no probe")
    }

    @Test func withoutVerificationNoCheckIsPlannedWhileTheTokenLives() {
        var walk = watched()
        walk.policy.verifyKey = false
        walk.activate()
        #expect(walk.grant.probeAt == nil)
        #expect(walk.on(.due).call != .checkKey(externalID: "key-1", identity: nil))
    }

    @Test func aFailedVerificationIsAuditedAndChangesNothingWhileTheTokenLives() {
        var walk = watched()
        walk.activate()
        walk.on(.due)
        let t = walk.on(.keyChecked(KeyCheckReport(externalID: "key-1", outcome: .gone, message: "WhiteBIT said: x")))
        #expect(t.audit.map(\.event) == [.keyVerificationFailed])
        #expect(t.audit.first?.detail["whitebit"] == "WhiteBIT said: x")
        #expect(walk.grant.state == .active && walk.grant.hasSecret && walk.grant.keyUsedAt == nil)
    }

    /// The token ends: the key is dormant and probed one interval later (±10 %), and again
    /// after each healthy probe.
    @Test func aDormantKeyIsProbedEachInterval() {
        var walk = dormant()
        #expect(walk.grant.state == .dormant)
        let interval = LifecyclePolicy().probeInterval!.seconds
        #expect(walk.seconds(until: walk.grant.probeAt) == interval, "roll 0.5: the mean")
        let probe = walk.fireNextDeadline()
        #expect(probe.call == .checkKey(externalID: "key-1", identity: .externalID), "the proven identity alone")
        let healthy = walk.on(ok())
        #expect(healthy.audit.map(\.event) == [.keyProbed] && walk.grant.state == .dormant)
        #expect(walk.seconds(until: walk.grant.probeAt) == interval)
    }

    /// Verified while its token lived, then dormant at the token's end.
    func dormant() -> Walk {
        var walk = watched()
        walk.activate()
        walk.on(.due)
        walk.on(ok())
        walk.now = walk.grant.tokenExpiresAt!
        walk.on(.due)
        return walk
    }

    /// Dormant, with its first probe asked for.
    func dormantAndDue() -> Walk {
        var walk = dormant()
        walk.fireNextDeadline()
        return walk
    }

    @Test func aProbeThatFindsTheKeyDisabledMovesTheGrant() {
        var walk = dormantAndDue()
        let t = walk.on(.keyChecked(KeyCheckReport(externalID: "key-1", outcome: .disabled, identity: .externalID)))
        #expect(walk.grant.state == .disabled && t.audit.map(\.event) == [.keyProbed, .keyDisabled])
        #expect(walk.grant.hasSecret && walk.grant.probeAt != nil, "a disabled key may be enabled again: still probed")
        walk.fireNextDeadline()
        let enabled = walk.on(ok())
        #expect(walk.grant.state == .dormant && enabled.audit.map(\.event) == [.keyProbed, .reconcileDrift])
    }

    @Test func aProbeThatFindsTheKeyGoneWipesItsSecret() {
        var walk = dormantAndDue()
        let t = walk.on(.keyChecked(KeyCheckReport(externalID: "key-1", outcome: .gone, message: "401")))
        #expect(walk.grant.state == .gone && !walk.grant.hasSecret && t.wipeSecret)
        #expect(t.audit.map(\.event) == [.keyProbed, .keyGone])
        #expect(walk.grant.probeAt == nil)
    }

    @Test func aProbeWithoutAVerdictIsRetriedWithinTheHour() {
        var walk = dormantAndDue()
        walk.on(.keyChecked(KeyCheckReport(externalID: "key-1", outcome: .failed, message: "503")))
        #expect(walk.grant.state == .dormant)
        #expect(walk.seconds(until: walk.grant.probeAt) == LifecyclePolicy().probeRetry.seconds)
    }

    @Test func aCheckOfAnotherKeySaysNothing() {
        var walk = dormantAndDue()
        let before = walk.grant
        let t = walk.on(.keyChecked(KeyCheckReport(externalID: "key-9", outcome: .gone)))
        #expect(t.audit.map(\.event) == [.eventIgnored] && walk.grant.state == .dormant && walk.grant.hasSecret)
        #expect(walk.grant.probeAt == before.probeAt)
    }

    @Test func probesOffLeaveADormantKeyAlone() {
        var walk = watched()
        walk.policy.probeInterval = nil
        walk.activate()
        walk.on(.due)
        walk.on(ok())
        walk.now = walk.grant.tokenExpiresAt!
        walk.on(.due)
        #expect(walk.grant.state == .dormant && walk.grant.probeAt == nil && walk.grant.nextDeadline == nil)
    }

    /// A new token watches the key again: its probes stop.
    @Test func aNewTokenStopsTheProbes() {
        var walk = dormantAndDue()
        walk.on(ok())
        walk.on(.authorizationReceived(Walk.authorization(at: walk.now, apiKey: nil)))
        walk.on(.due)
        walk.on(.tokenExchanged(token: Walk.token, expiresIn: .seconds(14_400)))
        #expect(walk.grant.state == .awaitingKey && walk.grant.probeAt == nil)
    }
}
