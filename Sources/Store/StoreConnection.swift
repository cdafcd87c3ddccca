import Foundation
import GrantLifecycle

/// One connection of a store backend, inside a write transaction or a read: every
/// statement the grant engine, the audit chain and the keyring need, by what it means.
/// The decision logic (`GrantCommit`, `AuditLog`, `StoreKeyring`) is written once
/// against this, and each backend (SQLite, PostgreSQL) says it in its own SQL.
///
/// Synchronous on purpose: SQLite's writer runs a transaction as one closure on its own
/// thread, and the PostgreSQL backend does the same on a thread of its own, so one
/// decision's code serves both without an async hop per statement.
public protocol StoreConnection {
    // MARK: grants
    func loadGrant(user: String) throws -> StoredGrant?
    /// The engine's fields; sealed columns are left alone (the setters below).
    func saveGrant(_ grant: Grant) throws
    func setToken(_ sealed: Data?, user: String) throws
    func setSecret(_ sealed: Data?, externalID: String?, user: String) throws
    func setAuthorization(code: Data?, verifier: Data?, user: String) throws
    /// Another grant that holds key `externalID` (as its key or the one it must delete)
    /// and has not finished with it.
    func holder(ofKey externalID: String, otherThan user: String) throws -> String?
    func unsettledKeyWatches(probing: Bool) throws -> [String]
    func keyWatchSummary() throws -> (byCheck: [String: Int], oldestUse: Date?)
    func nextDeadline() throws -> Date?
    func nextTokenExpiry() throws -> Date?
    func grantCountsByState() throws -> [GrantState: Int]
    func listGrants(state: GrantState?, limit: Int) throws -> [StoredGrant]

    // MARK: intake
    /// False when the fingerprint was recorded before.
    func recordIngestion(fingerprint: String, user: String, at: Date) throws -> Bool
    func wasIngested(fingerprint: String) throws -> Bool
    func pruneIngestions(before cutoff: Date) throws
    func putPendingState(fingerprint: String, user: String, sealedVerifier: Data, expiresAt: Date) throws
    func pendingState(fingerprint: String, now: Date) throws -> (user: String, sealedVerifier: Data)?
    func forgetPendingState(fingerprint: String) throws
    func prunePendingStates(now: Date) throws

    // MARK: nonces
    /// Raises the mark of `apiKey` to `nonce`; a lower value changes nothing.
    func raiseNonce(_ apiKey: String, to nonce: Int64) throws
    func nonceMarks() throws -> [String: Int64]

    // MARK: instances
    /// Writes this instance's row whole (start, heartbeat, clean stop).
    func putInstance(_ record: InstanceRecord) throws
    /// Every instance that ran on this store and was seen since the last prune, by name.
    func instances() throws -> [InstanceRecord]
    func pruneInstances(lastSeenBefore cutoff: Date) throws

    // MARK: leases (`GrantLeases`; "now" is the database's clock)
    /// Sets this instance's lease to `seconds` from now; true when the one it had had
    /// expired (or it had none): another instance may have claimed its grants meanwhile.
    func renewLease(instance: String, seconds: Double) throws -> Bool
    /// This instance's grants and their epochs.
    func ownedGrants(by instance: String) throws -> [String: Int64]
    /// Takes up to `limit` grants with a deadline that no live instance holds, soonest
    /// first; each claim raises the epoch.
    func claimGrants(for instance: String, limit: Int) throws -> [LeaseClaim]
    /// Takes one grant, raising its epoch; answers the new epoch.
    func claimGrant(user: String, for instance: String) throws -> Int64
    /// Writes a grant's owner and epoch as they are elsewhere (copying a store).
    func setLease(user: String, owner: String?, epoch: Int64) throws
    /// A clean stop: this instance's grants are free for others at once.
    func releaseLeases(instance: String) throws
    /// Grants by owning instance, live or not.
    func grantCountsByOwner() throws -> [String: Int]
    /// Keeps a revocation for whichever instance holds the grant.
    func queueRevocation(_ request: QueuedRevocation) throws
    /// Revocations queued for grants `owner` holds, oldest first.
    func queuedRevocations(owner: String, limit: Int) throws -> [QueuedRevocation]
    func forgetRevocation(id: Int64) throws
    /// This instance's nonce lane (`V4NonceSource.assign(lane:of:)`): the lowest of `lanes`
    /// that no other live instance holds. Nil where one process holds the store (SQLite):
    /// its source needs no lane. Throws when every lane is taken.
    func claimNonceLane(instance: String, lanes: Int) throws -> Int?
    /// After this transaction commits, the audit tail is told of rows other processes
    /// appended (their instances' on a shared database); SQLite's one process has none.
    func followOthersAudit()

    // MARK: the audit chain
    func auditHead() throws -> AuditHead?
    /// Appends a row that extends the head (the backend's own guards refuse any other).
    func insertAudit(_ row: AuditRow) throws
    /// Rows with `seq` in (after, through], oldest first, at most `limit`.
    func auditRows(after seq: Int64, through: Int64?, limit: Int) throws -> [AuditRow]
    /// The newest `limit` rows (of `user` only, when given), oldest first.
    func recentAudit(limit: Int, user: String?) throws -> [AuditRow]
    func auditEventCounts(after seq: Int64) throws -> [String: Int]
    func auditHash(seq: Int64) throws -> String?
    func auditAt(seq: Int64) throws -> String?
    func auditBounds() throws -> (oldest: Int64?, newest: Int64?)
    /// The first row whose `at` is not before `at` (text order is time order).
    func firstAuditSeq(notBefore at: String) throws -> Int64?
    func auditCount(through seq: Int64?) throws -> Int
    /// Deletes the prefix `seq <= through` past the append-only guard, which lets only
    /// this through and only inside the transaction; answers the rows deleted.
    func deleteAuditPrefix(through seq: Int64) throws -> Int

    // MARK: keys
    func storeKeys() throws -> StoreKeysRow?
    func insertStoreKeys(_ row: StoreKeysRow) throws
    /// Every sealed box with the binding it was sealed under.
    func sealedBoxes() throws -> [(binding: SealBinding, sealed: Data)]

    // MARK: copying a whole store (`wbkeyd migrate-store`)
    /// Grants in user order after `user` (nil: from the first), sealed columns included.
    func storedGrants(after user: String?, limit: Int) throws -> [StoredGrant]
    func ingestions() throws -> [(fingerprint: String, user: String, at: Date)]
    func pendingStates() throws -> [(fingerprint: String, user: String, sealedVerifier: Data, expiresAt: Date)]

    /// Runs `body` in a savepoint: its writes stand or fall together, apart from the rest
    /// of the transaction.
    func inSavepoint(_ body: () throws -> Void) throws
    /// Whether a write transaction is open (audit writes refuse to run outside one).
    var isInsideTransaction: Bool { get }
}

extension StoreConnection {
    /// A grant as stored elsewhere, sealed boxes and all (their bindings name the user and
    /// key, not the store, so they open wherever the master key is the same).
    func importGrant(_ stored: StoredGrant) throws {
        let user = stored.grant.user
        try saveGrant(stored.grant)
        try setToken(stored.sealedToken, user: user)
        try setSecret(stored.sealedSecret, externalID: stored.secretExternalID, user: user)
        try setAuthorization(code: stored.sealedCode, verifier: stored.sealedVerifier, user: user)
        if let lease = stored.lease { try setLease(user: user, owner: lease.owner, epoch: lease.epoch) }
    }
}

/// The one row of `store_keys` (see `StoreKeyring`).
public struct StoreKeysRow: Sendable, Equatable {
    public let keyID: String
    public let sealedChainKey: Data
    public let legacyThroughSeq: Int64

    public init(keyID: String, sealedChainKey: Data, legacyThroughSeq: Int64) {
        self.keyID = keyID
        self.sealedChainKey = sealedChainKey
        self.legacyThroughSeq = legacyThroughSeq
    }
}

/// Where a store lives and how its transactions run: SQLite's pool, or PostgreSQL's
/// connections. `GrantStore` and the group committer see only this.
public protocol StoreBackend: Sendable {
    /// Runs `body` in one write transaction on the backend's writer, committing when it
    /// returns and rolling back when it throws; `completion` gets the outcome once the
    /// commit is durable. The callback form, so no caller's cancellation abandons it.
    func asyncWrite<T: Sendable>(
        _ body: @escaping @Sendable (any StoreConnection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void)
    /// Runs `body` on a reader, which never waits for the writer.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T
    /// A write transaction that blocks its caller: start-up work only (keying the store),
    /// outside the group committer.
    func blockingWrite<T>(_ body: (any StoreConnection) throws -> T) throws -> T
    /// A read that blocks its caller: start-up work only (loading the summary).
    func blockingRead<T>(_ body: (any StoreConnection) throws -> T) throws -> T
    /// Tells `sink` of every committed audit row from now on, while the result is kept.
    func startAuditTail(sink: any AuditTailSink) throws(StoreError) -> any Sendable
    /// What operators call the store in messages: a file's path, or a database without
    /// its password.
    var name: String { get }
    func close() throws(StoreError)
}
