import Foundation
import GrantLifecycle
import Sensitive

/// One decision inside a store transaction: load the grant, ask the lifecycle, then
/// apply every effect of the transition (the grant, wipes, sealed material, nonce
/// marks, audit rows). The transition carries all of it; nothing else is written.
struct GrantCommit: Sendable {
    let lifecycle: Lifecycle
    let sealer: Sealer
    let audit: AuditLog
    let now: Date
    let roll: Double
    /// Nil: no lease is checked or taken (tools that work on a store no daemon runs on).
    var lease: LeaseCheck? = nil

    /// The decision on `event`; nil when the user has no grant and `create` is false.
    func decide(_ event: GrantEvent, user: String, actor: AuditActor, create: Bool, in db: any StoreConnection) throws -> Decision? {
        let stored = try db.loadGrant(user: user)
        // Before anything is decided: stale work of an instance that lost the grant, or a
        // grant another live instance acts on, writes nothing.
        if let refusal = lease?.refusal(for: stored, user: user) { throw refusal }
        guard let grant = stored?.grant ?? (create ? Grant(user: user, now: now) : nil) else { return nil }
        var event = event
        // A key this grant does not hold yet may be another grant's (one WhiteBIT account
        // behind two partner users); only then is it worth the look-up.
        if case .keyInfo(var info) = event, info.exists, let id = info.externalID, id != grant.externalID || !grant.hasSecret {
            info.heldByOtherUser = try db.holder(ofKey: id, otherThan: user)
            event = .keyInfo(info)
        }
        let transition = lifecycle.transition(grant, on: event, at: now, roll: roll)
        try apply(transition, actor: actor, in: db)
        let epoch = try lease?.epoch(after: stored, user: user, in: db)
        return Decision(left: stored?.grant.state, transition: transition, leaseEpoch: epoch)
    }

    func apply(_ t: Transition, actor: AuditActor, in db: any StoreConnection) throws {
        let user = t.grant.user
        try db.saveGrant(t.grant)
        // Wipes first: what this decision keeps is newer than what it throws away.
        if t.wipeToken { try db.setToken(nil, user: user) }
        if t.wipeSecret { try db.setSecret(nil, externalID: nil, user: user) }
        if t.wipeAuthorization { try db.setAuthorization(code: nil, verifier: nil, user: user) }
        for kept in t.keep {
            switch kept {
            case .authorization(let code, let verifier):
                try db.setAuthorization(
                    code: sealer.seal(code, binding: SealBinding(kind: .authorizationCode, user: user)),
                    verifier: sealer.seal(verifier, binding: SealBinding(kind: .codeVerifier, user: user)), user: user)
            case .token(let token):
                try db.setToken(sealer.seal(token, binding: SealBinding(kind: .accessToken, user: user)), user: user)
            case .secret(let secret, let externalID):
                let sealed = sealer.seal(secret, binding: SealBinding(kind: .apiSecret, user: user, externalID: externalID))
                try db.setSecret(sealed, externalID: externalID, user: user)
            }
        }
        for mark in t.nonceMarks { try db.raiseNonce(mark.key, to: mark.nonce) }
        for note in t.audit {
            _ = try audit.append(Self.entry(note, user: user, actor: actor), in: db)
        }
    }

    static func entry(_ note: AuditNote, user: String, actor: AuditActor) -> AuditEntry {
        AuditEntry(
            note.event, user: user, externalID: note.externalID, actor: actor,
            detail: AuditDetail(note.detail.mapValues { .string($0) }))
    }
}

/// A committed decision: the transition, and the state the grant left (nil: it was created).
public struct Decision: Sendable {
    public let left: GrantState?
    public let transition: Transition
    /// The epoch this instance holds the grant under after the decision (nil: no lease).
    public var leaseEpoch: Int64? = nil

    public var move: GrantMove { GrantMove(from: left, to: transition.grant.state) }
}
