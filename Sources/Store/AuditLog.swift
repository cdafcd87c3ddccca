import Lifecycle
import Foundation
import GRDB

/// What the caller wants audited; `AuditLog.append` adds time, sequence and hashes.
public struct AuditEntry: Sendable, Hashable {
    public var event: AuditEvent
    public var user: String?
    public var externalId: String?
    public var actor: AuditActor
    public var detail: AuditDetail

    public init(
        _ event: AuditEvent, user: String? = nil, externalId: String? = nil, actor: AuditActor = .wbkeyd,
        detail: AuditDetail = [:]
    ) {
        self.event = event
        self.user = user
        self.externalId = externalId
        self.actor = actor
        self.detail = detail
    }
}

/// What one pruning did: the prefix `seq <= throughSeq` is gone and `row` (the
/// `audit_pruned` row) vouches for `anchorHash`, the hash of row `throughSeq`.
public struct AuditPruning: Sendable, Hashable {
    public let throughSeq: Int64
    public let anchorHash: String
    public let deletedRows: Int
    public let row: AuditRow
}

/// The hash-chained audit log. Writes run inside the caller's write transaction, so a
/// state change and its audit row commit together or not at all.
public struct AuditLog: Sendable {
    private let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = { Date() }) {
        self.clock = clock
    }

    /// Appends `entry` after the current head. Must run inside a write transaction: the
    /// head read and the insert must not be split by another writer, and the row must stand
    /// or fall with the change it records.
    @discardableResult
    public func append(_ entry: AuditEntry, in db: Database) throws(StoreError) -> AuditRow {
        guard db.isInsideTransaction else { throw .notInTransaction(operation: "audit append") }
        return try performing("audit append of \(entry.event.rawValue)") {
            try appendRow(entry, following: try fetchHead(db), in: db)
        }
    }

    /// Deletes the oldest rows, up to (not including) the first row at or after `cutoff`,
    /// and appends `audit_pruned` vouching for the last deleted row's hash. Returns nil and
    /// writes nothing when no row is older than `cutoff`. Must run inside a write
    /// transaction, which the store's gate also enforces (see `AuditSchema`).
    @discardableResult
    public func prune(olderThan cutoff: Date, actor: AuditActor = .wbkeyd, in db: Database) throws(StoreError)
        -> AuditPruning?
    {
        guard db.isInsideTransaction else { throw .notInTransaction(operation: "audit prune") }
        return try performing("audit prune") { () throws -> AuditPruning? in
            guard let head = try fetchHead(db),
                let oldest = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM audit")
            else { return nil }
            // Rows normally come in time order, but the clock can step back: the prefix
            // ends before the first row that is not older than the cutoff, wherever later
            // rows stand.
            let firstKept = try Int64.fetchOne(
                db, sql: "SELECT seq FROM audit WHERE at >= ? ORDER BY seq LIMIT 1",
                arguments: [AuditTimestamp.format(cutoff)])
            let through = (firstKept ?? head.seq + 1) - 1
            guard through >= oldest,
                let anchorHash = try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [through])
            else { return nil }

            try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = ? WHERE id = 1", arguments: [through])
            try db.execute(sql: "DELETE FROM audit WHERE seq <= ?", arguments: [through])
            let deletedRows = db.changesCount
            try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = NULL WHERE id = 1")

            // `head` was read before the deletion: when every row went, the chain still
            // continues from it.
            let entry = AuditEntry(
                .auditPruned, actor: actor,
                detail: ["through_seq": .int(Int(through)), "anchor_hash": .string(anchorHash)])
            let row = try appendRow(entry, following: head, in: db)
            return AuditPruning(throughSeq: through, anchorHash: anchorHash, deletedRows: deletedRows, row: row)
        }
    }

    /// The newest row's seq and hash; nil for an empty log.
    public func head(in db: Database) throws(StoreError) -> AuditHead? {
        try performing("audit head") { try fetchHead(db) }
    }

    /// The newest `limit` rows (of `user` only, when given), oldest first.
    public func recent(limit: Int, user: String? = nil, in db: Database) throws(StoreError) -> [AuditRow] {
        try performing("audit recent") {
            let filter = user == nil ? "" : "WHERE user = :user"
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (
                        SELECT \(Self.columns) FROM audit \(filter) ORDER BY seq DESC LIMIT :limit
                    ) ORDER BY seq
                    """,
                arguments: ["user": user, "limit": max(0, limit)])
            return try rows.map(Self.decode)
        }
    }

    /// Up to `limit` rows after `seq`, oldest first: what the journal witness has not seen.
    public func rows(after seq: Int64, limit: Int = 1000, in db: Database) throws(StoreError) -> [AuditRow] {
        try performing("audit rows after \(seq)") {
            try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [seq, max(0, limit)]
            ).map(Self.decode)
        }
    }

    static let columns = "seq, at, event, user, external_id, actor, detail, prev_hash, hash"

    private func fetchHead(_ db: Database) throws -> AuditHead? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")).map {
            AuditHead(seq: $0["seq"], hash: $0["hash"])
        }
    }

    private func appendRow(_ entry: AuditEntry, following head: AuditHead?, in db: Database) throws -> AuditRow {
        let row = AuditRow(
            seq: (head?.seq ?? 0) + 1, at: AuditTimestamp.format(clock()), event: entry.event, user: entry.user,
            externalId: entry.externalId, actor: entry.actor, detail: entry.detail.json,
            prevHash: head?.hash ?? AuditChain.genesisPrevHash, hash: "")
        let hash = AuditChain.hash(
            prevHash: row.prevHash, seq: row.seq, at: row.at, event: row.event.rawValue, user: row.user,
            externalId: row.externalId, actor: row.actor.text, detail: row.detail)
        try db.cachedStatement(sql: "INSERT INTO audit (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [
                row.seq, row.at, row.event.rawValue, row.user, row.externalId, row.actor.text, row.detail,
                row.prevHash, hash,
            ])
        return AuditRow(
            seq: row.seq, at: row.at, event: row.event, user: row.user, externalId: row.externalId,
            actor: row.actor, detail: row.detail, prevHash: row.prevHash, hash: hash)
    }

    private static func decode(_ row: Row) throws -> AuditRow {
        let seq: Int64 = row["seq"]
        let eventText: String = row["event"]
        let actorText: String = row["actor"]
        guard let event = AuditEvent(rawValue: eventText) else {
            throw StoreError.database(operation: "reading audit row \(seq)", message: "unknown event '\(eventText)'")
        }
        guard let actor = AuditActor(text: actorText) else {
            throw StoreError.database(operation: "reading audit row \(seq)", message: "unknown actor '\(actorText)'")
        }
        return AuditRow(
            seq: seq, at: row["at"], event: event, user: row["user"], externalId: row["external_id"], actor: actor,
            detail: row["detail"], prevHash: row["prev_hash"], hash: row["hash"])
    }

    private func performing<T>(_ operation: String, _ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            throw StoreError.wrapping(error, operation: operation)
        }
    }
}
