import GrantLifecycle
import Foundation
import GRDB
import Store
import Testing

@Suite struct AuditLogTests {
    @Test func eventNamesAreExactlyThoseOfTheDesign() {
        let design = [
            "daemon_started", "daemon_stopped", "config_reloaded", "authorization_received",
            "authorization_rejected", "authorization_duplicate", "token_exchanged", "token_exchange_failed",
            "key_detected", "key_not_created", "secret_secured", "secret_lost", "secret_read", "key_disabled",
            "key_gone", "reconcile_drift", "revoke_requested", "key_revoked", "key_revoke_failed", "token_expired",
            "audit_pruned", "authorize_url_issued", "command_refused",
            // The keyed chain and its witnesses (docs/audit.md).
            "audit_keyed", "audit_witness_mismatch", "master_key_rewrapped",
            // The key in use (docs/design.md §12).
            "key_verified", "key_verification_failed", "key_probed",
            // The key agent (docs/design.md §12).
            "account_read", "request_signed",
            "store_backed_up",
            // An event that changes nothing in the grant's state (docs/states.md).
            "event_ignored",
        ]
        #expect(AuditEvent.allCases.map(\.rawValue) == design)
    }

    @Test func actorTextRoundTrips() {
        #expect(AuditActor.wbkeyd.text == "wbkeyd")
        #expect(AuditActor.uid(0).text == "uid:0")
        #expect(AuditActor(text: "wbkeyd") == .wbkeyd)
        #expect(AuditActor(text: "uid:1000") == .uid(1000))
        for bad in ["uid:", "uid:-1", "uid:+1", "uid:1x", "uid:99999999999", "root", "UID:1", ""] {
            #expect(AuditActor(text: bad) == nil, "accepted \(bad)")
        }
    }

    @Test func detailIsCompactJSONWithSortedKeysAndEscapes() {
        let detail: AuditDetail = [
            "z": 1, "a": "x\"y\\z\n\u{1}é", "m": ["b": false, "a": nil, "c": -5], "B": true,
        ]
        #expect(detail.json == #"{"B":true,"a":"x\"y\\z\n\u0001é","m":{"a":null,"b":false,"c":-5},"z":1}"#)
        #expect(AuditDetail().json == "{}")
        let parsed = try? JSONSerialization.jsonObject(with: Data(detail.json.utf8)) as? [String: Any]
        #expect(parsed?["a"] as? String == "x\"y\\z\n\u{1}é")
    }

    @Test func timestampsAreRFC3339UTCWithMilliseconds() {
        #expect(AuditTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(AuditTimestamp.format(Date(timeIntervalSince1970: 1_740_000_000.0429)) == "2025-02-19T21:20:00.042Z")
        #expect(AuditTimestamp.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
    }

    @Test func appendsFormAChain() throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let (store, log) = try storeWithRows(6, in: directory, clock: clock)
        let rows = try store.pool.read { db in try log.rows(after: 0, in: db) }
        let chainKey = try StoreKeyring.unlock(masterKey: testMasterKey, store: store).chainKey
        #expect(rows.map(\.seq) == [1, 2, 3, 4, 5, 6])
        #expect(rows[0].prevHash == String(repeating: "0", count: 64))
        for (previous, row) in zip(rows, rows.dropFirst()) {
            #expect(row.prevHash == previous.hash)
        }
        for row in rows {
            #expect(row.hash.count == 64 && row.hash.allSatisfy { "0123456789abcdef".contains($0) })
            #expect(row.hash == AuditChain.hash(
                prevHash: row.prevHash, seq: row.seq, at: row.at, event: row.event.rawValue, user: row.user,
                externalID: row.externalID, actor: row.actor.text, detail: row.detail, key: chainKey))
        }
        #expect(rows[0].at == AuditTimestamp.format(Date(timeIntervalSince1970: 1_740_000_000)))
        #expect(rows[4].actor == .uid(1000))
        #expect(rows[3].user == nil && rows[3].externalID == "key-4")
        #expect(rows[1].detail == #"{"n":2,"nested":{"gone":null,"ok":true},"note":"row 2"}"#)
        #expect(try store.pool.read { db in try log.head(in: db) } == rows[5].head)
    }

    @Test func appendReturnsTheStoredRow() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(0, in: directory)
        #expect(try store.pool.read { db in try log.head(in: db) } == nil)
        let appended = try store.pool.write { db in
            try log.append(AuditEntry(.secretRead, user: "carol", externalID: "k1", actor: .uid(0)), in: db)
        }
        let stored = try store.pool.read { db in try log.rows(after: 0, in: db) }
        #expect(stored == [appended])
        #expect(appended.detail == "{}")
    }

    @Test func appendOutsideATransactionIsRefused() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(1, in: directory)
        let error = #expect(throws: StoreError.self) {
            try store.pool.writeWithoutTransaction { db in try log.append(AuditEntry(.daemonStarted), in: db) }
        }
        #expect(error == .notInTransaction(operation: "audit append"))
        #expect(try store.pool.read { db in try log.head(in: db)?.seq } == 1)
    }

    @Test func rolledBackAppendLeavesNoRowAndTheChainIntact() throws {
        struct Abandon: Error {}
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(2, in: directory)
        let headBefore = try store.pool.read { db in try log.head(in: db) }
        #expect(throws: Abandon.self) {
            try store.pool.write { db in
                try log.append(AuditEntry(.secretSecured, user: "dave"), in: db)
                throw Abandon()
            }
        }
        #expect(try store.pool.read { db in try log.head(in: db) } == headBefore)
        let next = try store.pool.write { db in try log.append(AuditEntry(.daemonStopped), in: db) }
        #expect(next.seq == 3 && next.prevHash == headBefore?.hash)
        #expect(try verifyChain(store.path) == .sound(rows: 3, head: next.head))
    }

    @Test func updateAndDeleteAreRefusedThroughGRDB() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(3, in: directory)
        let before = try store.pool.read { db in try log.rows(after: 0, in: db) }
        for sql in [
            "UPDATE audit SET detail = '{}' WHERE seq = 2", "UPDATE audit SET seq = 9 WHERE seq = 3",
            "DELETE FROM audit WHERE seq = 3", "DELETE FROM audit", "DELETE FROM audit_prune_gate",
            "INSERT INTO audit_prune_gate (id) VALUES (2)",
        ] {
            #expect(throws: DatabaseError.self, "\(sql)") { try store.pool.write { db in try db.execute(sql: sql) } }
        }
        #expect(try store.pool.read { db in try log.rows(after: 0, in: db) } == before)
    }

    @Test func updateAndDeleteAreRefusedThroughTheSQLiteShell() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(3, in: directory)
        let before = try store.pool.read { db in try log.rows(after: 0, in: db) }
        let refusals = [
            ("UPDATE audit SET detail = '{}' WHERE seq = 2;", "UPDATE refused"),
            ("DELETE FROM audit WHERE seq = 1;", "DELETE refused"),
            ("DELETE FROM audit;", "DELETE refused"),
            ("DELETE FROM audit_prune_gate;", "cannot be deleted"),
            // With foreign keys on, a gate left open cannot be committed.
            ("PRAGMA foreign_keys = ON; UPDATE audit_prune_gate SET through_seq = 3;", "FOREIGN KEY"),
        ]
        for (sql, message) in refusals {
            let result = try sqliteShell(store.path, sql)
            #expect(result.status != 0, "sqlite3 accepted \(sql)")
            #expect(result.errors.contains(message), "\(sql): \(result.errors)")
        }
        #expect(try store.pool.read { db in try log.rows(after: 0, in: db) } == before)
        #expect(try sqliteShell(store.path, "SELECT count(*) FROM audit;").output == "3\n")
    }

    @Test func gateLetsOnlyTheOldestRowsGoAndMustCloseBeforeCommit() throws {
        struct Abandon: Error {}
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(5, in: directory)
        #expect(throws: DatabaseError.self) {
            try store.pool.write { db in
                try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = 4")
                try db.execute(sql: "DELETE FROM audit WHERE seq = 3")
            }
        }
        // Open for seq <= 2: the two oldest go, the next is still refused. Rolled back.
        var prefixDeleted = 0
        var nextRefused = false
        #expect(throws: Abandon.self) {
            try store.pool.write { db in
                try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = 2")
                try db.execute(sql: "DELETE FROM audit WHERE seq <= 2")
                prefixDeleted = db.changesCount
                do {
                    try db.execute(sql: "DELETE FROM audit WHERE seq = 3")
                } catch {
                    nextRefused = true
                }
                try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = NULL")
                throw Abandon()
            }
        }
        #expect(prefixDeleted == 2)
        #expect(nextRefused)
        let error = #expect(throws: DatabaseError.self) {
            try store.pool.write { db in try db.execute(sql: "UPDATE audit_prune_gate SET through_seq = 1") }
        }
        #expect(error?.resultCode == .SQLITE_CONSTRAINT)
        #expect(try store.pool.read { db in try log.rows(after: 0, in: db).map(\.seq) } == [1, 2, 3, 4, 5])
    }

    @Test func insertsMustExtendTheHead() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(2, in: directory)
        let head = try #require(try store.pool.read { db in try log.head(in: db) })
        let zeros = String(repeating: "0", count: 64)
        let insert = "INSERT INTO audit VALUES (?, '2025-01-01T00:00:00.000Z', 'daemon_started', NULL, NULL, 'wbkeyd', '{}', ?, ?)"
        for (seq, prevHash) in [(Int64(3), zeros), (Int64(4), head.hash), (Int64(2), head.hash)] {
            #expect(throws: DatabaseError.self) {
                try store.pool.write { db in try db.execute(sql: insert, arguments: [seq, prevHash, zeros]) }
            }
        }
    }

    @Test func recentGivesTheNewestRowsOldestFirst() throws {
        let directory = try TemporaryDirectory()
        let (store, log) = try storeWithRows(12, in: directory)
        let (newest, ofUser, allOfUser, none, after4, after12) = try store.pool.read { db in
            (
                try log.recent(limit: 3, in: db), try log.recent(limit: 2, user: "user-1", in: db),
                try log.recent(limit: 50, user: "user-1", in: db), try log.recent(limit: 0, in: db),
                try log.rows(after: 4, limit: 3, in: db), try log.rows(after: 12, in: db)
            )
        }
        #expect(newest.map(\.seq) == [10, 11, 12])
        // sampleEntry gives "user-1" to the indexes 1, 7, 10 (4 and 12 have no user).
        #expect(ofUser.map(\.seq) == [7, 10])
        #expect(allOfUser.map(\.seq) == [1, 7, 10])
        #expect(none.isEmpty)
        #expect(after4.map(\.seq) == [5, 6, 7])
        #expect(after12.isEmpty)
    }
}
