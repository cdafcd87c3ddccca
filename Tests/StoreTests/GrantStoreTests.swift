import Foundation
import GrantLifecycle
import Sensitive
import Synchronization
import Testing
@testable import Store

/// The store's write path in process: group commit (batching, savepoint isolation, the
/// hand-off of the lead), the summary it keeps, and one decision's effects applied in one
/// commit.
@Suite struct GrantStoreTests {
    struct Refused: Error {}

    /// A first write whose commit is held open until `gate` is signalled: writes made
    /// meanwhile queue behind it. Returns once the held commit is running.
    func holdingACommit(
        _ committer: GroupCommitter, _ log: AuditLog
    ) async throws -> (write: Task<AuditRow, any Error>, gate: DispatchSemaphore) {
        let gate = DispatchSemaphore(value: 0)
        let running = Mutex(false)
        let write = Task {
            try await committer.write { db in
                running.withLock { $0 = true }
                gate.wait()
                return try log.append(sampleEntry(1), in: db)
            }
        }
        while !running.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(2)) }
        return (write, gate)
    }

    func committer(_ store: StoreUnderTest) throws -> GroupCommitter {
        GroupCommitter(backend: store.backend, summary: try StoreSummary(loadingFrom: store.backend))
    }

    /// A fresh store on `kind`, its committer and log, and a first write holding its commit
    /// open (`holdingACommit`).
    func storeHoldingACommit(_ kind: BackendKind) async throws -> (
        store: StoreUnderTest, committer: GroupCommitter, log: AuditLog, first: Task<AuditRow, any Error>, gate: DispatchSemaphore
    ) {
        let store = try await StoreUnderTest.make(kind)
        let committer = try committer(store)
        let log = AuditLog(chainKey: store.keyring.chainKey)
        let (first, gate) = try await holdingACommit(committer, log)
        return (store, committer, log, first, gate)
    }

    @Test(arguments: BackendKind.allCases) func writesQueuedBehindACommitGoIntoOneTransaction(_ kind: BackendKind) async throws {
        // The first write holds its commit open until 40 more writers have queued.
        let (store, committer, log, first, gate) = try await storeHoldingACommit(kind)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 2...41 {
                group.addTask { _ = try await committer.write { db in try log.append(sampleEntry(index), in: db) } }
            }
            while committer.waiting < 40 { try await Task.sleep(for: .milliseconds(5)) }
            gate.signal()
            _ = try await first.value
            try await group.waitForAll()
        }
        #expect(committer.counters.snapshot == StoreCounters.Snapshot(writes: 41, transactions: 2))
        #expect(try await store.chainRows() == 41)
        #expect(committer.summary.snapshot.auditHead?.seq == 41)
        #expect(committer.summary.snapshot.auditEvents.values.reduce(0, +) == 41)
    }

    @Test(arguments: BackendKind.allCases) func aFailingWriteTakesNoOtherWriteOfItsCommitWithIt(_ kind: BackendKind) async throws {
        let (store, committer, log, first, gate) = try await storeHoldingACommit(kind)
        let doomed = Task {
            try await committer.write { db in
                _ = try log.append(sampleEntry(2), in: db)
                throw Refused()
            }
        }
        while committer.waiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let kept = Task { try await committer.write { db in try log.append(sampleEntry(3), in: db) } }
        while committer.waiting < 2 { try await Task.sleep(for: .milliseconds(5)) }
        gate.signal()
        _ = try await first.value
        await #expect(throws: Refused.self) { try await doomed.value }
        let row = try await kept.value
        // The failed write's row was rolled back with its savepoint: the chain has no gap.
        #expect(row.seq == 2)
        #expect(try await store.chainRows() == 2)
    }

    /// PostgreSQL's connection keeps a transaction's audit rows until something reads the
    /// log or it commits, and sends a write's savepoint only before its first statement: a
    /// failed write that made earlier writes' rows go out inside its savepoint must not
    /// take them with it, nor leave its own.
    @Test(arguments: BackendKind.allCases) func aFailedWriteLeavesTheRowsOfTheWritesBeforeItWhateverItSent(_ kind: BackendKind) async throws {
        let (store, committer, log, first, gate) = try await storeHoldingACommit(kind)
        var writes: [Task<AuditRow, any Error>] = []
        let bodies: [@Sendable (any StoreConnection) throws -> AuditRow] = [
            { db in try log.append(sampleEntry(2), in: db) },
            { db in  // reads the log, so the rows kept so far go out inside its savepoint
                _ = try log.append(sampleEntry(3), in: db)
                #expect(try db.auditRows(after: 0, through: nil, limit: 10).map(\.seq) == [1, 2, 3])
                throw Refused()
            },
            { db in  // sends a statement of its own, then fails
                _ = try log.append(sampleEntry(4), in: db)
                _ = try db.wasIngested(fingerprint: "fp")
                throw Refused()
            },
            { db in  // fails before sending anything
                _ = try log.append(sampleEntry(5), in: db)
                throw Refused()
            },
            { db in try log.append(sampleEntry(6), in: db) },
        ]
        for (index, body) in bodies.enumerated() {
            writes.append(Task { try await committer.write { db in try body(db) } })
            while committer.waiting < index + 1 { try await Task.sleep(for: .milliseconds(5)) }
        }
        gate.signal()
        _ = try await first.value
        #expect(try await writes[0].value.seq == 2)
        for doomed in writes[1...3] { await #expect(throws: Refused.self) { try await doomed.value } }
        #expect(try await writes[4].value.seq == 3)
        #expect(committer.counters.snapshot.transactions == 2)
        let rows = try await store.backend.read { db in try db.auditRows(after: 0, through: nil, limit: 10) }
        #expect(rows.map(\.seq) == [1, 2, 3])
        #expect(rows.map(\.detail) == [1, 2, 6].map { sampleEntry($0).detail.json })
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.hash == $1.prevHash }, "the chain links")
    }

    @Test(arguments: BackendKind.allCases) func aCancelledLeaderStillCommitsTheWritesQueuedBehindIt(_ kind: BackendKind) async throws {
        let (_, committer, log, leader, gate) = try await storeHoldingACommit(kind)
        let follower = Task { try await committer.write { db in try log.append(sampleEntry(2), in: db) } }
        while committer.waiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
        leader.cancel()
        gate.signal()
        _ = try await leader.value
        #expect(try await follower.value.seq == 2)
        #expect(committer.counters.snapshot.writes == 2)
    }

    @Test(arguments: BackendKind.allCases) func aDecisionAppliesEveryEffectOfItsTransitionInOneCommit(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        let lifecycle = Lifecycle(policy: LifecyclePolicy(verifyKey: false, probeInterval: nil))
        let now = Date()
        let code = Sensitive("code-\(UUID())")
        let authorization = Authorization(receivedAt: now, apiKey: nil, code: code, verifier: Sensitive("verifier-\(UUID())"))
        let received = try await store.ingest(
            authorization, user: "u1", fingerprint: "fp-1", consumingState: nil, file: "f1", lifecycle: lifecycle, now: now, roll: 0.5)
        #expect(received?.transition.call == .exchangeToken)
        var stored = try #require(try await store.grant(user: "u1"))
        let sealedCode = try #require(stored.sealedCode)
        #expect(try store.sealer.open(sealedCode, binding: SealBinding(kind: .authorizationCode, user: "u1")) == code)
        // The same code again is a duplicate, recorded as such, and changes nothing.
        let again = try await store.ingest(
            authorization, user: "u1", fingerprint: "fp-1", consumingState: nil, file: "f2", lifecycle: lifecycle, now: now, roll: 0.5)
        #expect(again == nil)

        let token = Sensitive("token-\(UUID())")
        _ = try await store.decide(
            .tokenExchanged(token: token, expiresIn: .seconds(14_400)), user: "u1", actor: .wbkeyd, lifecycle: lifecycle, now: now,
            roll: 0.5)
        stored = try #require(try await store.grant(user: "u1"))
        #expect(stored.sealedCode == nil && stored.sealedVerifier == nil)
        #expect(try store.sealer.open(try #require(stored.sealedToken), binding: SealBinding(kind: .accessToken, user: "u1")) == token)

        _ = try await store.decide(
            .keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")), user: "u1", actor: .wbkeyd, lifecycle: lifecycle,
            now: now, roll: 0.5)
        let secret = Sensitive("secret-\(UUID())")
        let secured = try await store.decide(
            .secretFetched(secret, externalID: "key-1"), user: "u1", actor: .wbkeyd, lifecycle: lifecycle, now: now, roll: 0.5)
        #expect(secured?.move == GrantMove(from: .securing, to: .active))
        stored = try #require(try await store.grant(user: "u1"))
        #expect(stored.secretExternalID == "key-1")
        let binding = SealBinding(kind: .apiSecret, user: "u1", externalID: "key-1")
        #expect(try store.sealer.open(try #require(stored.sealedSecret), binding: binding) == secret)

        let mark = NonceMark(key: "key-1", nonce: 1_900_000_000_000)
        _ = try await store.decide(
            .keyChecked(KeyCheckReport(externalID: "key-1", outcome: .ok, nonceMarks: [mark])), user: "u1", actor: .wbkeyd,
            lifecycle: lifecycle, now: now, roll: 0.5)
        #expect(try await store.nonceMarks()["key-1"] == mark.nonce)

        // The summary kept by the commits is what a fresh count of the store says.
        #expect(store.summary.snapshot.grants == [.active: 1])
        #expect(try StoreSummary(loadingFrom: under.backend).snapshot.grants == store.summary.snapshot.grants)
        #expect(store.summary.snapshot.auditHead == (try await store.auditHead()))
        let events = try await store.auditRows(limit: 20).map(\.event)
        #expect(
            events == [
                .authorizationReceived, .authorizationDuplicate, .tokenExchanged, .keyDetected, .secretSecured, .keyVerified,
            ])
        // One write per decision, the duplicate's included, none more.
        #expect(store.counters.writes == 6)
        #expect(try await under.chainRows() == 6)
    }
}
