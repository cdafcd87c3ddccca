import Foundation
import GrantLifecycle
import PostgresNIO
import Store

/// `StoreConnection` in PostgreSQL's dialect, on one session inside the backend's
/// transaction (or a read).
final class PostgresStoreConnection: StoreConnection {
    let session: PostgresSession
    let isInsideTransaction: Bool
    /// Set once an audit row is inserted: the backend tells the audit tail after commit.
    var touchedAudit = false
    var savepoints = 0
    // Each statement is a round trip of the writer's session, answered before the next is
    // sent (postgres-nio does not pipeline), so what a transaction can keep to itself it
    // does: its audit rows go to the server as one INSERT when something reads the log or
    // the transaction commits (`flushAudit`), the head they make is known here, and a
    // group commit's savepoint goes out only before the first statement of its write.
    /// Every audit row this transaction inserted, oldest first; the first `sentRows` are
    /// on the server.
    var insertedRows: [AuditRow] = []
    var sentRows = 0
    /// The head read from the server inside this transaction; nil: not read yet.
    var headRead: AuditHead??
    /// The savepoints opened by `inSavepoint` and not yet ended, outermost first.
    var openSavepoints: [OpenSavepoint] = []

    struct OpenSavepoint {
        let name: String
        /// `insertedRows.count` when it opened: a rollback drops the rows after.
        let rowMark: Int
        /// `sentRows` when SAVEPOINT went to the server; nil: not sent (nothing to undo there).
        var sentAt: Int?
    }

    init(session: PostgresSession, inTransaction: Bool) {
        self.session = session
        self.isInsideTransaction = inTransaction
    }

    /// Every statement of this connection: the savepoints it owes the server first.
    @discardableResult
    func run(_ query: PostgresQuery, _ operation: @autoclosure () -> String) throws(StoreError) -> PostgresResult {
        for index in openSavepoints.indices where openSavepoints[index].sentAt == nil {
            _ = try session.run(PostgresQuery(unsafeSQL: "SAVEPOINT \(openSavepoints[index].name)"), "opening a savepoint")
            openSavepoints[index].sentAt = sentRows
        }
        return try session.run(query, operation())
    }

    // MARK: grants

    func loadGrant(user: String) throws -> StoredGrant? {
        try run(
            """
            SELECT g.*, (SELECT i.lease_expires >= \(unescaped: Self.now) FROM instances i WHERE i.name = g.owner) AS owner_live
            FROM grants g WHERE g."user" = \(user)
            """, "loading the grant of \(user)"
        ).rows.first
            .map(GrantColumns.decode)
    }

    private static let saveSQL: String = {
        let names = GrantColumns.names
        let quoted = names.map { $0 == "user" ? "\"user\"" : $0 }
        let placeholders = (1...names.count).map { "$\($0)" }.joined(separator: ", ")
        let updates = quoted.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return "INSERT INTO grants (\(quoted.joined(separator: ", "))) VALUES (\(placeholders)) "
            + "ON CONFLICT (\"user\") DO UPDATE SET \(updates)"
    }()

    func saveGrant(_ grant: Grant) throws {
        var binds = PostgresBindings(capacity: GrantColumns.names.count)
        for value in GrantColumns.values(of: grant) { binds.append(value) }
        try run(PostgresQuery(unsafeSQL: Self.saveSQL, binds: binds), "saving the grant of \(grant.user)")
    }

    func setToken(_ sealed: Data?, user: String) throws {
        try run("UPDATE grants SET sealed_token = \(sealed) WHERE \"user\" = \(user)", "sealing a token")
    }

    func setSecret(_ sealed: Data?, externalID: String?, user: String) throws {
        let boundID = sealed == nil ? nil : externalID
        try run(
            "UPDATE grants SET sealed_secret = \(sealed), secret_external_id = \(boundID) WHERE \"user\" = \(user)",
            "sealing a secret")
    }

    func setAuthorization(code: Data?, verifier: Data?, user: String) throws {
        try run(
            "UPDATE grants SET sealed_code = \(code), sealed_verifier = \(verifier) WHERE \"user\" = \(user)",
            "sealing an authorization")
    }

    func holder(ofKey externalID: String, otherThan user: String) throws -> String? {
        try run(
            """
            SELECT "user" FROM grants WHERE (external_id = \(externalID) OR doomed_key = \(externalID)) AND "user" <> \(user)
                AND state NOT IN ('revoked', 'gone', 'failed', 'no_key') ORDER BY "user" LIMIT 1
            """, "finding the holder of a key"
        ).rows.first?.text("user")
    }

    func unsettledKeyWatches(probing: Bool) throws -> [String] {
        try run(
            """
            SELECT "user" FROM grants WHERE state IN ('dormant', 'disabled') AND sealed_secret IS NOT NULL
                AND (probe_at IS NULL) = \(probing)
            """, "reading key watches"
        ).rows.map { try $0.text("user") ?? "" }
    }

    func keyWatchSummary() throws -> (byCheck: [String: Int], oldestUse: Date?) {
        var byCheck: [String: Int] = [:]
        var oldest: Double?
        for row in try run(
            """
            SELECT COALESCE(key_check, 'unchecked') AS c, COUNT(*) AS n, MIN(key_used_at) AS used
            FROM grants WHERE sealed_secret IS NOT NULL GROUP BY c
            """, "summarising key watches"
        ).rows {
            byCheck[try row.text("c") ?? ""] = Int(try row.integer("n") ?? 0)
            if let used = try row.real("used") { oldest = min(oldest ?? used, used) }
        }
        return (byCheck, oldest.map(Date.init(timeIntervalSince1970:)))
    }

    func nextDeadline() throws -> Date? {
        try run("SELECT MIN(next_deadline) AS t FROM grants WHERE next_deadline IS NOT NULL", "reading the next deadline")
            .rows.first?.real("t").map(Date.init(timeIntervalSince1970:))
    }

    func nextTokenExpiry() throws -> Date? {
        try run("SELECT MIN(token_expires_at) AS t FROM grants", "reading the next token expiry")
            .rows.first?.real("t").map(Date.init(timeIntervalSince1970:))
    }

    func grantCountsByState() throws -> [GrantState: Int] {
        var counts: [GrantState: Int] = [:]
        for row in try run("SELECT state, COUNT(*) AS n FROM grants GROUP BY state", "counting grants").rows {
            if let state = GrantState(rawValue: try row.text("state") ?? "") { counts[state] = Int(try row.integer("n") ?? 0) }
        }
        return counts
    }

    func listGrants(state: GrantState?, limit: Int) throws -> [StoredGrant] {
        let limit = Int64(limit)
        let rows: [PostgresRandomAccessRow]
        if let state {
            rows = try run(
                "SELECT * FROM grants WHERE state = \(state.rawValue) ORDER BY \"user\" LIMIT \(limit)", "listing grants"
            ).rows
        } else {
            rows = try run("SELECT * FROM grants ORDER BY \"user\" LIMIT \(limit)", "listing grants").rows
        }
        return try rows.map { try GrantColumns.decode($0) }
    }

    // MARK: intake

    func recordIngestion(fingerprint: String, user: String, at: Date) throws -> Bool {
        try run(
            """
            INSERT INTO ingested_codes (fingerprint, "user", at) VALUES (\(fingerprint), \(user), \(at.timeIntervalSince1970))
            ON CONFLICT (fingerprint) DO NOTHING
            """, "recording an ingestion"
        ).changed == 1
    }

    func wasIngested(fingerprint: String) throws -> Bool {
        try !run("SELECT 1 AS one FROM ingested_codes WHERE fingerprint = \(fingerprint)", "reading an ingestion").rows.isEmpty
    }

    func pruneIngestions(before cutoff: Date) throws {
        try run("DELETE FROM ingested_codes WHERE at < \(cutoff.timeIntervalSince1970)", "pruning ingestions")
    }

    func putPendingState(fingerprint: String, user: String, sealedVerifier: Data, expiresAt: Date) throws {
        try run(
            """
            INSERT INTO pending_states (fingerprint, "user", sealed_verifier, expires_at)
            VALUES (\(fingerprint), \(user), \(sealedVerifier), \(expiresAt.timeIntervalSince1970))
            ON CONFLICT (fingerprint) DO UPDATE SET "user" = excluded."user", sealed_verifier = excluded.sealed_verifier,
                expires_at = excluded.expires_at
            """, "keeping an authorize-url state")
    }

    func pendingState(fingerprint: String, now: Date) throws -> (user: String, sealedVerifier: Data)? {
        guard let row = try run(
            "SELECT \"user\", sealed_verifier, expires_at FROM pending_states WHERE fingerprint = \(fingerprint)",
            "reading an authorize-url state"
        ).rows.first, Date(timeIntervalSince1970: try row.real("expires_at") ?? 0) > now,
            let user = try row.text("user"), let verifier = try row.blob("sealed_verifier")
        else { return nil }
        return (user, verifier)
    }

    func forgetPendingState(fingerprint: String) throws {
        try run("DELETE FROM pending_states WHERE fingerprint = \(fingerprint)", "using up an authorize-url state")
    }

    func prunePendingStates(now: Date) throws {
        try run("DELETE FROM pending_states WHERE expires_at <= \(now.timeIntervalSince1970)", "pruning authorize-url states")
    }

    // MARK: nonces

    func raiseNonce(_ apiKey: String, to nonce: Int64) throws {
        try run(
            """
            INSERT INTO key_nonces (api_key, last_nonce) VALUES (\(apiKey), \(nonce))
            ON CONFLICT (api_key) DO UPDATE SET last_nonce = greatest(key_nonces.last_nonce, excluded.last_nonce)
            """, "raising a nonce mark")
    }

    func nonceMarks() throws -> [String: Int64] {
        var marks: [String: Int64] = [:]
        for row in try run("SELECT api_key, last_nonce FROM key_nonces", "reading nonce marks").rows {
            marks[try row.text("api_key") ?? ""] = try row.integer("last_nonce")
        }
        return marks
    }

    // MARK: instances

    func putInstance(_ record: InstanceRecord) throws {
        let (started, seen, stopped) = (
            record.startedAt.timeIntervalSince1970, record.lastSeen.timeIntervalSince1970, record.stoppedAt?.timeIntervalSince1970
        )
        try run(
            """
            INSERT INTO instances (name, host, pid, started_at, last_seen, stopped_at)
            VALUES (\(record.name), \(record.host), \(record.pid), \(started), \(seen), \(stopped))
            ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
                last_seen = excluded.last_seen, stopped_at = excluded.stopped_at
            """, "writing this instance's row")
    }

    func pruneInstances(lastSeenBefore cutoff: Date) throws {
        try run("DELETE FROM instances WHERE last_seen < \(cutoff.timeIntervalSince1970)", "pruning the instances")
    }

    // MARK: leases

    /// The server's clock in Unix seconds; `clock_timestamp()`, not `now()`, which is the
    /// transaction's start (a writer that waited for the write lock would see leases live
    /// that have run out meanwhile).
    static let now = "extract(epoch from clock_timestamp())"

    func renewLease(instance: String, seconds: Double) throws -> Bool {
        let live = try run(
            "SELECT lease_expires >= \(unescaped: Self.now) AS live FROM instances WHERE name = \(instance)", "reading this instance's lease"
        ).rows.first.map { try $0.flag("live") } ?? false
        try run(
            "UPDATE instances SET lease_expires = \(unescaped: Self.now) + \(seconds) WHERE name = \(instance)", "renewing this instance's lease")
        return !live
    }

    func ownedGrants(by instance: String) throws -> [String: Int64] {
        var owned: [String: Int64] = [:]
        for row in try run("SELECT \"user\", lease_epoch FROM grants WHERE owner = \(instance)", "reading this instance's grants").rows {
            owned[try row.text("user") ?? ""] = try row.integer("lease_epoch") ?? 0
        }
        return owned
    }

    func claimGrants(for instance: String, limit: Int) throws -> [LeaseClaim] {
        // SKIP LOCKED: a row another transaction is writing is left to it (the write lock
        // already orders wbkeyd's own transactions; this keeps a claim from ever waiting).
        try run(
            """
            UPDATE grants SET owner = \(instance), lease_epoch = lease_epoch + 1 WHERE "user" IN (
                SELECT "user" FROM grants WHERE next_deadline IS NOT NULL AND (owner IS NULL
                    OR (owner <> \(instance) AND owner NOT IN (SELECT name FROM instances WHERE lease_expires >= \(unescaped: Self.now))))
                ORDER BY next_deadline LIMIT \(Int64(max(0, limit))) FOR UPDATE SKIP LOCKED)
            RETURNING "user", lease_epoch, next_deadline
            """, "claiming grants"
        ).rows.map { row in
            LeaseClaim(
                user: try row.text("user") ?? "", epoch: try row.integer("lease_epoch") ?? 0,
                deadline: try row.real("next_deadline").map(Date.init(timeIntervalSince1970:)))
        }
    }

    func claimGrant(user: String, for instance: String) throws -> Int64 {
        try run(
            "UPDATE grants SET owner = \(instance), lease_epoch = lease_epoch + 1 WHERE \"user\" = \(user) RETURNING lease_epoch",
            "claiming the grant of \(user)"
        ).rows.first.map { try $0.integer("lease_epoch") ?? 0 } ?? 0
    }

    func setLease(user: String, owner: String?, epoch: Int64) throws {
        try run("UPDATE grants SET owner = \(owner), lease_epoch = \(epoch) WHERE \"user\" = \(user)", "copying the lease of \(user)")
    }

    func releaseLeases(instance: String) throws {
        try run("UPDATE grants SET owner = NULL WHERE owner = \(instance)", "releasing this instance's grants")
        try run("UPDATE instances SET lease_expires = NULL WHERE name = \(instance)", "ending this instance's lease")
    }

    func grantCountsByOwner() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try run(
            "SELECT owner, COUNT(*) AS n FROM grants WHERE owner IS NOT NULL GROUP BY owner", "counting grants by owner"
        ).rows {
            counts[try row.text("owner") ?? ""] = Int(try row.integer("n") ?? 0)
        }
        return counts
    }

    func followOthersAudit() { touchedAudit = true }

    func queueRevocation(_ request: QueuedRevocation) throws {
        try run(
            """
            INSERT INTO revocation_requests ("user", reason, actor, at)
            VALUES (\(request.user), \(request.reason), \(request.actor.text), \(request.at.timeIntervalSince1970))
            """, "queueing a revocation of \(request.user)")
    }

    func queuedRevocations(owner: String, limit: Int) throws -> [QueuedRevocation] {
        try run(
            """
            SELECT r.id, r."user", r.reason, r.actor, r.at FROM revocation_requests r JOIN grants g ON g."user" = r."user"
            WHERE g.owner = \(owner) ORDER BY r.id LIMIT \(Int64(max(0, limit)))
            """, "reading queued revocations"
        ).rows.map { row in
            QueuedRevocation(
                id: try row.integer("id"), user: try row.text("user") ?? "", reason: try row.text("reason") ?? "",
                actor: AuditActor(text: try row.text("actor") ?? "") ?? .wbkeyd,
                at: Date(timeIntervalSince1970: try row.real("at") ?? 0))
        }
    }

    func forgetRevocation(id: Int64) throws {
        try run("DELETE FROM revocation_requests WHERE id = \(id)", "forgetting a queued revocation")
    }

    func claimNonceLane(instance: String, lanes: Int) throws -> Int? {
        let taken = Set(try run(
            """
            SELECT nonce_lane FROM instances
            WHERE name <> \(instance) AND nonce_lane IS NOT NULL AND lease_expires >= \(unescaped: Self.now)
            """, "reading the nonce lanes in use"
        ).rows.compactMap { try $0.integer("nonce_lane") })
        guard let lane = (0..<Int64(lanes)).first(where: { !taken.contains($0) }) else {
            throw StoreError.unsupported(
                operation: "running more than \(lanes) instances at once (each signs in a nonce lane of its own)", backend: "postgresql")
        }
        try run("UPDATE instances SET nonce_lane = \(lane) WHERE name = \(instance)", "taking a nonce lane")
        return Int(lane)
    }

    func instances() throws -> [InstanceRecord] {
        try run(
            "SELECT name, host, pid, started_at, last_seen, stopped_at FROM instances ORDER BY name COLLATE \"C\"", "reading the instances"
        ).rows.map { row in
            InstanceRecord(
                name: try row.text("name") ?? "", host: try row.text("host") ?? "", pid: try row.integer("pid") ?? 0,
                startedAt: Date(timeIntervalSince1970: try row.real("started_at") ?? 0),
                lastSeen: Date(timeIntervalSince1970: try row.real("last_seen") ?? 0),
                stoppedAt: try row.real("stopped_at").map { Date(timeIntervalSince1970: $0) })
        }
    }
}
