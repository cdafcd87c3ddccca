import Foundation
import GrantLifecycle
import Sensitive
import Synchronization
import Testing
@testable import Store

/// The store's typed operations besides decisions, the same on every backend: intake
/// fingerprints, `authorize-url` states, nonce marks, pruning, the audit tail.
@Suite struct GrantStoreOperationsTests {
    @Test(arguments: BackendKind.allCases) func aRefusedFileIsRecordedOnceAndAStateIsReadUntilItExpires(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let entry = AuditEntry(.authorizationDuplicate, user: "u1", detail: ["file": "f"])
        #expect(try await store.appendOnce(entry, fingerprint: "fp-refused", at: now))
        #expect(try await !store.appendOnce(entry, fingerprint: "fp-refused", at: now))
        #expect(try await store.wasIngested(fingerprint: "fp-refused"))
        #expect(try await !store.wasIngested(fingerprint: "fp-other"))

        let verifier = Sensitive("verifier-\(UUID())")
        try await store.putPendingState(fingerprint: "st-1", user: "u2", verifier: verifier, expiresAt: now.addingTimeInterval(600))
        let pending = try #require(try await store.pendingState(fingerprint: "st-1", now: now))
        #expect(pending.user == "u2" && pending.verifier == verifier)
        #expect(try await store.pendingState(fingerprint: "st-1", now: now.addingTimeInterval(601)) == nil)

        // Housekeeping forgets expired states and old fingerprints; nothing is old enough
        // to prune from the audit log.
        let outcome = try await store.housekeep(
            retention: .seconds(86_400), ingestionsBefore: now.addingTimeInterval(1), now: now.addingTimeInterval(700))
        #expect(outcome == .nothingOlder)
        #expect(try await !store.wasIngested(fingerprint: "fp-refused"))
        #expect(try await store.pendingState(fingerprint: "st-1", now: now) == nil)
        #expect(try await under.chainRows() == 1)
    }

    @Test(arguments: BackendKind.allCases) func nonceMarksOnlyRiseAndRideWithTheirAuditRow(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        let row = AuditEntry(.secretRead, user: "u1", externalID: "k1")
        try await store.append(row, raising: NonceMark(key: "k1", nonce: 500))
        try await store.append(row, raising: NonceMark(key: "k1", nonce: 400))
        try await store.append(row, raising: NonceMark(key: "k2", nonce: 7))
        #expect(try await store.nonceMarks() == ["k1": 500, "k2": 7])
        #expect(try await under.chainRows() == 3)
        #expect(store.summary.snapshot.auditHead?.seq == 3)
    }

    @Test(arguments: BackendKind.allCases) func eachInstanceKeepsOneRowThatItsLatestWriteReplaces(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        let start = Date(timeIntervalSince1970: 1_800_000_000.25)
        var beta = InstanceRecord(name: "beta", host: "host-b", pid: 42, startedAt: start, lastSeen: start)
        let alpha = InstanceRecord(
            name: "alpha", host: "host-a", pid: 7, startedAt: start, lastSeen: start.addingTimeInterval(5),
            stoppedAt: start.addingTimeInterval(5))
        #expect(try await store.put(instance: beta) == [beta])
        #expect(try await store.put(instance: alpha) == [alpha, beta], "by name, not by arrival")
        beta.lastSeen = start.addingTimeInterval(10)
        #expect(try await store.put(instance: beta) == [alpha, beta])
        // A restart under the same name replaces the row: a new pid, no stop mark.
        let restarted = InstanceRecord(name: "alpha", host: "host-a", pid: 8, startedAt: start.addingTimeInterval(20), lastSeen: start.addingTimeInterval(20))
        #expect(try await store.put(instance: restarted) == [restarted, beta])
        #expect(try await under.chainRows() == 0, "liveness is not audited")
        // Housekeeping forgets an instance unseen for a week, and only such.
        _ = try await store.housekeep(
            retention: .seconds(86_400 * 3650), ingestionsBefore: start, now: start.addingTimeInterval(7 * 86_400 + 15))
        #expect(try await store.put(instance: restarted) == [restarted])
    }

    @Test(arguments: BackendKind.allCases) func pruningKeepsTheChainVerifiableAndVouchesForThePrefix(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let clock = TestClock()
        let log = AuditLog(chainKey: under.keyring.chainKey, clock: { clock.now })
        for index in 1...10 {
            _ = try under.backend.blockingWrite { db in try log.append(sampleEntry(index), in: db) }
            clock.advance(by: 3_600)
        }
        // Rows 1–4 are more than 6 h older than the newest.
        let outcome = try under.backend.blockingWrite { db in try log.prune(retention: 6 * 3_600 - 1, in: db) }
        guard case .pruned(let pruning) = outcome else {
            Issue.record("expected a pruning, got \(outcome)")
            return
        }
        #expect(pruning.throughSeq == 4 && pruning.deletedRows == 4)
        let rows = try await under.backend.read { db in try db.auditRows(after: 0, through: nil, limit: 100) }
        #expect(rows.first?.seq == 5)
        #expect(rows.last?.event == .auditPruned && rows.last?.seq == 11)
        #expect(rows.first?.prevHash == pruning.anchorHash)
    }

    @Test(arguments: BackendKind.allCases) func theTailIsToldOfEveryCommittedRowAndNothingRolledBack(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        let sink = RecordingSink()
        let tail = try store.startAuditTail(sink: sink)
        _ = try await store.append(sampleEntry(1))
        struct Refused: Error {}
        let log = AuditLog(chainKey: under.keyring.chainKey)
        #expect(throws: Refused.self) {
            try under.backend.blockingWrite { db in
                _ = try log.append(sampleEntry(99), in: db)
                throw Refused()
            }
        }
        _ = try await store.append(sampleEntry(2))
        withExtendedLifetime(tail) {}
        #expect(sink.started.withLock { $0 } == 0)
        #expect(sink.seen.withLock { $0 } == [1, 2])
    }
}

final class RecordingSink: AuditTailSink {
    let started = Mutex<Int64?>(nil)
    let seen = Mutex<[Int64]>([])

    func started(at head: Int64) { started.withLock { $0 = head } }

    func committed(head: Int64, rowsAfter: (Int64) throws(StoreError) -> [AuditRow]) {
        let after = seen.withLock { $0.last ?? 0 }
        let rows = (try? rowsAfter(after)) ?? []
        seen.withLock { $0 += rows.map(\.seq) }
    }

    func failed(_ error: StoreError) {}
}
