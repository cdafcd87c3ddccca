import GrantLifecycle
import Foundation
import GRDB

/// What the caller wants audited; `AuditLog.append` adds time, sequence and hashes.
public struct AuditEntry: Sendable, Hashable {
    public var event: AuditEvent
    public var user: String?
    public var externalID: String?
    public var actor: AuditActor
    public var detail: AuditDetail

    public init(
        _ event: AuditEvent, user: String? = nil, externalID: String? = nil, actor: AuditActor = .wbkeyd,
        detail: AuditDetail = [:]
    ) {
        self.event = event
        self.user = user
        self.externalID = externalID
        self.actor = actor
        self.detail = detail
    }
}

/// What one pruning did: the prefix `seq <= throughSeq` is gone and `row` (the
/// `audit_pruned` row) vouches for `anchorHash`, the hash of row `throughSeq`.
extension AuditEntry {
    /// The same (user, code) delivered again: recorded, not stored twice.
    public static func duplicateAuthorization(user: String, file: String) -> AuditEntry {
        AuditEntry(.authorizationDuplicate, user: user, externalID: nil, actor: .wbkeyd, detail: ["file": .string(file)])
    }
}

public struct AuditPruning: Sendable, Hashable {
    public let throughSeq: Int64
    public let anchorHash: String
    public let deletedRows: Int
    public let row: AuditRow
}

/// What a call to `AuditLog.prune` did.
public enum AuditPruneOutcome: Sendable, Hashable {
    /// No row is older than the cutoff.
    case nothingOlder
    case pruned(AuditPruning)
    /// The prefix would have been the whole log or more than the allowed share of it; nothing
    /// was deleted. A forward clock step looks exactly like this, and an `audit_pruned` row
    /// would make the loss look legitimate, so the caller reports it loudly instead.
    case refused(wouldDelete: Int, ofRows: Int, cutoff: String)
}

/// The hash-chained audit log. Writes run inside the caller's write transaction, so a
/// state change and its audit row commit together or not at all. Every row it writes is
/// keyed with the store's chain key (`StoreKeyring`), so a writer without the master key
/// cannot extend or rewrite the chain unnoticed.
public struct AuditLog: Sendable {
    /// The largest share of the rows one pruning may delete.
    public static let defaultMaxPruneShare = 0.5

    private let clock: @Sendable () -> Date
    private let chainKey: AuditChainKey

    public init(chainKey: AuditChainKey, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.chainKey = chainKey
        self.clock = clock
    }

    /// Appends `entry` after the current head. Must run inside a write transaction: the
    /// head read and the insert must not be split by another writer, and the row must stand
    /// or fall with the change it records.
    @discardableResult
    public func append(_ entry: AuditEntry, in db: Database) throws(StoreError) -> AuditRow {
        try append(entry, in: SQLiteStoreConnection(db))
    }

    @discardableResult
    public func append(_ entry: AuditEntry, in connection: any StoreConnection) throws(StoreError) -> AuditRow {
        guard connection.isInsideTransaction else { throw .notInTransaction(operation: "audit append") }
        return try performing("audit append of \(entry.event.rawValue)") {
            try appendRow(entry, following: try connection.auditHead(), in: connection)
        }
    }

    /// Deletes the oldest rows older than `retention`, and appends `audit_pruned` vouching for
    /// the last deleted row's hash. The cutoff counts back from the earlier of now and the
    /// newest row's time, so a clock that jumped forward does not age every row at once; and
    /// a prefix that would be every row, or more than `maxShare` of them, is refused (nothing
    /// deleted). Must run inside a write transaction, which the store's gate also enforces
    /// (see `AuditSchema`).
    public func prune(
        retention: TimeInterval, maxShare: Double = AuditLog.defaultMaxPruneShare, actor: AuditActor = .wbkeyd,
        in db: Database
    ) throws(StoreError) -> AuditPruneOutcome {
        try prune(retention: retention, maxShare: maxShare, actor: actor, in: SQLiteStoreConnection(db))
    }

    public func prune(
        retention: TimeInterval, maxShare: Double = AuditLog.defaultMaxPruneShare, actor: AuditActor = .wbkeyd,
        in connection: any StoreConnection
    ) throws(StoreError) -> AuditPruneOutcome {
        guard connection.isInsideTransaction else { throw .notInTransaction(operation: "audit prune") }
        return try performing("audit prune") { () throws -> AuditPruneOutcome in
            guard let head = try connection.auditHead(),
                let oldest = try connection.auditBounds().oldest,
                let newestAt = try connection.auditAt(seq: head.seq)
            else { return .nothingOlder }
            let now = clock()
            let reference = AuditTimestamp.parse(newestAt).map { min($0, now) } ?? now
            let cutoff = AuditTimestamp.format(reference.addingTimeInterval(-retention))
            // Rows normally come in time order, but the clock can step back: the prefix
            // ends before the first row that is not older than the cutoff, wherever later
            // rows stand.
            let firstKept = try connection.firstAuditSeq(notBefore: cutoff)
            let through = (firstKept ?? head.seq + 1) - 1
            guard through >= oldest, let anchorHash = try connection.auditHash(seq: through) else { return .nothingOlder }
            let rows = try connection.auditCount(through: nil)
            let doomed = try connection.auditCount(through: through)
            guard doomed < rows, Double(doomed) <= maxShare * Double(rows) else {
                return .refused(wouldDelete: doomed, ofRows: rows, cutoff: cutoff)
            }
            let deletedRows = try connection.deleteAuditPrefix(through: through)
            let entry = AuditEntry(
                .auditPruned, actor: actor,
                detail: ["through_seq": .int(Int(through)), "anchor_hash": .string(anchorHash)])
            let row = try appendRow(entry, following: head, in: connection)
            return .pruned(AuditPruning(throughSeq: through, anchorHash: anchorHash, deletedRows: deletedRows, row: row))
        }
    }

    /// Rows after `seq`, counted by event: what one commit added, read inside it, for the
    /// `wbkeyd_audit_events_total` counters. A range of the primary key; needs no key.
    public static func eventCounts(after seq: Int64, in connection: any StoreConnection) throws(StoreError) -> [String: Int] {
        do {
            return try connection.auditEventCounts(after: seq)
        } catch {
            throw StoreError.wrapping(error, operation: "audit event counts")
        }
    }

    /// The newest row's seq and hash; nil for an empty log. Needs no key.
    public static func head(in db: Database) throws(StoreError) -> AuditHead? {
        try head(in: SQLiteStoreConnection(db))
    }

    public static func head(in connection: any StoreConnection) throws(StoreError) -> AuditHead? {
        do {
            return try connection.auditHead()
        } catch {
            throw StoreError.wrapping(error, operation: "audit head")
        }
    }

    /// The newest row's seq and hash; nil for an empty log.
    public func head(in db: Database) throws(StoreError) -> AuditHead? {
        try Self.head(in: db)
    }

    /// The newest `limit` rows (of `user` only, when given), oldest first.
    public func recent(limit: Int, user: String? = nil, in db: Database) throws(StoreError) -> [AuditRow] {
        try recent(limit: limit, user: user, in: SQLiteStoreConnection(db))
    }

    public func recent(limit: Int, user: String? = nil, in connection: any StoreConnection) throws(StoreError) -> [AuditRow] {
        try performing("audit recent") { try connection.recentAudit(limit: limit, user: user) }
    }

    /// Up to `limit` rows after `seq`, oldest first: what the journal witness has not seen.
    public func rows(after seq: Int64, limit: Int = 1000, in db: Database) throws(StoreError) -> [AuditRow] {
        try performing("audit rows after \(seq)") {
            try SQLiteStoreConnection(db).auditRows(after: seq, through: nil, limit: limit)
        }
    }

    static let columns = "seq, at, event, user, external_id, actor, detail, prev_hash, hash"

    private func appendRow(_ entry: AuditEntry, following head: AuditHead?, in connection: any StoreConnection) throws -> AuditRow {
        let seq = (head?.seq ?? 0) + 1
        let at = AuditTimestamp.format(clock())
        let prevHash = head?.hash ?? AuditChain.genesisPrevHash
        let detail = entry.detail.json
        let hash = AuditChain.hash(
            prevHash: prevHash, seq: seq, at: at, event: entry.event.rawValue, user: entry.user,
            externalID: entry.externalID, actor: entry.actor.text, detail: detail, key: chainKey)
        let row = AuditRow(
            seq: seq, at: at, event: entry.event, user: entry.user, externalID: entry.externalID, actor: entry.actor,
            detail: detail, prevHash: prevHash, hash: hash)
        try connection.insertAudit(row)
        return row
    }

    /// A stored row's columns as a row; an event or actor this build does not know is
    /// refused, never guessed.
    public static func decode(
        seq: Int64, at: String, event eventText: String, user: String?, externalID: String?, actor actorText: String,
        detail: String, prevHash: String, hash: String
    ) throws -> AuditRow {
        guard let event = AuditEvent(rawValue: eventText) else {
            throw StoreError.database(operation: "reading audit row \(seq)", message: "unknown event '\(eventText)'")
        }
        guard let actor = AuditActor(text: actorText) else {
            throw StoreError.database(operation: "reading audit row \(seq)", message: "unknown actor '\(actorText)'")
        }
        return AuditRow(
            seq: seq, at: at, event: event, user: user, externalID: externalID, actor: actor, detail: detail,
            prevHash: prevHash, hash: hash)
    }

    static func decode(_ row: Row) throws -> AuditRow { try SQLiteStoreConnection.auditRow(row) }

    private func performing<T>(_ operation: String, _ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            throw StoreError.wrapping(error, operation: operation)
        }
    }
}
