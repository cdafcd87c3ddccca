import Foundation
import GRDB
@testable import Store
import Testing

@Suite struct AuditVerifierTests {
    @Test func emptyLogIsSound() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(0, in: directory)
        #expect(try verifyChain(store.path) == .sound(rows: 0, head: nil))
    }

    @Test func realLogIsSoundWhileOpenAndAfterClose() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(60, in: directory)
        let head = try store.pool.read { db in try log.head(in: db) }
        #expect(try verifyChain(store.path) == .sound(rows: 60, head: head))
        try store.close()
        #expect(try verifyChain(store.path) == .sound(rows: 60, head: head))
    }

    /// An outside auditor's implementation of the documented encoding (AuditChain), in
    /// Python over its own sqlite3 module, must agree with every stored hash.
    @Test func documentedEncodingIsReproducibleOutsideSwift() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(25, in: directory)
        let chainKey = try StoreKeyring.unlock(masterKey: testMasterKey, store: store).chainKey
        _ = try store.pool.write { db in
            try log.append(
                AuditEntry(.reconcileDrift, user: "ü-ser", externalID: "", detail: ["why": "naïve \"quote\""]), in: db)
        }
        try store.close()
        let script = """
            import hashlib, hmac, sqlite3, sys
            key = bytes.fromhex(sys.argv[2])
            def field(v):
                if v is None: return b"\\x00"
                b = str(v).encode()
                return b"\\x01" + len(b).to_bytes(4, "big") + b
            prev, count = "0" * 64, 0
            for row in sqlite3.connect(sys.argv[1]).execute(
                    "SELECT prev_hash, seq, at, event, user, external_id, actor, detail, hash FROM audit ORDER BY seq"):
                assert row[0] == prev, row[1]
                digest = hmac.new(key, b"".join(map(field, row[:8])), hashlib.sha256).hexdigest()
                assert digest == row[8], row[1]
                prev, count = digest, count + 1
            print(count)
            """
        let result = try run("python3", ["-c", script, store.path, chainKey.hexText])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output == "26\n")
    }

    @Test(arguments: [
        ("detail", "replace(detail, '\"n\":7', '\"n\":8')", AuditChainFault.hashMismatch),
        ("at", "replace(at, '.000Z', '.001Z')", .hashMismatch),
        ("event", "'daemon_started'", .hashMismatch),
        ("user", "'mallory'", .hashMismatch),
        ("external_id", "'key-99'", .hashMismatch),
        ("actor", "'uid:0'", .hashMismatch),
        // The last hex digit always changes: the keyed hashes differ run to run, so a fixed
        // digit would already be there one time in sixteen.
        ("hash", "substr(hash, 1, 63) || (CASE substr(hash, 64) WHEN 'f' THEN 'e' ELSE 'f' END)", .hashMismatch),
        ("prev_hash", "substr(prev_hash, 1, 63) || (CASE substr(prev_hash, 64) WHEN 'f' THEN 'e' ELSE 'f' END)",
         .brokenLink(previousSeq: 6)),
    ])
    func alteredRowIsNamed(column: String, newValue: String, fault: AuditChainFault) throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(12, in: directory)
        let before = try sqliteShell(store.path, "SELECT \(column) FROM audit WHERE seq = 7;").output
        let tamper = try sqliteShell(
            store.path, "DROP TRIGGER audit_refuses_update; UPDATE audit SET \(column) = \(newValue) WHERE seq = 7;")
        #expect(tamper.status == 0, "\(tamper.errors)")
        #expect(try sqliteShell(store.path, "SELECT \(column) FROM audit WHERE seq = 7;").output != before)
        #expect(try verifyChain(store.path) == .broken(firstBadSeq: 7, reason: fault))
    }

    @Test func oneByteOfDetailIsEnough() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(9, in: directory)
        // "row 4" -> "row 5": one byte of seq 4's detail.
        let tamper = try sqliteShell(store.path, """
            DROP TRIGGER audit_refuses_update;
            UPDATE audit SET detail = replace(detail, '"note":"row 4"', '"note":"row 5"') WHERE seq = 4;
            """)
        #expect(tamper.status == 0, "\(tamper.errors)")
        #expect(try verifyChain(store.path) == .broken(firstBadSeq: 4, reason: .hashMismatch))
    }

    @Test func deletedMiddleRowNamesTheNextOne() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(10, in: directory)
        let tamper = try sqliteShell(store.path, "DROP TRIGGER audit_refuses_delete; DELETE FROM audit WHERE seq = 5;")
        #expect(tamper.status == 0, "\(tamper.errors)")
        #expect(try verifyChain(store.path) == .broken(firstBadSeq: 6, reason: .seqGap(expected: 5)))
    }

    @Test func renumberedRowsAfterADeletionAreCaught() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(6, in: directory)
        let tamper = try sqliteShell(store.path, """
            DROP TRIGGER audit_refuses_delete; DROP TRIGGER audit_refuses_update;
            DELETE FROM audit WHERE seq = 3; UPDATE audit SET seq = seq - 1 WHERE seq > 3;
            """)
        #expect(tamper.status == 0, "\(tamper.errors)")
        #expect(try verifyChain(store.path)
            == .broken(firstBadSeq: 3, reason: .brokenLink(previousSeq: 2)))
    }

    @Test func missingStoreOrTableIsAnErrorNotAVerdict() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.file("absent.sqlite3")
        #expect(throws: StoreError.missingFile(path: missing)) { try verifyChain(missing) }
        let other = directory.file("other.sqlite3")
        #expect(try sqliteShell(other, "CREATE TABLE t (x);").status == 0)
        #expect(throws: StoreError.noAuditTable(path: other)) { try verifyChain(other) }
    }

    @Test func longLogIsWalkedToTheEnd() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(0, in: directory)
        let clock = TestClock()
        let fast = try keyedLog(store, clock: clock)
        for batch in 0..<20 {
            try store.pool.write { db in
                for index in 0..<1000 {
                    try fast.append(sampleEntry(batch * 1000 + index), in: db)
                }
            }
        }
        let head = try store.pool.read { db in try log.head(in: db) }
        #expect(head?.seq == 20_000)
        #expect(try verifyChain(store.path) == .sound(rows: 20_000, head: head))
    }
}
