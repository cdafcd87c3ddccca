import Foundation
@testable import GrantLifecycle
import Sensitive

/// A grant driven through events at controlled times, recording what came out.
struct Walk {
    /// Signed key checks off: the OAuth side's tests see only its own deadlines and calls;
    /// `KeyWatchTests` turns them on.
    var policy = LifecyclePolicy(verifyKey: false, probeInterval: nil)
    var engine: Lifecycle { Lifecycle(policy: policy) }
    var grant: Grant
    var now: Date
    var last = Transition(grant: Grant(user: "u", now: Date(timeIntervalSince1970: 0)))
    var audits: [AuditEvent] = []

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let token = Sensitive("token-of-the-walk")
    static let secret = Sensitive("secret-of-the-walk")

    static func authorization(at receivedAt: Date, apiKey: String? = nil) -> Authorization {
        Authorization(receivedAt: receivedAt, apiKey: apiKey, code: Sensitive("code-of-the-walk"), verifier: Sensitive("verifier"))
    }

    init(user: String = "u-1001", state: GrantState = .pending) {
        now = Walk.t0
        grant = Grant(user: user, state: state, now: Walk.t0)
    }

    @discardableResult
    mutating func on(_ event: GrantEvent, roll: Double = 0.5) -> Transition {
        last = engine.transition(grant, on: event, at: now, roll: roll)
        grant = last.grant
        audits += last.audit.map(\.event)
        return last
    }

    mutating func advance(_ seconds: Double) {
        now = now.addingTimeInterval(seconds)
    }

    /// Moves the clock to the grant's next deadline and fires it.
    @discardableResult
    mutating func fireNextDeadline() -> Transition {
        if let next = grant.nextDeadline, next > now { now = next }
        return on(.due)
    }

    /// pending → awaiting_key with a 4 h token.
    mutating func exchange(expiresIn: Duration? = .seconds(14_400)) {
        on(.authorizationReceived(Walk.authorization(at: now, apiKey: nil)))
        on(.due)
        on(.tokenExchanged(token: Walk.token, expiresIn: expiresIn))
    }

    /// … → active with key `id` and its secret sealed.
    mutating func activate(_ id: String = "key-1") {
        exchange()
        on(.due)
        on(.keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: id)))
        on(.due)
        on(.secretFetched(Walk.secret, externalID: id))
    }

    func seconds(until date: Date?) -> Double? {
        date.map { $0.timeIntervalSince(now) }
    }
}
