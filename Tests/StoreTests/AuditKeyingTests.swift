import Foundation
import GRDB
import GrantLifecycle
@testable import Store
import Testing

/// The keyed chain against someone who can write the store file but does not hold the
/// master key: whatever they rewrite with the documented (plain) encoding, the verifier
/// names the row.
@Suite struct AuditKeyingTests {
    /// `hash` as an attacker without the chain key can compute it: the legacy encoding.
    func plainHash(prev: String, seq: Int64, at: String, event: String, detail: String) -> String {
        AuditChain.hash(prevHash: prev, seq: seq, at: at, event: event, user: nil, externalID: nil, actor: "wbkeyd", detail: detail, key: nil)
    }

    func head(_ store: StoreDatabase) throws -> AuditHead {
        try #require(try store.pool.read { db in try AuditLog.head(in: db) })
    }

    /// Delete every row through seq 4 (the sqlite3 shell opens the gate, as foreign keys are
    /// off there) and append a voucher for them at the head, as pruning would: the old,
    /// plain chain reported this "sound".
    @Test func aForgedVoucherAfterDeletingAPrefixIsNamed() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(10, in: directory)
        let anchor = try #require(try store.pool.read { db in try log.rows(after: 3, limit: 1, in: db).first })
        let top = try head(store)
        let at = "2025-02-19T21:20:30.000Z"
        let detail = #"{"anchor_hash":"\#(anchor.hash)","through_seq":4}"#
        let forged = plainHash(prev: top.hash, seq: 11, at: at, event: "audit_pruned", detail: detail)
        let forge = try sqliteShell(store.path, """
            UPDATE audit_prune_gate SET through_seq = 4;
            DELETE FROM audit WHERE seq <= 4;
            UPDATE audit_prune_gate SET through_seq = NULL;
            INSERT INTO audit VALUES (11, '\(at)', 'audit_pruned', NULL, NULL, 'wbkeyd', '\(detail)', '\(top.hash)', '\(forged)');
            """)
        #expect(forge.status == 0, "\(forge.errors)")
        #expect(try verifyChain(store.path) == .broken(firstBadSeq: 11, reason: .hashMismatch))
    }

    /// A row edited with the sqlite3 shell and re-hashed, with every later row re-linked, by
    /// the documented encoding: without the chain key the hashes are not the HMACs.
    @Test func aRowEditedAndRehashedIsNamed() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(6, in: directory)
        let rows = try store.pool.read { db in try log.rows(after: 0, in: db) }
        var script = "DROP TRIGGER audit_refuses_update;\n"
        var prev = rows[3].prevHash
        for row in rows[3...] {
            let detail = row.seq == 4 ? row.detail.replacingOccurrences(of: "row 4", with: "row X") : row.detail
            let hash = AuditChain.hash(
                prevHash: prev, seq: row.seq, at: row.at, event: row.event.rawValue, user: row.user,
                externalID: row.externalID, actor: row.actor.text, detail: detail, key: nil)
            script += "UPDATE audit SET detail = '\(detail)', prev_hash = '\(prev)', hash = '\(hash)' WHERE seq = \(row.seq);\n"
            prev = hash
        }
        let edit = try sqliteShell(store.path, script)
        #expect(edit.status == 0, "\(edit.errors)")
        #expect(try verifyChain(store.path) == .broken(firstBadSeq: 4, reason: .hashMismatch))
    }

    /// Rows pruned for real, later put back from a copy: they check out, but the voucher
    /// now stands where no pruning could have put it (rows it covers are present).
    @Test func aVoucherWhoseRowsAreBackIsMisplaced() throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let (store, log) = try storeWithRows(10, in: directory, clock: clock, step: 86_400)
        let saved = try store.pool.read { db in try log.rows(after: 0, limit: 3, in: db) }
        let outcome = try store.pool.write { db in try log.prune(retention: 6 * 86_400, in: db) }
        guard case let .pruned(pruning) = outcome else {
            Issue.record("expected a pruning, got \(outcome)")
            return
        }
        #expect(pruning.throughSeq == 3)
        let values = saved.map { row in
            "(\(row.seq), '\(row.at)', '\(row.event.rawValue)', \(row.user.map { "'\($0)'" } ?? "NULL"), "
                + "\(row.externalID.map { "'\($0)'" } ?? "NULL"), '\(row.actor.text)', '\(row.detail)', '\(row.prevHash)', '\(row.hash)')"
        }
        let restore = try sqliteShell(store.path, """
            DROP TRIGGER audit_insert_extends_head;
            INSERT INTO audit VALUES \(values.joined(separator: ", "));
            """)
        #expect(restore.status == 0, "\(restore.errors)")
        #expect(try verifyChain(store.path) == .broken(firstBadSeq: pruning.row.seq, reason: .misplacedVoucher(throughSeq: 3)))
    }

    /// A voucher whose detail claims it covers rows later than the oldest survivor, written
    /// by the daemon's own log (so its HMAC is right): the placement rule alone refuses it.
    @Test func aVoucherCoveringSurvivingRowsIsMisplaced() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(5, in: directory)
        let row3 = try #require(try store.pool.read { db in try log.rows(after: 2, limit: 1, in: db).first })
        _ = try store.pool.write { db in
            try log.append(AuditEntry(.auditPruned, detail: ["through_seq": 3, "anchor_hash": .string(row3.hash)]), in: db)
        }
        #expect(try verifyChain(store.path) == .broken(firstBadSeq: 6, reason: .misplacedVoucher(throughSeq: 3)))
    }

    @Test func aPlainRowAfterKeyedRowsIsRefused() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(4, in: directory)
        let top = try head(store)
        let at = "2025-02-19T21:20:30.000Z"
        let forged = plainHash(prev: top.hash, seq: 5, at: at, event: "secret_read", detail: "{}")
        let forge = try sqliteShell(store.path, """
            INSERT INTO audit VALUES (5, '\(at)', 'secret_read', NULL, NULL, 'wbkeyd', '{}', '\(top.hash)', '\(forged)');
            """)
        #expect(forge.status == 0, "\(forge.errors)")
        #expect(try verifyChain(store.path) == .broken(firstBadSeq: 5, reason: .hashMismatch))
    }

    /// Moving the legacy boundary forward, to pass keyed rows off as plain ones, breaks the
    /// first of them; and a store whose rows are all inside the claimed legacy prefix has
    /// no keyed row left, which is refused too.
    @Test func movingTheLegacyBoundaryIsNamed() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(6, in: directory)
        #expect(try sqliteShell(store.path, "UPDATE store_keys SET legacy_through_seq = 3;").status == 0)
        #expect(try verifyChain(store.path) == .broken(firstBadSeq: 1, reason: .hashMismatch))
        #expect(try sqliteShell(store.path, "UPDATE store_keys SET legacy_through_seq = 0;").status == 0)
        #expect(try verifyChain(store.path) == .sound(rows: 6, head: try head(store)))
    }

    /// `--expect SEQ:HASH` against a cut tail, a rewritten row, and a sound chain.
    @Test func anExpectedHeadCatchesACutTail() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(8, in: directory)
        let witnessed = try head(store)
        #expect(try verifyChain(store.path, expecting: witnessed) == .sound(rows: 8, head: witnessed))
        let wrong = AuditHead(seq: 8, hash: String(repeating: "e", count: 64))
        #expect(try verifyChain(store.path, expecting: wrong)
            == .broken(firstBadSeq: 8, reason: .expectedHashDiffers(seq: 8, expected: wrong.hash, found: witnessed.hash)))
        let cut = try sqliteShell(store.path, "DROP TRIGGER audit_refuses_delete; DELETE FROM audit WHERE seq >= 7;")
        #expect(cut.status == 0, "\(cut.errors)")
        // Without the witness the shorter chain is sound: only the witness shows the cut.
        guard case .sound(6, _) = try verifyChain(store.path) else {
            Issue.record("a prefix of a sound chain should verify")
            return
        }
        #expect(try verifyChain(store.path, expecting: witnessed)
            == .broken(firstBadSeq: 8, reason: .expectedRowMissing(seq: 8, head: 6)))
    }

    @Test func theWrongMasterKeyIsRefusedNamingBothIds() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(2, in: directory)
        let other = Data(repeating: 0x42, count: 32)
        let expected = MasterKeyID(masterKey: testMasterKey).text
        let given = MasterKeyID(masterKey: other).text
        #expect(expected != given && expected.count == 16)
        #expect(throws: StoreError.wrongMasterKey(path: store.path, storeKeyID: expected, givenKeyID: given)) {
            try StoreKeyring.unlock(masterKey: other, store: store)
        }
        #expect(throws: StoreError.wrongMasterKey(path: store.path, storeKeyID: expected, givenKeyID: given)) {
            try AuditVerifier.verify(storePath: store.path, masterKey: other)
        }
        let message = "\(StoreError.wrongMasterKey(path: store.path, storeKeyID: expected, givenKeyID: given))"
        #expect(message.contains(expected) && message.contains(given))
    }

    /// The key id alone does not unlock: a store_keys row whose id was copied onto another
    /// key's store still needs the sealed chain key to open (the check value).
    @Test func aForgedKeyIdDoesNotUnlock() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(2, in: directory)
        let other = Data(repeating: 0x42, count: 32)
        #expect(try sqliteShell(store.path, "UPDATE store_keys SET key_id = '\(MasterKeyID(masterKey: other).text)';").status == 0)
        let error = #expect(throws: StoreError.self) { try StoreKeyring.unlock(masterKey: other, store: store) }
        guard case .keys? = error else {
            Issue.record("expected a keys error, got \(String(describing: error))")
            return
        }
    }
}
