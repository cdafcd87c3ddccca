import Foundation
import GRDB
import Sensitive

/// What `wbkeyd rewrap` did.
public struct RewrapOutcome: Sendable, Equatable {
    public let oldKeyID: String
    public let newKeyID: String
    /// Sealed secrets moved to the new key.
    public let boxes: Int
    /// `authorize-url` states and duplicate-code fingerprints dropped: they are keyed with
    /// the old master key and cannot be recomputed (only their fingerprints are stored).
    public let droppedFingerprints: Int
}

/// Moves a store from one master key to another: every sealed box and the sealed audit
/// chain key are opened with the old key and sealed with the new, in one transaction,
/// audited as `master_key_rewrapped`. The chain key itself does not change, so every row
/// written before stays verifiable. Run it with the daemon stopped.
public enum StoreRewrap {
    public static func rewrap(store: StoreDatabase, oldMasterKey: Data, newMasterKey: Data) throws(StoreError) -> RewrapOutcome {
        let old: Sealer
        let new: Sealer
        do {
            old = try Sealer(masterKey: oldMasterKey)
            new = try Sealer(masterKey: newMasterKey)
        } catch {
            throw .keys(path: store.path, message: "\(error)")
        }
        guard old.keyID != new.keyID else {
            throw .keys(path: store.path, message: "the old and the new master key are the same (id \(new.keyID))")
        }
        let path = store.path
        do {
            return try store.pool.write { db in
                guard let keyring = try StoreKeyring.read(sealer: old, path: path, in: db) else {
                    throw StoreError.keys(path: path, message: "the store is not keyed yet: start wbkeyd on it once with the old key")
                }
                var moved = 0
                for box in try StoredBoxes.all(in: db) {
                    let secret: Sensitive
                    do {
                        secret = try old.open(box.sealed, binding: box.binding)
                    } catch {
                        throw StoreError.keys(path: path, message: "cannot open sealed \(box.binding) with the old key: \(error)")
                    }
                    try StoredBoxes.replace(box, with: new.seal(secret, binding: box.binding), in: db)
                    moved += 1
                }
                let dropped = (try Int.fetchOne(db, sql: "SELECT count(*) FROM pending_states") ?? 0)
                    + (try Int.fetchOne(db, sql: "SELECT count(*) FROM ingested_codes") ?? 0)
                try db.execute(sql: "DELETE FROM pending_states; DELETE FROM ingested_codes")
                try db.execute(
                    sql: "UPDATE store_keys SET key_id = ?, sealed_chain_key = ? WHERE id = 1",
                    arguments: [
                        new.keyID.text,
                        new.seal(Sensitive(keyring.chainKey.hexText), binding: StoreKeyring.chainKeyBinding),
                    ])
                try AuditLog(chainKey: keyring.chainKey).append(
                    AuditEntry(.masterKeyRewrapped, detail: [
                        "old_key_id": .string(old.keyID.text), "new_key_id": .string(new.keyID.text),
                        "boxes": .int(moved), "dropped_fingerprints": .int(dropped),
                    ]), in: db)
                return RewrapOutcome(oldKeyID: old.keyID.text, newKeyID: new.keyID.text, boxes: moved, droppedFingerprints: dropped)
            }
        } catch {
            throw StoreError.wrapping(error, operation: "rewrap of \(path)")
        }
    }
}
