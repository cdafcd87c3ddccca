import Foundation
import GRDB
import GrantLifecycle
import Sensitive

/// Every read and write the daemon makes to its store, as typed operations: SQL and
/// GRDB stay inside this module, so a second backend has one interface to meet.
///
/// Writes go through the group committer and return once durable; each grant decision
/// is one `decide` (or `ingest`) that applies a whole `Transition` in one commit. Reads
/// run on reader connections and never wait for a write.
public final class GrantStore: Sendable {
    public let database: StoreDatabase
    public let sealer: Sealer
    public let audit: AuditLog
    public let summary: StoreSummary
    private let committer: GroupCommitter

    /// Counts the grants and reads the audit head for the summary, so open it after
    /// anything start-up appends (the keyring's `audit_keyed`).
    public init(database: StoreDatabase, keyring: StoreKeyring) throws {
        self.database = database
        self.sealer = keyring.sealer
        self.audit = AuditLog(chainKey: keyring.chainKey)
        self.summary = try StoreSummary(loadingFrom: database.pool)
        self.committer = GroupCommitter(pool: database.pool, summary: summary)
    }

    /// Writes and transactions so far (each transaction one wait for the disk).
    public var counters: StoreCounters.Snapshot { committer.counters.snapshot }

    // MARK: decisions

    /// The lifecycle's decision on `event` for `user`, with all its effects, in one commit.
    /// Nil when the user has no grant and `create` is false.
    public func decide(
        _ event: GrantEvent, user: String, actor: AuditActor, create: Bool = false, lifecycle: Lifecycle, now: Date, roll: Double
    ) async throws -> Decision? {
        let step = GrantCommit(lifecycle: lifecycle, sealer: sealer, audit: audit, now: now, roll: roll)
        return try await committer.write(
            { db in try step.decide(event, user: user, actor: actor, create: create, in: db) }, move: { $0?.move })
    }

    /// A new authorization from the spool, in one commit: its fingerprint (the same code
    /// twice is recorded once: nil, with an `authorization_duplicate` row), the
    /// `authorize-url` state it used up, `authorization_received`, and the decision.
    public func ingest(
        _ authorization: Authorization, user: String, fingerprint: String, consumingState stateFingerprint: String?, file: String,
        lifecycle: Lifecycle, now: Date, roll: Double
    ) async throws -> Decision? {
        let step = GrantCommit(lifecycle: lifecycle, sealer: sealer, audit: audit, now: now, roll: roll)
        let audit = self.audit
        return try await committer.write(
            { db in
                guard try GrantRecords.recordIngestion(fingerprint: fingerprint, user: user, at: now, in: db) else {
                    _ = try audit.append(.duplicateAuthorization(user: user, file: file), in: db)
                    return nil
                }
                if let stateFingerprint { try GrantRecords.forgetPendingState(fingerprint: stateFingerprint, in: db) }
                _ = try audit.append(
                    AuditEntry(
                        .authorizationReceived, user: user, externalID: nil, actor: .wbkeyd,
                        detail: [
                            "file": .string(file), "received_at": .string(AuditTimestamp.format(authorization.receivedAt)),
                            "with_api_key": .bool(authorization.apiKey != nil),
                        ]),
                    in: db)
                return try step.decide(.authorizationReceived(authorization), user: user, actor: .wbkeyd, create: true, in: db)
            }, move: { $0?.move })
    }

    // MARK: other writes

    /// An audit row outside any grant decision (daemon events, refusals, reads).
    public func append(_ entry: AuditEntry) async throws -> AuditRow {
        let audit = self.audit
        return try await committer.write { db in try audit.append(entry, in: db) }
    }

    /// An audit row written once per `fingerprint` (a refused spool file's delivery);
    /// false when it was recorded before.
    public func appendOnce(_ entry: AuditEntry, fingerprint: String, at now: Date) async throws -> Bool {
        let audit = self.audit
        return try await committer.write { db in
            guard try GrantRecords.recordIngestion(fingerprint: fingerprint, user: entry.user ?? "", at: now, in: db) else {
                return false
            }
            _ = try audit.append(entry, in: db)
            return true
        }
    }

    /// An audit row and the nonce mark of the signature it records, in one commit.
    public func append(_ entry: AuditEntry, raising mark: NonceMark?) async throws {
        let audit = self.audit
        _ = try await committer.write { db in
            if let mark { try NonceRecords.raise(mark.key, to: mark.nonce, in: db) }
            return try audit.append(entry, in: db)
        }
    }

    /// Keeps an `authorize-url` verifier until `expiresAt`, found by its state's fingerprint.
    public func putPendingState(fingerprint: String, user: String, verifier: Sensitive, expiresAt: Date) async throws {
        let sealed = sealer.seal(verifier, binding: SealBinding(kind: .pendingStateVerifier, user: user))
        try await committer.write { db in
            try GrantRecords.putPendingState(fingerprint: fingerprint, user: user, sealedVerifier: sealed, expiresAt: expiresAt, in: db)
        }
    }

    /// The daily clean-up in one commit: audit rows past `retention` (refused when it
    /// would remove too much), ingestion fingerprints before `ingestionsBefore`, expired
    /// `authorize-url` states.
    public func housekeep(retention: Duration, ingestionsBefore: Date, now: Date) async throws -> AuditPruneOutcome {
        let audit = self.audit
        return try await committer.write { db in
            let pruned = try audit.prune(retention: retention.seconds, in: db)
            try GrantRecords.pruneIngestions(before: ingestionsBefore, in: db)
            try GrantRecords.prunePendingStates(now: now, in: db)
            return pruned
        }
    }

    // MARK: reads

    public func grant(user: String) async throws -> StoredGrant? {
        try await database.pool.read { db in try GrantRecords.load(user: user, in: db) }
    }

    public func grants(state: GrantState?, limit: Int) async throws -> [Grant] {
        try await database.pool.read { db in try GrantRecords.list(state: state, limit: limit, in: db) }
    }

    public func auditRows(limit: Int, user: String? = nil) async throws -> [AuditRow] {
        let audit = self.audit
        return try await database.pool.read { db in try audit.recent(limit: limit, user: user, in: db) }
    }

    public func auditHead() async throws -> AuditHead? {
        let audit = self.audit
        return try await database.pool.read { db in try audit.head(in: db) }
    }

    /// The chain around a witnessed `seq`: its hash there, and the oldest and newest rows.
    public func auditChain(at seq: Int64) async throws -> (hash: String?, oldest: Int64?, newest: Int64?) {
        try await database.pool.read { db in
            (try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [seq]),
             try Int64.fetchOne(db, sql: "SELECT min(seq) FROM audit"),
             try Int64.fetchOne(db, sql: "SELECT max(seq) FROM audit"))
        }
    }

    public func deadlines() async throws -> [(user: String, at: Date)] {
        try await database.pool.read { db in try GrantRecords.deadlines(in: db) }
    }

    public func unsettledKeyWatches(probing: Bool) async throws -> [String] {
        try await database.pool.read { db in try GrantRecords.unsettledKeyWatches(probing: probing, in: db) }
    }

    public func nonceMarks() async throws -> [String: Int64] {
        try await database.pool.read { db in try NonceRecords.all(in: db) }
    }

    public func wasIngested(fingerprint: String) async throws -> Bool {
        try await database.pool.read { db in try GrantRecords.wasIngested(fingerprint: fingerprint, in: db) }
    }

    /// The verifier kept for an `authorize-url` state and the user it was issued for,
    /// while the state lives; nothing is changed (`ingest` uses it up).
    public func pendingState(fingerprint: String, now: Date) async throws -> (user: String, verifier: Sensitive?)? {
        let sealer = self.sealer
        guard let found = try await database.pool.read({ db in try GrantRecords.pendingState(fingerprint: fingerprint, now: now, in: db) })
        else { return nil }
        let verifier = try? sealer.open(found.sealedVerifier, binding: SealBinding(kind: .pendingStateVerifier, user: found.user))
        return (found.user, verifier)
    }

    /// The earliest token expiry of any grant (one pass over the grants, on a reader).
    public func nextTokenExpiry() async throws -> Date? {
        try await database.pool.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(token_expires_at) FROM grants").map { Date(timeIntervalSince1970: $0) }
        }
    }

    public func keyWatchSummary() async throws -> (byCheck: [String: Int], oldestUse: Date?) {
        try await database.pool.read { db in try GrantRecords.keyWatchSummary(in: db) }
    }

    // MARK: the file

    /// Tells `sink` of every committed audit row from now on, for as long as the
    /// returned tail is kept.
    public func startAuditTail(sink: any AuditTailSink) throws(StoreError) -> AuditTail {
        try AuditTail.start(on: database.pool, sink: sink)
    }

    public func backup(to path: String) throws -> StoreBackup {
        try StoreBackup.make(of: database, to: path)
    }

    public func checkpoint() throws(StoreError) -> CheckpointOutcome {
        try database.checkpoint()
    }

    public func close() throws(StoreError) {
        try database.close()
    }
}
