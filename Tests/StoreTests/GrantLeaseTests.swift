import Foundation
import GrantLifecycle
import Sensitive
import Testing
@testable import Store

/// Leases and fencing in the store (docs/design.md §13), the same on both backends: who
/// may decide for a grant is settled in the decision's own commit, from the owner and epoch
/// on its row and the owner's lease on the database's clock.
@Suite struct GrantLeaseTests {
    let lifecycle = Lifecycle(policy: LifecyclePolicy(verifyKey: false, probeInterval: nil))

    func instance(_ name: String) -> InstanceRecord {
        let now = Date()
        return InstanceRecord(name: name, host: "host-\(name)", pid: 1, startedAt: now, lastSeen: now)
    }

    /// A new authorization for `user`, decided by `check`'s instance: the grant has a call
    /// due (the token exchange), so it has a deadline and can be claimed.
    func receive(_ user: String, in store: GrantStore, as check: LeaseCheck) async throws -> Decision? {
        let authorization = Authorization(
            receivedAt: Date(), apiKey: nil, code: Sensitive("code-\(UUID())"), verifier: Sensitive("verifier-\(UUID())"))
        return try await store.ingest(
            authorization, user: user, fingerprint: "fp-\(UUID())", consumingState: nil, file: "f", lifecycle: lifecycle, now: Date(),
            roll: 0.5, lease: check)
    }

    func exchanged(_ user: String, in store: GrantStore, as check: LeaseCheck) async throws -> Decision? {
        try await store.decide(
            .tokenExchanged(token: Sensitive("token-\(UUID())"), expiresIn: .seconds(14_400)), user: user, actor: .wbkeyd,
            lifecycle: lifecycle, now: Date(), roll: 0.5, lease: check)
    }

    @Test(arguments: BackendKind.allCases) func aDecisionTakesAFreeGrantAndIsRefusedOneALiveInstanceHolds(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        _ = try await store.leaseRound(instance: instance("alpha"), seconds: 60, claimLimit: 10)
        _ = try await store.leaseRound(instance: instance("beta"), seconds: 60, claimLimit: 10)

        let created = try #require(try await receive("u1", in: store, as: LeaseCheck(instance: "alpha", held: nil)))
        #expect(created.leaseEpoch == 1)
        #expect(try await store.grant(user: "u1")?.lease == GrantLease(owner: "alpha", epoch: 1, ownerLive: true))

        // Beta may not decide for it while alpha's lease lives; nothing is written.
        let rows = try await under.chainRows()
        await #expect(throws: LeaseRefusal.heldElsewhere(user: "u1", owner: "alpha")) {
            try await exchanged("u1", in: store, as: LeaseCheck(instance: "beta", held: nil))
        }
        #expect(try await under.chainRows() == rows)
        #expect(try await store.grant(user: "u1")?.grant.state == .pending)

        // Alpha goes on under the epoch it holds, and keeps it.
        let next = try #require(try await exchanged("u1", in: store, as: LeaseCheck(instance: "alpha", held: 1)))
        #expect(next.leaseEpoch == 1)
        #expect(try await store.grants(state: nil, limit: 10).map(\.lease?.owner) == ["alpha"])
    }

    @Test(arguments: BackendKind.allCases) func anExpiredLeaseIsTakenOverAndItsHoldersStaleWorkFenced(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        _ = try await store.leaseRound(instance: instance("alpha"), seconds: 60, claimLimit: 10)
        _ = try await receive("u1", in: store, as: LeaseCheck(instance: "alpha", held: nil))
        _ = try await receive("u2", in: store, as: LeaseCheck(instance: "alpha", held: nil))

        // Beta claims nothing while alpha lives.
        var round = try await store.leaseRound(instance: instance("beta"), seconds: 60, claimLimit: 10)
        #expect(round.claimed.isEmpty)
        #expect(round.grantsByOwner == ["alpha": 2])

        // Alpha stops renewing (its lease ends in the past); beta's next round takes both
        // grants, soonest deadline first, each under a raised epoch.
        _ = try await store.leaseRound(instance: instance("alpha"), seconds: -1, claimLimit: 0)
        round = try await store.leaseRound(instance: instance("beta"), seconds: 60, claimLimit: 1)
        #expect(round.claimed.count == 1, "at most the limit per round")
        round = try await store.leaseRound(instance: instance("beta"), seconds: 60, claimLimit: 10)
        #expect(round.claimed.map(\.epoch) == [2])
        #expect(round.grantsByOwner == ["beta": 2])
        #expect(round.lapsed == false && round.owned == nil)

        // Alpha comes back: its renewal finds the lease lapsed and which grants it still
        // holds (none), and its stale decision is refused without a write.
        let back = try await store.leaseRound(instance: instance("alpha"), seconds: 60, claimLimit: 10)
        #expect(back.lapsed && back.owned == [:])
        #expect(back.claimed.isEmpty, "beta's lease is live")
        let rows = try await under.chainRows()
        await #expect(throws: LeaseRefusal.lost(user: "u1", owner: "beta")) {
            try await exchanged("u1", in: store, as: LeaseCheck(instance: "alpha", held: 1))
        }
        #expect(try await under.chainRows() == rows)
        #expect(try await exchanged("u1", in: store, as: LeaseCheck(instance: "beta", held: 2))?.leaseEpoch == 2)
    }

    @Test(arguments: BackendKind.allCases) func aCleanStopFreesItsGrantsAndAStartAfreshTakesItsOwnBack(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        _ = try await store.leaseRound(instance: instance("alpha"), seconds: 60, claimLimit: 10)
        _ = try await receive("u1", in: store, as: LeaseCheck(instance: "alpha", held: nil))

        // A restart under the same name (kill -9: no release) takes its own grant back at
        // once, under a new epoch, though its lease still lives.
        let restarted = try await store.leaseRound(instance: instance("alpha"), seconds: 60, claimLimit: 10, afresh: true)
        #expect(restarted.claimed.map(\.user) == ["u1"] && restarted.claimed.map(\.epoch) == [2])

        // A clean stop frees it for anyone at once.
        var stopping = instance("alpha")
        stopping.stoppedAt = Date()
        _ = try await store.release(instance: stopping)
        #expect(try await store.grant(user: "u1")?.lease?.owner == nil)
        let taken = try await store.leaseRound(instance: instance("beta"), seconds: 60, claimLimit: 10)
        #expect(taken.claimed.map(\.user) == ["u1"] && taken.claimed.map(\.epoch) == [3])
        #expect(try await under.chainRows() == 1, "leases are not audited; the one row is the authorization's")
    }

    @Test(arguments: BackendKind.allCases) func aRevocationQueuedForTheHolderIsReadByItAloneAndGoesWithItsDecision(_ kind: BackendKind) async throws {
        let under = try await StoreUnderTest.make(kind)
        let store = try GrantStore(backend: under.backend, keyring: under.keyring)
        _ = try await store.leaseRound(instance: instance("alpha"), seconds: 60, claimLimit: 10)
        _ = try await store.leaseRound(instance: instance("beta"), seconds: 60, claimLimit: 10)
        _ = try await receive("u1", in: store, as: LeaseCheck(instance: "alpha", held: nil))
        try await store.queue(QueuedRevocation(user: "u1", reason: "asked at beta", actor: .uid(7), at: Date()))

        #expect(try await store.leaseRound(instance: instance("beta"), seconds: 60, claimLimit: 10).revocations.isEmpty)
        let queued = try await store.leaseRound(instance: instance("alpha"), seconds: 60, claimLimit: 10).revocations
        #expect(queued.map(\.user) == ["u1"] && queued.map(\.actor) == [.uid(7)] && queued.map(\.reason) == ["asked at beta"])
        let request = try #require(queued.first)
        let decided = try await store.decide(
            .revokeRequested(reason: request.reason), user: "u1", actor: request.actor, lifecycle: lifecycle, now: Date(), roll: 0.5,
            lease: LeaseCheck(instance: "alpha", held: 1), consuming: request.id)
        #expect(decided?.transition.audit.contains { $0.event == .revokeRequested } == true)
        #expect(try await store.leaseRound(instance: instance("alpha"), seconds: 60, claimLimit: 10).revocations.isEmpty)
        let rows = try await store.auditRows(limit: 10, user: "u1")
        #expect(rows.last { $0.event == .revokeRequested }?.actor == .uid(7))
    }
}
