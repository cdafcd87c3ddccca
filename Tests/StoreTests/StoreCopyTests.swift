import Foundation
import GrantLifecycle
import Sensitive
import Testing
@testable import Store

/// `migrate-store` in process: SQLite to PostgreSQL and back, everything as stored.
@Suite struct StoreCopyTests {
    /// A store with one active grant (a sealed secret), a pending state, a nonce mark and
    /// a chain of some 1,200 rows (PostgreSQL's writer sends a long copy 500 rows at a time).
    func populated(_ kind: BackendKind) async throws -> (StoreUnderTest, Sensitive) {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        let lifecycle = Lifecycle(policy: LifecyclePolicy(verifyKey: false, probeInterval: nil))
        let now = Date()
        let authorization = Authorization(receivedAt: now, apiKey: nil, code: Sensitive("c"), verifier: Sensitive("v"))
        _ = try await store.ingest(
            authorization, user: "u1", fingerprint: "fp-1", consumingState: nil, file: "f1", lifecycle: lifecycle, now: now, roll: 0.5)
        _ = try await store.decide(
            .tokenExchanged(token: Sensitive("t"), expiresIn: .seconds(14_400)), user: "u1", actor: .wbkeyd, lifecycle: lifecycle,
            now: now, roll: 0.5)
        _ = try await store.decide(
            .keyInfo(KeyInfo(exists: true, isEnabled: true, externalID: "key-1")), user: "u1", actor: .wbkeyd, lifecycle: lifecycle,
            now: now, roll: 0.5)
        let secret = Sensitive("secret-\(UUID())")
        _ = try await store.decide(
            .secretFetched(secret, externalID: "key-1"), user: "u1", actor: .wbkeyd, lifecycle: lifecycle, now: now, roll: 0.5)
        try await store.putPendingState(fingerprint: "st", user: "u2", verifier: Sensitive("pv"), expiresAt: now.addingTimeInterval(600))
        try await store.append(AuditEntry(.requestSigned, user: "u1", externalID: "key-1"), raising: NonceMark(key: "key-1", nonce: 42))
        let log = AuditLog(chainKey: under.keyring.chainKey)
        try under.backend.blockingWrite { db in
            for index in 0..<1_200 { _ = try log.append(sampleEntry(index), in: db) }
        }
        return (under, secret)
    }

    @Test func aStoreMovesToPostgreSQLAndBackWithItsChainAndSecrets() async throws {
        let (source, secret) = try await populated(.sqlite)
        let middle = try await StoreUnderTest.makeEmpty(.postgresql)
        let report = try StoreCopy.copy(from: source.backend, to: middle.backend)
        #expect(report.grants == 1 && report.pendingStates == 1 && report.nonceMarks == 1 && report.ingestions == 1)
        let rows = try await source.chainRows()
        #expect(report.auditRows == rows && rows >= 1_205)
        let head = try await source.backend.read { db in try db.auditHead() }
        let back = try await StoreUnderTest.makeEmpty(.sqlite)
        #expect(try StoreCopy.copy(from: middle.backend, to: back.backend) == report)

        for backend in [middle.backend, back.backend] {
            // The same master key opens the store and its secret; the chain is whole.
            let keyring = try StoreKeyring.unlock(masterKey: testMasterKey, backend: backend)
            let moved = StoreUnderTest(backend: backend, keyring: keyring, directory: nil)
            #expect(try await moved.chainRows() == rows)
            #expect(try await backend.read { db in try db.auditHead() } == head)
            let store = try GrantStore(backend: backend, keyring: keyring)
            let stored = try #require(try await store.grant(user: "u1"))
            #expect(stored.grant.state == .active)
            let binding = SealBinding(kind: .apiSecret, user: "u1", externalID: "key-1")
            #expect(try keyring.sealer.open(try #require(stored.sealedSecret), binding: binding) == secret)
            #expect(try await store.nonceMarks() == ["key-1": 42])
            #expect(try await store.pendingState(fingerprint: "st", now: Date())?.user == "u2")
        }
    }

    @Test func aTargetThatHoldsAnythingIsRefused() async throws {
        let (source, _) = try await populated(.sqlite)
        let (target, _) = try await populated(.postgresql)
        let before = try await target.chainRows()
        #expect(throws: StoreError.self) { try StoreCopy.copy(from: source.backend, to: target.backend) }
        #expect(try await target.chainRows() == before)
    }
}
