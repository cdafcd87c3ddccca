import Foundation
import GRDB
import GrantLifecycle

/// Who may act on a grant (docs/design.md §13): the instance named in its `owner`, under
/// the fencing epoch `lease_epoch` that each claim raises. The lease's time is the owner
/// instance's, not the grant's: `instances.lease_expires`, set from the database's clock
/// by each heartbeat, so renewing every grant an instance holds is one row.
public struct GrantLease: Sendable, Equatable {
    public var owner: String?
    public var epoch: Int64
    /// The owner's lease had not expired when the row was read (the database's clock).
    public var ownerLive: Bool

    public init(owner: String?, epoch: Int64, ownerLive: Bool) {
        self.owner = owner
        self.epoch = epoch
        self.ownerLive = ownerLive
    }

    public static let none = GrantLease(owner: nil, epoch: 0, ownerLive: false)
}

/// A grant this instance took (a claim round, or the decision that created it).
public struct LeaseClaim: Sendable, Equatable {
    public let user: String
    public let epoch: Int64
    public let deadline: Date?

    public init(user: String, epoch: Int64, deadline: Date?) {
        self.user = user
        self.epoch = epoch
        self.deadline = deadline
    }
}

/// What one heartbeat found: the cluster, who holds how many grants, whether this
/// instance's lease had run out before it was renewed (then `owned` says which grants are
/// still its own), and the grants it claimed.
public struct LeaseRound: Sendable {
    public let instances: [InstanceRecord]
    public let grantsByOwner: [String: Int]
    public let lapsed: Bool
    /// This instance's grants and epochs; read only after a lapse.
    public let owned: [String: Int64]?
    public let claimed: [LeaseClaim]
    /// Grants by state as the store holds them, read when other instances share it (they
    /// commit moves this one's summary does not see); nil when this one runs alone.
    public let grantsByState: [GrantState: Int]?
    /// The nonce lane taken at start (`afresh`); nil otherwise, or where one process holds
    /// the store.
    public var nonceLane: Int? = nil
    /// Revocations queued for grants this instance holds, oldest first: each is applied by
    /// a decision whose commit deletes it.
    public var revocations: [QueuedRevocation] = []
}

/// A revocation asked of an instance that does not hold the grant, kept for the one that
/// does (docs/design.md §13). `id` is nil until stored.
public struct QueuedRevocation: Sendable, Equatable {
    public var id: Int64?
    public let user: String
    public let reason: String
    public let actor: AuditActor
    public let at: Date

    public init(id: Int64? = nil, user: String, reason: String, actor: AuditActor, at: Date) {
        self.id = id
        self.user = user
        self.reason = reason
        self.actor = actor
        self.at = at
    }
}

/// A decision refused because another instance acts on the grant; nothing was written.
public enum LeaseRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// This instance held the grant and no longer does: another claimed it (its own lease
    /// ran out, a pause, a partition). Its work on the grant is stale.
    case lost(user: String, owner: String?)
    /// Another live instance holds the grant.
    case heldElsewhere(user: String, owner: String)

    public var description: String {
        switch self {
        case .lost(let user, let owner):
            "the grant of \(user) is no longer this instance's (now \(owner.map { "held by \($0)" } ?? "released"))"
        case .heldElsewhere(let user, let owner): "the grant of \(user) is held by instance \(owner); ask that instance"
        }
    }
}

/// What a decision may do with a grant's lease: `held` is the epoch this instance holds
/// it under (nil: it does not hold it, and claims it when no live instance does).
public struct LeaseCheck: Sendable {
    public let instance: String
    public let held: Int64?

    public init(instance: String, held: Int64?) {
        self.instance = instance
        self.held = held
    }

    /// Why the decision must not go ahead; nil when it may.
    func refusal(for stored: StoredGrant?, user: String) -> LeaseRefusal? {
        guard let lease = stored?.lease else { return nil }
        if let held {
            return lease.owner == instance && lease.epoch == held ? nil : .lost(user: user, owner: lease.owner)
        }
        if let owner = lease.owner, owner != instance, lease.ownerLive { return .heldElsewhere(user: user, owner: owner) }
        return nil
    }

    /// The epoch the decision leaves this instance holding the grant under: the one it
    /// held, or a new claim (the epoch raised, so the previous holder's work is fenced off).
    func epoch(after stored: StoredGrant?, user: String, in db: any StoreConnection) throws -> Int64 {
        if let held, let lease = stored?.lease, lease.owner == instance, lease.epoch == held { return held }
        return try db.claimGrant(user: user, for: instance)
    }
}

/// The lease columns and statements in SQLite; the PostgreSQL backend says the same in its
/// dialect. "Now" is the database's clock on both, never the caller's.
public enum GrantLeases {
    public static let migration = StoreMigration(version: 8, name: "grant_leases") { db in
        try db.execute(sql: """
            ALTER TABLE grants ADD COLUMN owner TEXT;
            ALTER TABLE grants ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX grants_by_owner ON grants(owner) WHERE owner IS NOT NULL;
            ALTER TABLE instances ADD COLUMN lease_expires REAL;
            ALTER TABLE instances ADD COLUMN nonce_lane INTEGER;

            -- A revocation asked of an instance that does not hold the grant, for whichever
            -- instance holds it to apply (and delete) in the commit of its decision.
            CREATE TABLE revocation_requests (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user TEXT NOT NULL,
                reason TEXT NOT NULL,
                actor TEXT NOT NULL,
                at REAL NOT NULL
            ) STRICT;
            """)
    }

    /// SQLite's clock in Unix seconds (`unixepoch('subsec')` needs 3.42; Debian 12 has 3.40).
    static let now = "((julianday('now') - 2440587.5) * 86400.0)"

    /// The grant's row with whether its owner's lease is live.
    static let loadSQL = """
        SELECT g.*, (SELECT i.lease_expires >= \(now) FROM instances i WHERE i.name = g.owner) AS owner_live
        FROM grants g WHERE g.user = ?
        """

    static func renew(instance: String, seconds: Double, in db: Database) throws -> Bool {
        let live = try Bool.fetchOne(
            db, sql: "SELECT lease_expires >= \(now) FROM instances WHERE name = ?", arguments: [instance]) ?? false
        try db.execute(sql: "UPDATE instances SET lease_expires = \(now) + ? WHERE name = ?", arguments: [seconds, instance])
        return !live
    }

    static func owned(by instance: String, in db: Database) throws -> [String: Int64] {
        var owned: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT user, lease_epoch FROM grants WHERE owner = ?", arguments: [instance]) {
            owned[row["user"]] = row["lease_epoch"]
        }
        return owned
    }

    static func claim(for instance: String, limit: Int, in db: Database) throws -> [LeaseClaim] {
        try Row.fetchAll(
            db,
            sql: """
                UPDATE grants SET owner = :me, lease_epoch = lease_epoch + 1 WHERE user IN (
                    SELECT user FROM grants WHERE next_deadline IS NOT NULL AND (owner IS NULL
                        OR (owner <> :me AND owner NOT IN (SELECT name FROM instances WHERE lease_expires >= \(now))))
                    ORDER BY next_deadline LIMIT :limit)
                RETURNING user, lease_epoch, next_deadline
                """,
            arguments: ["me": instance, "limit": max(0, limit)]
        ).map { row in
            let deadline: Double? = row["next_deadline"]
            return LeaseClaim(user: row["user"], epoch: row["lease_epoch"], deadline: deadline.map(Date.init(timeIntervalSince1970:)))
        }
    }

    static func claim(user: String, for instance: String, in db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(sql: "UPDATE grants SET owner = ?, lease_epoch = lease_epoch + 1 WHERE user = ? RETURNING lease_epoch"),
            arguments: [instance, user]) ?? 0
    }

    static func set(user: String, owner: String?, epoch: Int64, in db: Database) throws {
        try db.execute(sql: "UPDATE grants SET owner = ?, lease_epoch = ? WHERE user = ?", arguments: [owner, epoch, user])
    }

    static func release(instance: String, in db: Database) throws {
        try db.execute(sql: "UPDATE grants SET owner = NULL WHERE owner = ?", arguments: [instance])
        try db.execute(sql: "UPDATE instances SET lease_expires = NULL WHERE name = ?", arguments: [instance])
    }

    static func queueRevocation(_ request: QueuedRevocation, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO revocation_requests (user, reason, actor, at) VALUES (?, ?, ?, ?)",
            arguments: [request.user, request.reason, request.actor.text, request.at.timeIntervalSince1970])
    }

    static func queuedRevocations(owner: String, limit: Int, in db: Database) throws -> [QueuedRevocation] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, r.user, r.reason, r.actor, r.at FROM revocation_requests r JOIN grants g ON g.user = r.user
                WHERE g.owner = ? ORDER BY r.id LIMIT ?
                """, arguments: [owner, max(0, limit)]
        ).map { row in
            QueuedRevocation(
                id: row["id"], user: row["user"], reason: row["reason"], actor: AuditActor(text: row["actor"]) ?? .wbkeyd,
                at: Date(timeIntervalSince1970: row["at"]))
        }
    }

    static func counts(in db: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT owner, COUNT(*) AS n FROM grants WHERE owner IS NOT NULL GROUP BY owner") {
            counts[row["owner"]] = row["n"]
        }
        return counts
    }
}
