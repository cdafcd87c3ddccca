import Foundation
import GRDB
import Lifecycle
import Store

/// One lifecycle transition inside a store transaction: load the grant, decide, save
/// it with its sealed-data changes and audit rows. Everything here commits together.
struct TransactionStep: Sendable {
    /// A transition and the state the grant left (nil: the step created it).
    struct Outcome: Sendable {
        let left: GrantState?
        let transition: Transition

        var move: GrantMove { GrantMove(from: left, to: transition.grant.state) }
    }

    let lifecycle: Lifecycle
    let audit: AuditLog
    let now: Date
    let roll: Double

    func run(
        _ event: GrantEvent, user: String, actor: AuditActor, create: Bool, extras: GrantEngine.Extras?, in db: Database
    ) throws -> Outcome? {
        let stored = try GrantRecords.load(user: user, in: db)
        guard let grant = stored?.grant ?? (create ? Grant(user: user, now: now) : nil) else { return nil }
        var event = event
        // A key this grant does not hold yet may be another grant's (one WhiteBIT account
        // behind two partner users); only then is it worth the look-up.
        if case .keyInfo(var info) = event, info.exists, let id = info.externalID, id != grant.externalID || !grant.hasSecret {
            info.heldByOtherUser = try GrantRecords.holder(ofKey: id, otherThan: user, in: db)
            event = .keyInfo(info)
        }
        let t = lifecycle.transition(grant, on: event, at: now, roll: roll)
        try GrantRecords.save(t.grant, in: db)
        if t.wipeToken { try GrantRecords.setToken(nil, user: user, in: db) }
        if t.wipeSecret { try GrantRecords.setSecret(nil, externalID: nil, user: user, in: db) }
        if t.wipeAuthorization { try GrantRecords.setAuthorization(code: nil, verifier: nil, user: user, in: db) }
        try extras?(t, db)
        for note in t.audit {
            _ = try audit.append(Self.entry(note, user: user, actor: actor), in: db)
        }
        return Outcome(left: stored?.grant.state, transition: t)
    }

    static func entry(_ note: AuditNote, user: String, actor: AuditActor) -> AuditEntry {
        AuditEntry(
            note.event, user: user, externalId: note.externalID, actor: actor,
            detail: AuditDetail(note.detail.mapValues { .string($0) }))
    }
}
