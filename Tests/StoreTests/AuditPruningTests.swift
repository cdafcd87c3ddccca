import GrantLifecycle
import Foundation
import GRDB
import Store
import Testing

@Suite struct AuditPruningTests {
    /// Ten rows, one a day, starting at the clock's start.
    func tenDailyRows(_ directory: TemporaryDirectory) throws -> (StoreDatabase, AuditLog, TestClock, Date) {
        let clock = TestClock()
        let start = clock.now
        let (store, log) = try storeWithRows(10, in: directory, clock: clock, step: 86_400)
        return (store, log, clock, start)
    }

    func days(_ number: Double) -> TimeInterval { number * 86_400 }

    /// Prunes, expecting rows to go.
    func pruned(_ log: AuditLog, _ store: StoreDatabase, retention: TimeInterval, maxShare: Double = AuditLog.defaultMaxPruneShare)
        throws -> AuditPruning?
    {
        let outcome = try store.pool.write { db in try log.prune(retention: retention, maxShare: maxShare, in: db) }
        guard case let .pruned(pruning) = outcome else { return nil }
        return pruning
    }

    @Test func pruningDeletesThePrefixAndVouchesForIt() throws {
        let directory = try TemporaryDirectory()
        let (store, log, _, _) = try tenDailyRows(directory)
        let anchor = try #require(try store.pool.read { db in try log.rows(after: 4, limit: 1, in: db).first })
        let oldHead = try store.pool.read { db in try log.head(in: db) }

        let pruning = try #require(try pruned(log, store, retention: days(4)))  // the newest row is day 9
        #expect(pruning.throughSeq == 5)
        #expect(pruning.anchorHash == anchor.hash)
        #expect(pruning.deletedRows == 5)
        #expect(pruning.row.seq == 11 && pruning.row.event == .auditPruned && pruning.row.actor == .wbkeyd)
        #expect(pruning.row.prevHash == oldHead?.hash)
        #expect(pruning.row.detail == #"{"anchor_hash":"\#(anchor.hash)","through_seq":5}"#)

        let remaining = try store.pool.read { db in try log.rows(after: 0, in: db) }
        #expect(remaining.map(\.seq) == [6, 7, 8, 9, 10, 11])
        #expect(remaining.first?.prevHash == anchor.hash)
        let gate = try store.pool.read { db in try DatabaseValue.fetchOne(db, sql: "SELECT through_seq FROM audit_prune_gate") }
        #expect(gate == .null)
        #expect(try verifyChain(store.path) == .sound(rows: 6, head: pruning.row.head))
    }

    @Test func nothingOlderMeansNothingWritten() throws {
        let directory = try TemporaryDirectory()
        let (store, log, _, _) = try tenDailyRows(directory)
        let outcome = try store.pool.write { db in try log.prune(retention: days(9), in: db) }
        #expect(outcome == .nothingOlder)
        #expect(try store.pool.read { db in try log.head(in: db)?.seq } == 10)
    }

    /// A clock that stepped ten years forward makes every row look old. Until a row is
    /// written at the new time, the newest row's time holds the cutoff back; once one is,
    /// the prune would take all but that row, and is refused, with nothing deleted and no
    /// voucher to make the loss look legitimate.
    @Test func aPruneAfterAClockJumpIsRefused() throws {
        let directory = try TemporaryDirectory()
        let (store, log, clock, _) = try tenDailyRows(directory)
        clock.advance(by: days(3650))
        #expect(try store.pool.write { db in try log.prune(retention: days(30), in: db) } == .nothingOlder)
        _ = try store.pool.write { db in try log.append(AuditEntry(.daemonStarted), in: db) }
        let outcome = try store.pool.write { db in try log.prune(retention: days(30), in: db) }
        guard case let .refused(doomed, rows, _) = outcome else {
            Issue.record("expected a refusal, got \(outcome)")
            return
        }
        #expect(doomed == 10 && rows == 11)
        #expect(try store.pool.read { db in try log.rows(after: 0, in: db).map(\.seq) } == Array(1...11))
        #expect(try store.pool.read { db in try log.rows(after: 0, in: db) }.allSatisfy { $0.event != .auditPruned })
    }

    @Test func pruningEveryRowIsRefusedEvenWhenAllowedAnyShare() throws {
        let directory = try TemporaryDirectory()
        let (store, log, _, _) = try tenDailyRows(directory)
        let outcome = try store.pool.write { db in try log.prune(retention: -days(1), maxShare: 1, in: db) }
        #expect(outcome == .refused(wouldDelete: 10, ofRows: 10, cutoff: "2025-03-01T21:20:00.000Z"))
        #expect(try verifyChain(store.path) == .sound(rows: 10, head: try store.pool.read { db in try log.head(in: db) }))
    }

    @Test func successivePruningsStaySound() throws {
        let directory = try TemporaryDirectory()
        let (store, log, clock, _) = try tenDailyRows(directory)
        _ = try #require(try pruned(log, store, retention: days(6)))  // rows 1-3; seq 11 at day 10
        clock.advance(by: 86_400)
        _ = try store.pool.write { db in try log.append(AuditEntry(.daemonStarted), in: db) }  // seq 12 at day 11
        // Keeps the first audit_pruned row (seq 11); the newer one must vouch.
        let second = try #require(try pruned(log, store, retention: days(4)))
        #expect(second.throughSeq == 7 && second.row.seq == 13)
        #expect(try verifyChain(store.path) == .sound(rows: 6, head: second.row.head))
        // Would sweep away both earlier audit_pruned rows: 4 of 6 rows, more than half.
        #expect(try pruned(log, store, retention: days(0.5)) == nil)
        let third = try #require(try pruned(log, store, retention: days(0.5), maxShare: 0.7))
        #expect(third.throughSeq == 11)
        #expect(try store.pool.read { db in try log.rows(after: 0, in: db).map(\.seq) } == [12, 13, 14])
        #expect(try verifyChain(store.path) == .sound(rows: 3, head: third.row.head))
    }

    @Test func prefixStopsAtTheFirstRowNotOlderEvenIfTheClockSteppedBack() throws {
        let directory = try TemporaryDirectory()
        let (store, log, clock, _) = try tenDailyRows(directory)
        clock.advance(by: -20 * 86_400)  // seq 11 is stamped long before the cutoff
        _ = try store.pool.write { db in try log.append(AuditEntry(.configReloaded), in: db) }
        clock.advance(by: 20 * 86_400)  // seq 12 at day 10
        _ = try store.pool.write { db in try log.append(AuditEntry(.configReloaded), in: db) }
        let pruning = try #require(try pruned(log, store, retention: days(6)))
        #expect(pruning.throughSeq == 4)
        #expect(try store.pool.read { db in try log.rows(after: 0, in: db).map(\.seq) } == [5, 6, 7, 8, 9, 10, 11, 12, 13])
    }

    @Test func pruningOutsideATransactionIsRefused() throws {
        let directory = try TemporaryDirectory()
        let (store, log, _, _) = try tenDailyRows(directory)
        let error = #expect(throws: StoreError.self) {
            try store.pool.writeWithoutTransaction { db in try log.prune(retention: days(4), in: db) }
        }
        #expect(error == .notInTransaction(operation: "audit prune"))
        #expect(try store.pool.read { db in try log.rows(after: 0, in: db).count } == 10)
    }

    @Test func forgedPruningWithoutItsVoucherIsDetected() throws {
        let directory = try TemporaryDirectory()
        let (store, _, _, _) = try tenDailyRows(directory)
        // The sqlite3 shell runs with foreign keys off, so it can open the gate and commit.
        let forge = try sqliteShell(store.path, """
            UPDATE audit_prune_gate SET through_seq = 3;
            DELETE FROM audit WHERE seq <= 3;
            UPDATE audit_prune_gate SET through_seq = NULL;
            """)
        #expect(forge.status == 0, "\(forge.errors)")
        let verdict = try verifyChain(store.path)
        guard case let .broken(seq, .unvouchedStart(prevHash)) = verdict else {
            Issue.record("expected an unvouched start, got \(verdict)")
            return
        }
        #expect(seq == 4)
        #expect(prevHash.count == 64)
    }

    @Test func deletingBeyondARealPruningIsDetected() throws {
        let directory = try TemporaryDirectory()
        let (store, log, _, _) = try tenDailyRows(directory)
        _ = try #require(try pruned(log, store, retention: days(6)))
        let forge = try sqliteShell(store.path, """
            UPDATE audit_prune_gate SET through_seq = 5;
            DELETE FROM audit WHERE seq <= 5;
            UPDATE audit_prune_gate SET through_seq = NULL;
            """)
        #expect(forge.status == 0, "\(forge.errors)")
        guard case .broken(6, .unvouchedStart) = try verifyChain(store.path) else {
            Issue.record("deletion past the vouched prefix went unnoticed")
            return
        }
    }

    @Test func voucherForTheWrongSeqIsNotAccepted() throws {
        let directory = try TemporaryDirectory()
        let (store, log, _, _) = try tenDailyRows(directory)
        let pruning = try #require(try pruned(log, store, retention: days(6)))
        // A row slipped in front that follows the genuine anchor hash, but under a seq that
        // the voucher (through_seq 3) does not cover.
        let restore = try sqliteShell(store.path, """
            DROP TRIGGER audit_insert_extends_head;
            INSERT INTO audit SELECT 1, '2000-01-01T00:00:00.000Z', 'daemon_started', NULL, NULL, 'wbkeyd', '{}',
                '\(pruning.anchorHash)', '\(String(repeating: "a", count: 64))';
            """)
        #expect(restore.status == 0, "\(restore.errors)")
        #expect(try verifyChain(store.path)
            == .broken(firstBadSeq: 1, reason: .unvouchedStart(prevHash: pruning.anchorHash)))
    }
}
