import Foundation

/// The key in use (docs/design.md §12): one signed read right after its secret is sealed
/// (verification), then, once no token watches it, one signed read per
/// `keys.probe_interval` (a probe). While a token lives `/info` is the truth and a
/// check only records what it found; without one, a check is all wbkeyd can learn.
extension TransitionDraft {
    /// The key of a signed check: the one this grant holds a sealed secret for.
    var checkableKey: String? {
        grant.hasSecret ? grant.externalID : nil
    }

    /// A freshly secured key is checked at once, before anything else about it is known.
    var verificationPending: Bool {
        policy.verifyKey && checkableKey != nil && grant.keyCheckedAt == nil
            && [.active, .disabled, .dormant].contains(grant.state)
    }

    /// No token watches the key: only a signed read can tell whether it still lives.
    var probeWanted: Bool {
        policy.probeInterval != nil && checkableKey != nil && [.dormant, .disabled].contains(grant.state)
            && !grant.holdsLiveToken(at: now)
    }

    /// The next probe: the interval jittered ±10 % so that keys secured together (a burst)
    /// are not all probed in the same second a day later.
    func nextProbe(after interval: Duration) -> Date {
        now.addingTimeInterval(interval.seconds * (0.9 + 0.2 * roll))
    }

    /// Keeps `probeAt` true to the grant after any event: set when a check is wanted and
    /// none is planned, cleared when none is wanted (a new token watches the key, the key
    /// was deleted…).
    mutating func settleKeyWatch() {
        if verificationPending {
            if grant.probeAt == nil { grant.probeAt = now }
        } else if probeWanted, let interval = policy.probeInterval {
            if grant.probeAt == nil { grant.probeAt = nextProbe(after: interval) }
        } else {
            grant.probeAt = nil
        }
    }

    /// A planned check came due; nil when none is (or its key is gone).
    mutating func dueKeyCheck() -> Bool {
        guard let probeAt = grant.probeAt, probeAt <= now else { return false }
        guard let key = checkableKey, verificationPending || probeWanted else {
            grant.probeAt = nil
            return false
        }
        call(.checkKey(externalID: key, identity: grant.keyIdentity))
        return true
    }

    mutating func keyChecked(_ report: KeyCheckReport) {
        // The nonces were spent whatever the check is worth to this grant.
        result.nonceMarks += report.nonceMarks
        // A check of a key this grant no longer holds a secret for says nothing about it.
        guard report.externalID == checkableKey else { return }
        let verifying = grant.keyCheckedAt == nil
        grant.keyCheckedAt = now
        grant.keyCheck = report.outcome
        if report.outcome == .ok { grant.keyUsedAt = now }
        if let identity = report.identity { grant.keyIdentity = identity }
        var detail = ["outcome": report.outcome.rawValue]
        if let identity = report.identity { detail["identity"] = identity.rawValue }
        if let message = report.message { detail["whitebit"] = message }
        if verifying {
            audit(report.outcome == .ok ? .keyVerified : .keyVerificationFailed, detail)
        } else {
            audit(.keyProbed, detail)
        }
        grant.probeAt = nil
        if !grant.holdsLiveToken(at: now) {
            moveOnCheck(report)
        }
        // A check that got no verdict is tried again sooner than a whole interval later.
        if report.outcome == .failed, probeWanted, let interval = policy.probeInterval {
            grant.probeAt = nextProbe(after: min(interval, policy.probeRetry))
        }
    }

    /// Where no token watches the key, a check's verdict is the key's state.
    private mutating func moveOnCheck(_ report: KeyCheckReport) {
        let words = report.message.map { ": \($0)" } ?? ""
        switch (report.outcome, grant.state) {
        case (.disabled, .dormant):
            audit(.keyDisabled, ["seen": "probe"])
            move(to: .disabled, reason: "WhiteBIT reports the key disabled (signed read); only the user can enable or delete it")
        case (.gone, .dormant), (.gone, .disabled):
            audit(.keyGone, ["seen": "probe"])
            wipeSecret()
            move(to: .gone, reason: "the key no longer authenticates (signed read\(words))")
        case (.ok, .disabled):
            audit(.reconcileDrift, ["from": GrantState.disabled.rawValue, "to": GrantState.dormant.rawValue, "why": "key enabled again (signed read)"])
            move(to: .dormant)
        default:
            break
        }
    }
}
