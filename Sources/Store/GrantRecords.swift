import Foundation
import GRDB
import GrantLifecycle

/// A grant as stored: the engine's view plus the sealed boxes that belong to it.
public struct StoredGrant: Sendable, Equatable {
    public var grant: Grant
    public var sealedToken: Data?
    public var sealedSecret: Data?
    /// The externalId the secret was sealed under (its binding), which may differ
    /// from `grant.externalID` while a new key is being secured.
    public var secretExternalID: String?
    public var sealedCode: Data?
    public var sealedVerifier: Data?
    /// Who acts on the grant (nil: a store without leases, or a row read without them).
    public var lease: GrantLease?
}

/// Reads and writes grants inside the caller's transaction, so a state change, its
/// sealed data and its audit rows commit together or not at all. The statements of a
/// grant step are cached per connection: compiling them each time (and GRDB's
/// authorizer looking at every column while it does) took an eighth of the daemon's
/// CPU in a burst.
public enum GrantRecords {
    public static func load(user: String, in db: Database) throws -> StoredGrant? {
        try Row.fetchOne(db.cachedStatement(sql: GrantLeases.loadSQL), arguments: [user]).map { try decode($0) }
    }

    /// Writes the engine's fields; sealed columns are left alone (see the setters).
    public static func save(_ g: Grant, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO grants (user, state, reason, external_id, api_key, token_expires_at, step_at, step_attempts,
                    step_started_at, lock_attempts, lock_started_at, poll_until, exchange_at, exchange_attempts,
                    authorization_received_at, doomed_key, resume_after_deletion, key_identity, key_checked_at, key_check,
                    key_used_at, probe_at, next_deadline, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(user) DO UPDATE SET state = excluded.state, reason = excluded.reason,
                    external_id = excluded.external_id, api_key = excluded.api_key, token_expires_at = excluded.token_expires_at,
                    step_at = excluded.step_at, step_attempts = excluded.step_attempts, step_started_at = excluded.step_started_at,
                    lock_attempts = excluded.lock_attempts, lock_started_at = excluded.lock_started_at,
                    poll_until = excluded.poll_until, exchange_at = excluded.exchange_at,
                    exchange_attempts = excluded.exchange_attempts, authorization_received_at = excluded.authorization_received_at,
                    doomed_key = excluded.doomed_key, resume_after_deletion = excluded.resume_after_deletion,
                    key_identity = excluded.key_identity, key_checked_at = excluded.key_checked_at,
                    key_check = excluded.key_check, key_used_at = excluded.key_used_at, probe_at = excluded.probe_at,
                    next_deadline = excluded.next_deadline, updated_at = excluded.updated_at
                """
        ).execute(arguments: StatementArguments(GrantColumns.values(of: g).map(\.databaseValue)))
    }

    public static func setToken(_ sealed: Data?, user: String, in db: Database) throws {
        try db.cachedStatement(sql: "UPDATE grants SET sealed_token = ? WHERE user = ?").execute(arguments: [sealed, user])
    }

    public static func setSecret(_ sealed: Data?, externalID: String?, user: String, in db: Database) throws {
        try db.cachedStatement(sql: "UPDATE grants SET sealed_secret = ?, secret_external_id = ? WHERE user = ?")
            .execute(arguments: [sealed, sealed == nil ? nil : externalID, user])
    }

    public static func setAuthorization(code: Data?, verifier: Data?, user: String, in db: Database) throws {
        try db.cachedStatement(sql: "UPDATE grants SET sealed_code = ?, sealed_verifier = ? WHERE user = ?")
            .execute(arguments: [code, verifier, user])
    }

    /// Grants whose key no token watches and whose probe plan does not match `probing`
    /// (keys.probe_interval set or `off`): after an upgrade or a reload, one `.due` each
    /// lets the lifecycle plan or drop their probes.
    public static func unsettledKeyWatches(probing: Bool, in db: Database) throws -> [String] {
        try String.fetchAll(
            db,
            sql: """
                SELECT user FROM grants WHERE state IN ('dormant', 'disabled') AND sealed_secret IS NOT NULL
                    AND (probe_at IS NULL) = ?
                """, arguments: [probing])
    }

    /// Keys with a sealed secret by what their last signed check found (`unchecked`: none
    /// yet), and the oldest last accepted use among them (docs/design.md §12).
    public static func keyWatchSummary(in db: Database) throws -> (byCheck: [String: Int], oldestUse: Date?) {
        var byCheck: [String: Int] = [:]
        var oldest: Double?
        // One pass: the count and the oldest use per verdict.
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT COALESCE(key_check, 'unchecked') AS c, COUNT(*) AS n, MIN(key_used_at) AS used
                FROM grants WHERE sealed_secret IS NOT NULL GROUP BY c
                """)
        {
            byCheck[row["c"]] = row["n"]
            if let used: Double = row["used"] { oldest = min(oldest ?? used, used) }
        }
        return (byCheck, oldest.map(Date.init(timeIntervalSince1970:)))
    }

    /// The earliest deadline of any grant, from the deadline index (one lookup).
    public static func nextDeadline(in db: Database) throws -> Date? {
        try Double.fetchOne(db.cachedStatement(sql: "SELECT MIN(next_deadline) FROM grants WHERE next_deadline IS NOT NULL"))
            .map(Date.init(timeIntervalSince1970:))
    }

    public static func countsByState(in db: Database) throws -> [GrantState: Int] {
        var counts: [GrantState: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM grants GROUP BY state") {
            if let state = GrantState(rawValue: row["state"]) { counts[state] = row["n"] }
        }
        return counts
    }

    /// Grants in user order, optionally of one state.
    public static func list(state: GrantState?, limit: Int, in db: Database) throws -> [StoredGrant] {
        let rows: [Row]
        if let state {
            rows = try Row.fetchAll(db, sql: "SELECT * FROM grants WHERE state = ? ORDER BY user LIMIT ?", arguments: [state.rawValue, limit])
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT * FROM grants ORDER BY user LIMIT ?", arguments: [limit])
        }
        return try rows.map { try decode($0) }
    }

    /// The user of another grant that holds key `externalID` (as its key or as the one
    /// it must delete) and has not finished with it.
    public static func holder(ofKey externalID: String, otherThan user: String, in db: Database) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT user FROM grants WHERE (external_id = ? OR doomed_key = ?) AND user <> ?
                        AND state NOT IN ('revoked', 'gone', 'failed', 'no_key') ORDER BY user LIMIT 1
                    """), arguments: [externalID, externalID, user])
    }

    public static func users(in db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT user FROM grants ORDER BY user")
    }

    /// Records an ingested (user, code) fingerprint; false when it was seen before.
    public static func recordIngestion(fingerprint: String, user: String, at: Date, in db: Database) throws -> Bool {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO ingested_codes (fingerprint, user, at) VALUES (?, ?, ?)")
            .execute(arguments: [fingerprint, user, at.timeIntervalSince1970])
        return db.changesCount == 1
    }

    public static func pruneIngestions(before cutoff: Date, in db: Database) throws {
        try db.execute(sql: "DELETE FROM ingested_codes WHERE at < ?", arguments: [cutoff.timeIntervalSince1970])
    }

    public static func putPendingState(fingerprint: String, user: String, sealedVerifier: Data, expiresAt: Date, in db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO pending_states (fingerprint, user, sealed_verifier, expires_at) VALUES (?, ?, ?, ?)",
            arguments: [fingerprint, user, sealedVerifier, expiresAt.timeIntervalSince1970])
    }

    /// A live pending state, left in place: the caller checks its user first and then
    /// forgets it in the transaction that stores the grant.
    public static func pendingState(fingerprint: String, now: Date, in db: Database) throws -> (user: String, sealedVerifier: Data)? {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT user, sealed_verifier, expires_at FROM pending_states WHERE fingerprint = ?", arguments: [fingerprint])
        else { return nil }
        guard Date(timeIntervalSince1970: row["expires_at"]) > now else { return nil }
        return (user: row["user"], sealedVerifier: row["sealed_verifier"])
    }

    /// A state is good for one callback.
    public static func forgetPendingState(fingerprint: String, in db: Database) throws {
        try db.execute(sql: "DELETE FROM pending_states WHERE fingerprint = ?", arguments: [fingerprint])
    }

    /// Whether this (user, code) fingerprint was ingested already.
    public static func wasIngested(fingerprint: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM ingested_codes WHERE fingerprint = ?)", arguments: [fingerprint]) ?? false
    }

    public static func prunePendingStates(now: Date, in db: Database) throws {
        try db.execute(sql: "DELETE FROM pending_states WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
    }

    static func decode(_ row: Row) throws -> StoredGrant { try GrantColumns.decode(row) }
}

extension Row: StoreRowReading {
    public func text(_ column: String) -> String? { self[column] }
    public func real(_ column: String) -> Double? { self[column] }
    public func integer(_ column: String) -> Int64? { self[column] }
    public func blob(_ column: String) -> Data? { self[column] }
    public func flag(_ column: String) -> Bool { self[column] ?? false }
    public func has(_ column: String) -> Bool { hasColumn(column) }
}

extension StoreValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let n): n.databaseValue
        case .real(let x): x.databaseValue
        case .text(let t): t.databaseValue
        case .flag(let b): b.databaseValue
        }
    }
}
