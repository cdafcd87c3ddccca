import Crypto
import Foundation
import GRDB
import GrantLifecycle
import Sensitive
@testable import Store
import Testing

/// A store as the build before keyed chains made it: schema 1–2, plain SHA-256 rows (with a
/// pruning among them), and a secret sealed in format 1 (no key id).
struct LegacyStore {
    let path: String
    let head: AuditHead
    let secret = Sensitive("legacy-api-secret-QX81")
    let binding = SealBinding(kind: .apiSecret, user: "u-old", externalID: "ext-old")

    init(in directory: TemporaryDirectory, masterKey: Data = testMasterKey) throws {
        path = directory.file("wbkeyd.sqlite3")
        let old = try StoreDatabase.open(
            path: path, schema: StoreSchema(migrations: [AuditSchema.migration, GrantSchema.migration]))
        var prev = AuditChain.genesisPrevHash
        let (secret, binding) = (secret, binding)
        try old.pool.write { db in
            for seq in Int64(1)...6 {
                let at = AuditTimestamp.format(Date(timeIntervalSince1970: 1_700_000_000 + Double(seq)))
                let detail = seq == 6 ? #"{"n":6}"# : #"{"n":\#(seq)}"#
                prev = try Self.insertPlain(seq: seq, at: at, event: "secret_read", detail: detail, prev: prev, in: db)
            }
            // The old pruning: rows 1-2 gone, a plain voucher at the head.
            let anchor = try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = 2")!
            try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = 2 WHERE id = 1")
            try db.execute(sql: "DELETE FROM audit WHERE seq <= 2")
            try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = NULL WHERE id = 1")
            prev = try Self.insertPlain(
                seq: 7, at: "2023-11-14T22:13:27.000Z", event: "audit_pruned",
                detail: #"{"anchor_hash":"\#(anchor)","through_seq":2}"#, prev: prev, in: db)
            try db.execute(
                sql: "INSERT INTO grants (user, state, external_id, updated_at, sealed_secret, secret_external_id) VALUES (?, 'active', ?, 0, ?, ?)",
                arguments: ["u-old", "ext-old", Self.sealVersion1(secret, binding: binding, masterKey: masterKey), "ext-old"])
        }
        head = AuditHead(seq: 7, hash: prev)
        try old.close()
    }

    static func insertPlain(seq: Int64, at: String, event: String, detail: String, prev: String, in db: Database) throws -> String {
        let hash = AuditChain.hash(
            prevHash: prev, seq: seq, at: at, event: event, user: nil, externalID: nil, actor: "wbkeyd", detail: detail, key: nil)
        try db.execute(
            sql: "INSERT INTO audit (\(AuditLog.columns)) VALUES (?, ?, ?, NULL, NULL, 'wbkeyd', ?, ?, ?)",
            arguments: [seq, at, event, detail, prev, hash])
        return hash
    }

    /// Format 1 as the old Sealer wrote it: 0x01 || nonce || ciphertext || tag.
    static func sealVersion1(_ secret: Sensitive, binding: SealBinding, masterKey: Data) throws -> Data {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: masterKey), info: Data("wbkeyd seal v1".utf8), outputByteCount: 32)
        let box = try AES.GCM.seal(Data(secret.revealed.utf8), using: key, authenticating: binding.associatedData(version: 1))
        return Data([1]) + box.nonce.withUnsafeBytes { Data($0) } + box.ciphertext + box.tag
    }
}

@Suite struct StoreKeyMigrationTests {
    @Test func anOldStoreIsKeyedAndStillVerifies() throws {
        let directory = try TemporaryDirectory()
        let legacy = try LegacyStore(in: directory)
        let store = try StoreDatabase.open(path: legacy.path)
        let keyring = try StoreKeyring.unlock(masterKey: testMasterKey, store: store)
        #expect(keyring.legacyThroughSeq == 7)
        let log = AuditLog(chainKey: keyring.chainKey)
        let keyed = try #require(try store.pool.read { db in try log.rows(after: 7, in: db).first })
        #expect(keyed.seq == 8 && keyed.event == .auditKeyed && keyed.prevHash == legacy.head.hash)
        #expect(keyed.detail.contains(#""legacy_through_seq":7"#) && keyed.detail.contains(keyring.keyID.text))
        let next = try store.pool.write { db in try log.append(AuditEntry(.daemonStarted), in: db) }
        #expect(try verifyChain(store.path) == .sound(rows: 7, head: next.head))
        // The old box still opens; a new one records the key id.
        #expect(try keyring.sealer.open(
            try #require(try store.pool.read { db in try Data.fetchOne(db, sql: "SELECT sealed_secret FROM grants") }),
            binding: legacy.binding).revealed == legacy.secret.revealed)
        #expect(Array(keyring.sealer.seal(legacy.secret, binding: legacy.binding).prefix(9)) == [2] + keyring.keyID.bytes)
        // A second start reads the keys instead of keying again.
        let again = try StoreKeyring.unlock(masterKey: testMasterKey, store: store)
        #expect(again.legacyThroughSeq == 7 && again.chainKey.hexText == keyring.chainKey.hexText)
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit WHERE event = 'audit_keyed'") } == 1)
    }

    /// After keying, the legacy prefix is fixed: rewriting a legacy row by the plain encoding
    /// (which anyone can compute) breaks the `audit_keyed` row, whose HMAC covers its head.
    @Test func aLegacyRowRewrittenAfterKeyingIsNamed() throws {
        let directory = try TemporaryDirectory()
        let legacy = try LegacyStore(in: directory)
        let store = try StoreDatabase.open(path: legacy.path)
        _ = try StoreKeyring.unlock(masterKey: testMasterKey, store: store)
        try store.close()
        var script = "DROP TRIGGER audit_refuses_update;\n"
        var prev: String?
        let rows = try sqliteShell(legacy.path, "SELECT seq, at, event, detail, prev_hash FROM audit WHERE seq BETWEEN 5 AND 8 ORDER BY seq;")
        for line in rows.output.split(separator: "\n") {
            let parts = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let seq = Int64(parts[0])!
            let detail = seq == 5 ? #"{"n":50}"# : parts[3]
            let link = prev ?? parts[4]
            let hash = AuditChain.hash(
                prevHash: link, seq: seq, at: parts[1], event: parts[2], user: nil, externalID: nil, actor: "wbkeyd",
                detail: detail, key: nil)
            script += "UPDATE audit SET detail = '\(detail)', prev_hash = '\(link)', hash = '\(hash)' WHERE seq = \(seq);\n"
            prev = hash
        }
        #expect(try sqliteShell(legacy.path, script).status == 0)
        #expect(try verifyChain(legacy.path) == .broken(firstBadSeq: 8, reason: .hashMismatch))
    }

    @Test func anUnkeyedStoreIsNotVerifiedAsSound() throws {
        let directory = try TemporaryDirectory()
        let legacy = try LegacyStore(in: directory)
        let error = #expect(throws: StoreError.self) { try verifyChain(legacy.path) }
        #expect("\(String(describing: error))".contains("no audit chain key"))
    }

    /// Keying an old store with the wrong master key would lock its secrets out for good:
    /// the old boxes have no key id, so one is opened to check.
    @Test func keyingAnOldStoreWithTheWrongKeyIsRefused() throws {
        let directory = try TemporaryDirectory()
        let legacy = try LegacyStore(in: directory)
        let store = try StoreDatabase.open(path: legacy.path)
        let error = #expect(throws: StoreError.self) {
            try StoreKeyring.unlock(masterKey: Data(repeating: 7, count: 32), store: store)
        }
        guard case let .keys(_, message)? = error else {
            Issue.record("expected a keys error, got \(String(describing: error))")
            return
        }
        #expect(message.contains("does not open") && !message.contains(legacy.secret.revealed))
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM store_keys") } == 0)
    }

    @Test func rewrapMovesEverySecretAndKeepsTheChainVerifiable() throws {
        let directory = try TemporaryDirectory()
        let legacy = try LegacyStore(in: directory)
        let store = try StoreDatabase.open(path: legacy.path)
        let old = try StoreKeyring.unlock(masterKey: testMasterKey, store: store)
        let token = Sensitive("access-token-ZZ17")
        let tokenBinding = SealBinding(kind: .accessToken, user: "u-old")
        try store.pool.write { db in
            try db.execute(sql: "UPDATE grants SET sealed_token = ?", arguments: [old.sealer.seal(token, binding: tokenBinding)])
            try db.execute(
                sql: "INSERT INTO pending_states VALUES ('fp', 'u-new', ?, 0)",
                arguments: [old.sealer.seal(Sensitive("verifier"), binding: SealBinding(kind: .pendingStateVerifier, user: "u-new"))])
        }
        let newKey = Data((0..<32).map { UInt8(255 - $0) })
        let outcome = try StoreRewrap.rewrap(store: store, oldMasterKey: testMasterKey, newMasterKey: newKey)
        #expect(outcome.boxes == 3 && outcome.droppedFingerprints == 1)
        #expect(outcome.oldKeyID == old.keyID.text && outcome.newKeyID == MasterKeyID(masterKey: newKey).text)

        let new = try StoreKeyring.unlock(masterKey: newKey, store: store)
        #expect(new.chainKey.hexText == old.chainKey.hexText && new.legacyThroughSeq == 7)
        let row = try #require(try store.pool.read { db in try Row.fetchOne(db, sql: "SELECT sealed_secret, sealed_token FROM grants") })
        #expect(try new.sealer.open(row["sealed_secret"], binding: legacy.binding).revealed == legacy.secret.revealed)
        #expect(try new.sealer.open(row["sealed_token"], binding: tokenBinding).revealed == token.revealed)
        #expect(throws: SealError.self) { try old.sealer.open(row["sealed_secret"], binding: legacy.binding) }
        #expect(throws: StoreError.wrongMasterKey(path: store.path, storeKeyID: new.keyID.text, givenKeyID: old.keyID.text)) {
            try StoreKeyring.unlock(masterKey: testMasterKey, store: store)
        }
        guard case let .sound(rows, head) = try AuditVerifier.verify(storePath: store.path, masterKey: newKey) else {
            Issue.record("the chain must verify under the new key")
            return
        }
        #expect(rows == 7)
        let last = try #require(try store.pool.read { db in try AuditLog(chainKey: new.chainKey).rows(after: (head?.seq ?? 1) - 1, in: db).first })
        #expect(last.event == .masterKeyRewrapped && last.detail.contains(outcome.newKeyID) && last.detail.contains(outcome.oldKeyID))
        // No secret or key in the store in clear.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: store.path))
        for secret in [legacy.secret.revealed, token.revealed, old.chainKey.hexText] {
            #expect(bytes.range(of: Data(secret.utf8)) == nil)
        }
    }

    @Test func rewrapWithTheWrongOldKeyChangesNothing() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(3, in: directory)
        let error = #expect(throws: StoreError.self) {
            try StoreRewrap.rewrap(store: store, oldMasterKey: Data(repeating: 1, count: 32), newMasterKey: Data(repeating: 2, count: 32))
        }
        guard case .wrongMasterKey? = error else {
            Issue.record("expected wrongMasterKey, got \(String(describing: error))")
            return
        }
        _ = try StoreKeyring.unlock(masterKey: testMasterKey, store: store)
    }
}
