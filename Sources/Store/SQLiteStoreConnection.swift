import Foundation
import GRDB
import GrantLifecycle

/// `StoreConnection` in SQLite's dialect, on a GRDB connection; the statements themselves
/// live with their tables (`GrantRecords`, `NonceRecords`, `AuditSQL`).
struct SQLiteStoreConnection: StoreConnection {
    let db: Database

    init(_ db: Database) { self.db = db }

    func loadGrant(user: String) throws -> StoredGrant? { try GrantRecords.load(user: user, in: db) }
    func saveGrant(_ grant: Grant) throws { try GrantRecords.save(grant, in: db) }
    func setToken(_ sealed: Data?, user: String) throws { try GrantRecords.setToken(sealed, user: user, in: db) }
    func setSecret(_ sealed: Data?, externalID: String?, user: String) throws {
        try GrantRecords.setSecret(sealed, externalID: externalID, user: user, in: db)
    }
    func setAuthorization(code: Data?, verifier: Data?, user: String) throws {
        try GrantRecords.setAuthorization(code: code, verifier: verifier, user: user, in: db)
    }
    func holder(ofKey externalID: String, otherThan user: String) throws -> String? {
        try GrantRecords.holder(ofKey: externalID, otherThan: user, in: db)
    }
    func unsettledKeyWatches(probing: Bool) throws -> [String] { try GrantRecords.unsettledKeyWatches(probing: probing, in: db) }
    func keyWatchSummary() throws -> (byCheck: [String: Int], oldestUse: Date?) { try GrantRecords.keyWatchSummary(in: db) }
    func nextDeadline() throws -> Date? { try GrantRecords.nextDeadline(in: db) }
    func nextTokenExpiry() throws -> Date? {
        try Double.fetchOne(db, sql: "SELECT MIN(token_expires_at) FROM grants").map { Date(timeIntervalSince1970: $0) }
    }
    func grantCountsByState() throws -> [GrantState: Int] { try GrantRecords.countsByState(in: db) }
    func listGrants(state: GrantState?, limit: Int) throws -> [StoredGrant] { try GrantRecords.list(state: state, limit: limit, in: db) }

    func recordIngestion(fingerprint: String, user: String, at: Date) throws -> Bool {
        try GrantRecords.recordIngestion(fingerprint: fingerprint, user: user, at: at, in: db)
    }
    func wasIngested(fingerprint: String) throws -> Bool { try GrantRecords.wasIngested(fingerprint: fingerprint, in: db) }
    func pruneIngestions(before cutoff: Date) throws { try GrantRecords.pruneIngestions(before: cutoff, in: db) }
    func putPendingState(fingerprint: String, user: String, sealedVerifier: Data, expiresAt: Date) throws {
        try GrantRecords.putPendingState(fingerprint: fingerprint, user: user, sealedVerifier: sealedVerifier, expiresAt: expiresAt, in: db)
    }
    func pendingState(fingerprint: String, now: Date) throws -> (user: String, sealedVerifier: Data)? {
        try GrantRecords.pendingState(fingerprint: fingerprint, now: now, in: db)
    }
    func forgetPendingState(fingerprint: String) throws { try GrantRecords.forgetPendingState(fingerprint: fingerprint, in: db) }
    func prunePendingStates(now: Date) throws { try GrantRecords.prunePendingStates(now: now, in: db) }

    func raiseNonce(_ apiKey: String, to nonce: Int64) throws { try NonceRecords.raise(apiKey, to: nonce, in: db) }
    func nonceMarks() throws -> [String: Int64] { try NonceRecords.all(in: db) }

    func putInstance(_ record: InstanceRecord) throws { try InstanceRecords.put(record, in: db) }
    func instances() throws -> [InstanceRecord] { try InstanceRecords.all(in: db) }
    func pruneInstances(lastSeenBefore cutoff: Date) throws {
        try db.execute(sql: "DELETE FROM instances WHERE last_seen < ?", arguments: [cutoff.timeIntervalSince1970])
    }

    func renewLease(instance: String, seconds: Double) throws -> Bool {
        try GrantLeases.renew(instance: instance, seconds: seconds, in: db)
    }
    func ownedGrants(by instance: String) throws -> [String: Int64] { try GrantLeases.owned(by: instance, in: db) }
    func claimGrants(for instance: String, limit: Int) throws -> [LeaseClaim] {
        try GrantLeases.claim(for: instance, limit: limit, in: db)
    }
    func claimGrant(user: String, for instance: String) throws -> Int64 { try GrantLeases.claim(user: user, for: instance, in: db) }
    func setLease(user: String, owner: String?, epoch: Int64) throws {
        try GrantLeases.set(user: user, owner: owner, epoch: epoch, in: db)
    }
    func releaseLeases(instance: String) throws { try GrantLeases.release(instance: instance, in: db) }
    func grantCountsByOwner() throws -> [String: Int] { try GrantLeases.counts(in: db) }
    func followOthersAudit() {}
    func queueRevocation(_ request: QueuedRevocation) throws { try GrantLeases.queueRevocation(request, in: db) }
    func queuedRevocations(owner: String, limit: Int) throws -> [QueuedRevocation] {
        try GrantLeases.queuedRevocations(owner: owner, limit: limit, in: db)
    }
    func forgetRevocation(id: Int64) throws { try db.execute(sql: "DELETE FROM revocation_requests WHERE id = ?", arguments: [id]) }
    func claimNonceLane(instance: String, lanes: Int) throws -> Int? { nil }

    func auditHead() throws -> AuditHead? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")).map {
            AuditHead(seq: $0["seq"], hash: $0["hash"])
        }
    }
    func insertAudit(_ row: AuditRow) throws {
        try db.cachedStatement(sql: "INSERT INTO audit (\(AuditLog.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [
                row.seq, row.at, row.event.rawValue, row.user, row.externalID, row.actor.text, row.detail, row.prevHash, row.hash,
            ])
    }
    func auditRows(after seq: Int64, through: Int64?, limit: Int) throws -> [AuditRow] {
        try Row.fetchAll(
            db, sql: "SELECT \(AuditLog.columns) FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            arguments: [seq, through ?? Int64.max, max(0, limit)]
        ).map(Self.auditRow)
    }
    func recentAudit(limit: Int, user: String?) throws -> [AuditRow] {
        let filter = user == nil ? "" : "WHERE user = :user"
        return try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM (
                    SELECT \(AuditLog.columns) FROM audit \(filter) ORDER BY seq DESC LIMIT :limit
                ) ORDER BY seq
                """,
            arguments: ["user": user, "limit": max(0, limit)]
        ).map(Self.auditRow)
    }
    func auditEventCounts(after seq: Int64) throws -> [String: Int] {
        let rows = try Row.fetchAll(db, sql: "SELECT event, count(*) AS n FROM audit WHERE seq > ? GROUP BY event", arguments: [seq])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["event"] as String, $0["n"] as Int) })
    }
    func auditHash(seq: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [seq])
    }
    func auditAt(seq: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT at FROM audit WHERE seq = ?", arguments: [seq])
    }
    func auditBounds() throws -> (oldest: Int64?, newest: Int64?) {
        let row = try Row.fetchOne(db, sql: "SELECT min(seq), max(seq) FROM audit")
        return (row?[0], row?[1])
    }
    func firstAuditSeq(notBefore at: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT seq FROM audit WHERE at >= ? ORDER BY seq LIMIT 1", arguments: [at])
    }
    func auditCount(through seq: Int64?) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM audit WHERE seq <= ?", arguments: [seq ?? Int64.max]) ?? 0
    }
    func deleteAuditPrefix(through seq: Int64) throws -> Int {
        // The gate of `AuditSchema`: open, delete, close, all in this transaction.
        try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = ? WHERE id = 1", arguments: [seq])
        try db.execute(sql: "DELETE FROM audit WHERE seq <= ?", arguments: [seq])
        let deleted = db.changesCount
        try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = NULL WHERE id = 1")
        return deleted
    }

    func storeKeys() throws -> StoreKeysRow? {
        guard try db.tableExists("store_keys") else { return nil }
        return try Row.fetchOne(db, sql: "SELECT key_id, sealed_chain_key, legacy_through_seq FROM store_keys WHERE id = 1").map {
            StoreKeysRow(keyID: $0["key_id"], sealedChainKey: $0["sealed_chain_key"], legacyThroughSeq: $0["legacy_through_seq"])
        }
    }
    func insertStoreKeys(_ row: StoreKeysRow) throws {
        try db.execute(
            sql: "INSERT INTO store_keys (id, key_id, sealed_chain_key, legacy_through_seq) VALUES (1, ?, ?, ?)",
            arguments: [row.keyID, row.sealedChainKey, row.legacyThroughSeq])
    }
    func sealedBoxes() throws -> [(binding: SealBinding, sealed: Data)] {
        try StoredBoxes.all(in: db).map { ($0.binding, $0.sealed) }
    }

    func storedGrants(after user: String?, limit: Int) throws -> [StoredGrant] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM grants WHERE user > ? ORDER BY user LIMIT ?", arguments: [user ?? "", max(0, limit)]
        ).map(GrantRecords.decode)
    }
    func ingestions() throws -> [(fingerprint: String, user: String, at: Date)] {
        try Row.fetchAll(db, sql: "SELECT fingerprint, user, at FROM ingested_codes ORDER BY fingerprint").map {
            ($0["fingerprint"], $0["user"], Date(timeIntervalSince1970: $0["at"]))
        }
    }
    func pendingStates() throws -> [(fingerprint: String, user: String, sealedVerifier: Data, expiresAt: Date)] {
        try Row.fetchAll(db, sql: "SELECT fingerprint, user, sealed_verifier, expires_at FROM pending_states ORDER BY fingerprint").map {
            ($0["fingerprint"], $0["user"], $0["sealed_verifier"], Date(timeIntervalSince1970: $0["expires_at"]))
        }
    }

    func inSavepoint(_ body: () throws -> Void) throws {
        try db.inSavepoint {
            try body()
            return .commit
        }
    }
    var isInsideTransaction: Bool { db.isInsideTransaction }

    static func auditRow(_ row: Row) throws -> AuditRow {
        try AuditLog.decode(
            seq: row["seq"], at: row["at"], event: row["event"], user: row["user"], externalID: row["external_id"],
            actor: row["actor"], detail: row["detail"], prevHash: row["prev_hash"], hash: row["hash"])
    }
}

/// The SQLite store as a `StoreBackend`: GRDB's pool, one writer and its readers.
public struct SQLiteBackend: StoreBackend {
    public let database: StoreDatabase

    public init(_ database: StoreDatabase) { self.database = database }

    public var name: String { database.path }

    public func asyncWrite<T: Sendable>(
        _ body: @escaping @Sendable (any StoreConnection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        database.pool.asyncWrite({ db in try body(SQLiteStoreConnection(db)) }, completion: { _, result in completion(result) })
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await database.pool.read { db in try body(SQLiteStoreConnection(db)) }
    }

    public func blockingWrite<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        try database.pool.write { db in try body(SQLiteStoreConnection(db)) }
    }

    public func blockingRead<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        try database.pool.read { db in try body(SQLiteStoreConnection(db)) }
    }

    public func startAuditTail(sink: any AuditTailSink) throws(StoreError) -> any Sendable {
        try AuditTail.start(on: database.pool, sink: sink)
    }

    public func close() throws(StoreError) { try database.close() }
}
