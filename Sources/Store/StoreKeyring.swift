import Crypto
import Foundation
import GRDB
import GrantLifecycle
import Sensitive

/// What the master key unlocks in a store: the `Sealer` for secrets and the audit chain key.
///
/// The `store_keys` row holds the id of the master key the store is keyed with, the chain key
/// sealed under that master key (its GCM tag is the check value: only the right key opens
/// it), and `legacy_through_seq`, the last row written before the chain was keyed (0 for a
/// store keyed from its first row). Why a random sealed chain key rather than one derived
/// from the master key: `wbkeyd rewrap` re-seals it under a new master key without touching
/// a row, which the append-only triggers would not allow (docs/audit.md).
public struct StoreKeyring: Sendable {
    public let sealer: Sealer
    public let chainKey: AuditChainKey
    /// Rows up to this seq are the legacy (plain SHA-256) prefix.
    public let legacyThroughSeq: Int64

    public var keyID: MasterKeyID { sealer.keyID }

    static let chainKeyBinding = SealBinding(kind: .auditChainKey, user: "wbkeyd")

    /// For the daemon at start: opens the store's keys with `masterKey`, or keys a store that
    /// has none yet (a new store, or one written before the chain was keyed) and audits that
    /// as `audit_keyed`. A master key other than the store's is refused, naming both ids.
    public static func unlock(
        masterKey: Data, store: StoreDatabase, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(StoreError) -> StoreKeyring {
        try unlock(masterKey: masterKey, backend: SQLiteBackend(store), clock: clock)
    }

    public static func unlock(
        masterKey: Data, backend: any StoreBackend, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(StoreError) -> StoreKeyring {
        let path = backend.name
        let sealer: Sealer
        do { sealer = try Sealer(masterKey: masterKey) } catch { throw .keys(path: path, message: "\(error)") }
        do {
            return try backend.blockingWrite { db in
                if let keyring = try read(sealer: sealer, path: path, in: db) { return keyring }
                return try establish(sealer: sealer, path: path, clock: clock, in: db)
            }
        } catch {
            throw StoreError.wrapping(error, operation: "unlocking the keys of \(path)")
        }
    }

    /// Reads the keys with `sealer`'s master key; nil when the store is not keyed yet.
    public static func read(sealer: Sealer, path: String, in db: Database) throws(StoreError) -> StoreKeyring? {
        try read(sealer: sealer, path: path, in: SQLiteStoreConnection(db))
    }

    public static func read(sealer: Sealer, path: String, in db: any StoreConnection) throws(StoreError) -> StoreKeyring? {
        let row: StoreKeysRow?
        do {
            row = try db.storeKeys()
        } catch {
            throw StoreError.wrapping(error, operation: "reading the keys of \(path)")
        }
        guard let row else { return nil }
        guard row.keyID == sealer.keyID.text else {
            throw .wrongMasterKey(path: path, storeKeyID: row.keyID, givenKeyID: sealer.keyID.text)
        }
        let opened: Sensitive
        do {
            opened = try sealer.open(row.sealedChainKey, binding: chainKeyBinding)
        } catch {
            throw .keys(path: path, message: "the sealed audit chain key does not open under master key \(row.keyID): \(error)")
        }
        guard let bytes = hexBytes(opened.revealed), let chainKey = AuditChainKey(bytes: bytes) else {
            throw .keys(path: path, message: "the sealed audit chain key is not 32 bytes")
        }
        return StoreKeyring(sealer: sealer, chainKey: chainKey, legacyThroughSeq: row.legacyThroughSeq)
    }

    private static func establish(
        sealer: Sealer, path: String, clock: @escaping @Sendable () -> Date, in db: any StoreConnection
    ) throws -> StoreKeyring {
        // A store written before key ids has boxes of format 1: one must open under this key,
        // or the key is the wrong one and keying the store with it would lock the secrets out.
        let boxes = try db.sealedBoxes()
        if boxes.contains(where: { $0.sealed.first == Sealer.formatVersion }) {
            // Boxes with key ids were sealed by a keyed store: its keys row was removed, and
            // keying afresh would hide that.
            throw StoreError.keys(path: path, message: "the store has secrets sealed with key ids but no store_keys row")
        }
        if let box = boxes.first {
            do {
                _ = try sealer.open(box.sealed, binding: box.binding)
            } catch {
                throw StoreError.keys(
                    path: path, message: "master key \(sealer.keyID) does not open the store's sealed \(box.binding): \(error)")
            }
        }
        let chainKey = AuditChainKey.random()
        let head = try AuditLog.head(in: db)
        let legacy = head?.seq ?? 0
        try db.insertStoreKeys(StoreKeysRow(
            keyID: sealer.keyID.text, sealedChainKey: sealer.seal(Sensitive(chainKey.hexText), binding: chainKeyBinding),
            legacyThroughSeq: legacy))
        // A new store is keyed from its first row and needs no boundary row; an older one
        // gets `audit_keyed`, whose HMAC covers the legacy head.
        if legacy > 0 { try AuditLog(chainKey: chainKey, clock: clock).append(
            AuditEntry(.auditKeyed, detail: [
                "key_id": .string(sealer.keyID.text), "legacy_through_seq": .int(Int(legacy)),
                "legacy_head_hash": .string(head?.hash ?? AuditChain.genesisPrevHash),
            ]), in: db) }
        return StoreKeyring(sealer: sealer, chainKey: chainKey, legacyThroughSeq: legacy)
    }
}

/// Every sealed box in the store, with the binding it was sealed under: what `rewrap` moves
/// to a new key and what keying an old store tries its master key on.
struct StoredBoxes {
    struct Box {
        let table: String
        let column: String
        let rowKey: (column: String, value: String)
        let binding: SealBinding
        let sealed: Data
    }

    static func all(in db: Database) throws -> [Box] {
        var boxes: [Box] = []
        for row in try Row.fetchAll(
            db, sql: "SELECT user, sealed_token, sealed_secret, secret_external_id, sealed_code, sealed_verifier FROM grants")
        {
            let user: String = row["user"]
            let columns: [(String, SealBinding)] = [
                ("sealed_token", SealBinding(kind: .accessToken, user: user)),
                ("sealed_secret", SealBinding(kind: .apiSecret, user: user, externalID: row["secret_external_id"])),
                ("sealed_code", SealBinding(kind: .authorizationCode, user: user)),
                ("sealed_verifier", SealBinding(kind: .codeVerifier, user: user)),
            ]
            for (column, binding) in columns {
                guard let sealed: Data = row[column] else { continue }
                boxes.append(Box(table: "grants", column: column, rowKey: ("user", user), binding: binding, sealed: sealed))
            }
        }
        for row in try Row.fetchAll(db, sql: "SELECT fingerprint, user, sealed_verifier FROM pending_states") {
            boxes.append(Box(
                table: "pending_states", column: "sealed_verifier", rowKey: ("fingerprint", row["fingerprint"]),
                binding: SealBinding(kind: .pendingStateVerifier, user: row["user"]), sealed: row["sealed_verifier"]))
        }
        return boxes
    }

    static func replace(_ box: Box, with sealed: Data, in db: Database) throws {
        try db.execute(
            sql: "UPDATE \(box.table) SET \(box.column) = ? WHERE \(box.rowKey.column) = ?",
            arguments: [sealed, box.rowKey.value])
    }
}

/// The `store_keys` table (see `StoreKeyring`). One row, never deleted.
public enum KeySchema {
    public static let migration = StoreMigration(version: 3, name: "keys") { db in
        try db.execute(sql: """
            CREATE TABLE store_keys (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                key_id TEXT NOT NULL,
                sealed_chain_key BLOB NOT NULL,
                legacy_through_seq INTEGER NOT NULL
            ) STRICT;

            CREATE TRIGGER store_keys_stay
            BEFORE DELETE ON store_keys
            BEGIN
                SELECT RAISE(ABORT, 'store_keys row cannot be deleted');
            END;
            """)
    }
}
