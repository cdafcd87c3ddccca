import Foundation
import GrantLifecycle
import Sensitive

/// Every read and write the daemon makes to its store, as typed operations, the same on
/// every backend: SQL stays in the backends (`StoreConnection`), the decisions here.
///
/// Writes go through the group committer and return once durable; each grant decision
/// is one `decide` (or `ingest`) that applies a whole `Transition` in one commit. Reads
/// run on reader connections and never wait for a write.
public final class GrantStore: Sendable {
    public let backend: any StoreBackend
    public let sealer: Sealer
    public let audit: AuditLog
    public let summary: StoreSummary
    private let committer: GroupCommitter

    /// Counts the grants and reads the audit head for the summary, so open it after
    /// anything start-up appends (the keyring's `audit_keyed`).
    public init(backend: any StoreBackend, keyring: StoreKeyring) throws {
        self.backend = backend
        self.sealer = keyring.sealer
        self.audit = AuditLog(chainKey: keyring.chainKey)
        self.summary = try StoreSummary(loadingFrom: backend)
        self.committer = GroupCommitter(backend: backend, summary: summary)
    }

    public convenience init(database: StoreDatabase, keyring: StoreKeyring) throws {
        try self.init(backend: SQLiteBackend(database), keyring: keyring)
    }

    /// The SQLite file, when that is the backend (its size, backup and checkpoint).
    public var database: StoreDatabase? { (backend as? SQLiteBackend)?.database }

    /// Writes and transactions so far (each transaction one wait for the disk).
    public var counters: StoreCounters.Snapshot { committer.counters.snapshot }

    // MARK: decisions

    /// The lifecycle's decision on `event` for `user`, with all its effects, in one commit.
    /// Nil when the user has no grant and `create` is false.
    /// With `lease`, the decision is refused (`LeaseRefusal`, nothing written) when another
    /// instance holds the grant, and leaves this one holding it. `consuming`: a queued
    /// revocation this decision applies, deleted in its commit.
    public func decide(
        _ event: GrantEvent, user: String, actor: AuditActor, create: Bool = false, lifecycle: Lifecycle, now: Date, roll: Double,
        lease: LeaseCheck? = nil, consuming queued: Int64? = nil
    ) async throws -> Decision? {
        let step = GrantCommit(lifecycle: lifecycle, sealer: sealer, audit: audit, now: now, roll: roll, lease: lease)
        return try await committer.write(
            { db in
                let decision = try step.decide(event, user: user, actor: actor, create: create, in: db)
                if let queued { try db.forgetRevocation(id: queued) }
                return decision
            }, move: { $0?.move })
    }

    /// Keeps a revocation for the instance that holds the grant (`LeaseRefusal.heldElsewhere`
    /// answered this one), or for whichever takes the grant over.
    public func queue(_ revocation: QueuedRevocation) async throws {
        try await committer.write { db in try db.queueRevocation(revocation) }
    }

    /// A new authorization from the spool, in one commit: its fingerprint (the same code
    /// twice is recorded once: nil, with an `authorization_duplicate` row), the
    /// `authorize-url` state it used up, `authorization_received`, and the decision.
    public func ingest(
        _ authorization: Authorization, user: String, fingerprint: String, consumingState stateFingerprint: String?, file: String,
        lifecycle: Lifecycle, now: Date, roll: Double, lease: LeaseCheck? = nil
    ) async throws -> Decision? {
        let step = GrantCommit(lifecycle: lifecycle, sealer: sealer, audit: audit, now: now, roll: roll, lease: lease)
        let audit = self.audit
        return try await committer.write(
            { db in
                guard try db.recordIngestion(fingerprint: fingerprint, user: user, at: now) else {
                    _ = try audit.append(.duplicateAuthorization(user: user, file: file), in: db)
                    return nil
                }
                if let stateFingerprint { try db.forgetPendingState(fingerprint: stateFingerprint) }
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
            guard try db.recordIngestion(fingerprint: fingerprint, user: entry.user ?? "", at: now) else {
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
            if let mark { try db.raiseNonce(mark.key, to: mark.nonce) }
            return try audit.append(entry, in: db)
        }
    }

    /// Keeps an `authorize-url` verifier until `expiresAt`, found by its state's fingerprint.
    public func putPendingState(fingerprint: String, user: String, verifier: Sensitive, expiresAt: Date) async throws {
        let sealed = sealer.seal(verifier, binding: SealBinding(kind: .pendingStateVerifier, user: user))
        try await committer.write { db in
            try db.putPendingState(fingerprint: fingerprint, user: user, sealedVerifier: sealed, expiresAt: expiresAt)
        }
    }

    /// The daily clean-up in one commit: audit rows past `retention` (refused when it
    /// would remove too much), ingestion fingerprints before `ingestionsBefore`, expired
    /// `authorize-url` states, and instances not seen for `instancesUnseenFor` (a renamed
    /// or retired host's row shows in `status` for that long, then goes).
    public func housekeep(
        retention: Duration, ingestionsBefore: Date, now: Date, instancesUnseenFor: TimeInterval = 7 * 86_400
    ) async throws -> AuditPruneOutcome {
        let audit = self.audit
        return try await committer.write { db in
            let pruned = try audit.prune(retention: retention.seconds, in: db)
            try db.pruneIngestions(before: ingestionsBefore)
            try db.prunePendingStates(now: now)
            try db.pruneInstances(lastSeenBefore: now.addingTimeInterval(-instancesUnseenFor))
            return pruned
        }
    }

    /// Writes this instance's row and reads back every instance's, in one commit: the
    /// heartbeat, and the view of the cluster `status` shows until the next one.
    public func put(instance record: InstanceRecord) async throws -> [InstanceRecord] {
        try await committer.write { db in
            try db.putInstance(record)
            return try db.instances()
        }
    }

    /// The heartbeat with the lease, in one commit: this instance's row, its lease renewed
    /// for `seconds` from the database's clock, up to `claimLimit` grants with a deadline
    /// that no live instance holds claimed, and the cluster read back. `afresh` (a start):
    /// what this name held in an earlier run is released first, to be claimed again.
    /// Lanes for nonces: instances that may sign for one key at once.
    public static let nonceLanes = 16

    public func leaseRound(
        instance record: InstanceRecord, seconds: Double, claimLimit: Int, afresh: Bool = false
    ) async throws -> LeaseRound {
        let round = try await committer.write { db in
            try db.putInstance(record)
            if afresh { try db.releaseLeases(instance: record.name) }
            let lapsed = try db.renewLease(instance: record.name, seconds: seconds)
            let owned = lapsed ? try db.ownedGrants(by: record.name) : nil
            let claimed = try db.claimGrants(for: record.name, limit: claimLimit)
            let instances = try db.instances()
            let shared = instances.contains { $0.name != record.name && $0.stoppedAt == nil }
            // Others' audit rows reach this one's `events` within a heartbeat.
            if shared { db.followOthersAudit() }
            let lane = afresh ? try db.claimNonceLane(instance: record.name, lanes: Self.nonceLanes) : nil
            return LeaseRound(
                instances: instances, grantsByOwner: try db.grantCountsByOwner(), lapsed: lapsed, owned: owned, claimed: claimed,
                grantsByState: shared ? try db.grantCountsByState() : nil, nonceLane: lane,
                revocations: try db.queuedRevocations(owner: record.name, limit: 100))
        }
        if let counts = round.grantsByState { summary.recounted(counts) }
        return round
    }

    /// A clean stop: the stop mark, and every grant this instance held free at once.
    public func release(instance record: InstanceRecord) async throws -> [InstanceRecord] {
        try await committer.write { db in
            try db.putInstance(record)
            try db.releaseLeases(instance: record.name)
            return try db.instances()
        }
    }

    // MARK: reads

    public func grant(user: String) async throws -> StoredGrant? {
        try await backend.read { db in try db.loadGrant(user: user) }
    }

    /// Grants in user order, with who holds each.
    public func grants(state: GrantState?, limit: Int) async throws -> [StoredGrant] {
        try await backend.read { db in try db.listGrants(state: state, limit: limit) }
    }

    public func auditRows(limit: Int, user: String? = nil) async throws -> [AuditRow] {
        let audit = self.audit
        return try await backend.read { db in try audit.recent(limit: limit, user: user, in: db) }
    }

    public func auditHead() async throws -> AuditHead? {
        try await backend.read { db in try AuditLog.head(in: db) }
    }

    /// The chain around a witnessed `seq`: its hash there, and the oldest and newest rows.
    public func auditChain(at seq: Int64) async throws -> (hash: String?, oldest: Int64?, newest: Int64?) {
        try await backend.read { db in
            let bounds = try db.auditBounds()
            return (try db.auditHash(seq: seq), bounds.oldest, bounds.newest)
        }
    }

    public func unsettledKeyWatches(probing: Bool) async throws -> [String] {
        try await backend.read { db in try db.unsettledKeyWatches(probing: probing) }
    }

    public func nonceMarks() async throws -> [String: Int64] {
        try await backend.read { db in try db.nonceMarks() }
    }

    public func wasIngested(fingerprint: String) async throws -> Bool {
        try await backend.read { db in try db.wasIngested(fingerprint: fingerprint) }
    }

    /// The verifier kept for an `authorize-url` state and the user it was issued for,
    /// while the state lives; nothing is changed (`ingest` uses it up).
    public func pendingState(fingerprint: String, now: Date) async throws -> (user: String, verifier: Sensitive?)? {
        let sealer = self.sealer
        guard let found = try await backend.read({ db in try db.pendingState(fingerprint: fingerprint, now: now) })
        else { return nil }
        let verifier = try? sealer.open(found.sealedVerifier, binding: SealBinding(kind: .pendingStateVerifier, user: found.user))
        return (found.user, verifier)
    }

    /// The earliest token expiry of any grant (one pass over the grants, on a reader).
    public func nextTokenExpiry() async throws -> Date? {
        try await backend.read { db in try db.nextTokenExpiry() }
    }

    public func keyWatchSummary() async throws -> (byCheck: [String: Int], oldestUse: Date?) {
        try await backend.read { db in try db.keyWatchSummary() }
    }

    // MARK: the backend

    /// Tells `sink` of every committed audit row from now on, for as long as the
    /// returned tail is kept.
    public func startAuditTail(sink: any AuditTailSink) throws(StoreError) -> any Sendable {
        try backend.startAuditTail(sink: sink)
    }

    /// A consistent copy of the SQLite file; PostgreSQL has its own tools for that.
    public func backup(to path: String) throws -> StoreBackup {
        guard let database else { throw StoreError.unsupported(operation: "backup", backend: backend.name) }
        return try StoreBackup.make(of: database, to: path)
    }

    /// SQLite's WAL checkpoint; nothing to do on PostgreSQL (nil).
    public func checkpoint() throws(StoreError) -> CheckpointOutcome? {
        try database?.checkpoint()
    }

    public func close() throws(StoreError) {
        try backend.close()
    }
}
