import Foundation
import GrantLifecycle
import Logging
import Scheduler
import Sensitive
import Store
import Synchronization
import WhiteBITClient

/// The shell around the pure `Lifecycle`: it loads a grant, asks the engine what
/// follows from an event, commits the answer (grant, sealed data, audit rows) in one
/// transaction, reschedules the grant, and only then performs the one WhiteBIT call
/// the answer asked for, feeding its outcome back in as the next event.
///
/// Per user, one thing happens at a time (a lock) and at most one call is in flight,
/// so a key's secret is never fetched twice at once.
actor GrantEngine {
    let store: GrantStore
    let sealer: Sealer
    private let clientBox: Mutex<WhiteBITClient>
    let scheduler: Scheduler<DaemonTimer>
    let logger: Logger
    /// The `events` subscribers; the store's `AuditTail` feeds them (Daemon.init).
    let events = EventSubscribers()
    var lifecycle: Lifecycle
    /// The one nonce source of the daemon (docs/design.md §12): `sign` for any number of
    /// callers and every signed read wbkeyd makes itself take their nonces from it, seeded
    /// at start from the persisted marks (`seedNonces()`).
    let nonces = V4NonceSource()
    /// Called once when a write fails: the daemon must stop acting and exit.
    let onHalt: @Sendable (String) -> Void
    /// The grants this instance holds (docs/design.md §13); every decision is checked
    /// against the store's owner and epoch in its own commit.
    private(set) var leases: LeaseBook
    /// How long a WhiteBIT call may take, its margin included: a call starts only while
    /// the lease has that much left.
    var callBudget: Duration

    private var locks = UserLocks()
    private(set) var inFlight: Set<String> = []
    /// Outcomes returned from WhiteBIT and not yet committed.
    private var settling = 0
    /// Stopping: calls out may commit their outcome, but no commit starts another; the
    /// next call stays due in the store, and the next start makes it.
    private var stopping = false
    private(set) var haltReason: String?
    private var observers: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// `wait`ers by user (GrantEngine+Wait).
    var watchers: [String: [UUID: Watcher]] = [:]
    private var routineLog = RoutineLogBudget()
    /// The calls decisions asked for, in commit order; `CallService` makes each as a child
    /// of its task group, so the service group's shutdown is what drains them.
    nonisolated let calls: AsyncStream<PendingCall>
    private let callsIn: AsyncStream<PendingCall>.Continuation

    init(
        store: GrantStore, client: WhiteBITClient, scheduler: Scheduler<DaemonTimer>, policy: LifecyclePolicy, logger: Logger,
        leases: LeaseBook, callBudget: Duration, onHalt: @escaping @Sendable (String) -> Void
    ) {
        self.leases = leases
        self.callBudget = callBudget
        self.store = store
        self.sealer = store.sealer
        self.clientBox = Mutex(client)
        self.scheduler = scheduler
        self.lifecycle = Lifecycle(policy: policy)
        self.logger = logger
        self.onHalt = onHalt
        (calls, callsIn) = AsyncStream.makeStream(of: PendingCall.self)
    }

    /// The WhiteBIT client in use; readable without waiting for the engine (`status`
    /// takes its counters).
    nonisolated var client: WhiteBITClient { clientBox.withLock { $0 } }

    /// Swaps the WhiteBIT client (a reload changed its limits); returns the old one.
    func replaceClient(_ new: WhiteBITClient) -> WhiteBITClient {
        clientBox.withLock { current in
            let old = current
            current = new
            return old
        }
    }

    func setPolicy(_ policy: LifecyclePolicy) {
        lifecycle.policy = policy
    }

    func setCallBudget(_ budget: Duration) {
        callBudget = budget
    }

    /// The heartbeat (docs/design.md §13): this instance's row and lease renewed, and the
    /// grants no live instance holds claimed and put into the scheduler (past-due ones
    /// fire at once) as a restart would. `afresh` at start: what this name held in a
    /// previous run is released first (that run is over: a name runs once at a time) and
    /// claimed again with the rest. Answers the round and how many grants it claimed.
    func leaseRound(_ record: InstanceRecord, claimLimit: Int, afresh: Bool = false) async throws -> LeaseRound {
        let sent = ContinuousClock.now
        let round = try await store.leaseRound(instance: record, seconds: leases.term.seconds, claimLimit: claimLimit, afresh: afresh)
        let lost = leases.renewed(sent: sent, owned: round.owned)
        if let lane = round.nonceLane { nonces.assign(lane: lane, of: GrantStore.nonceLanes) }
        if !lost.isEmpty {
            logger.warning(
                "this instance's lease ran out and other instances took grants it held; it forgets them",
                metadata: ["event": "lease_lost", "grants": "\(lost.count)"])
        } else if round.lapsed, !afresh {
            logger.warning("this instance's lease ran out before it was renewed; no grant was taken meanwhile", metadata: ["event": "lease_lapsed"])
        }
        if !afresh, !round.claimed.isEmpty {
            logger.notice(
                "claimed grants that no live instance held", metadata: ["event": "lease_takeover", "grants": "\(round.claimed.count)"])
        }
        for claim in round.claimed where !inFlight.contains(claim.user) {
            leases.hold(claim.user, epoch: claim.epoch)
            if let deadline = claim.deadline { await scheduler.schedule(.grant(claim.user), at: deadline) }
        }
        for request in round.revocations { await applyQueued(request) }
        return round
    }

    /// A revocation another instance took for a grant this one holds: decided here as if
    /// asked here, by its own actor, and forgotten in the same commit.
    private func applyQueued(_ request: QueuedRevocation) async {
        do {
            try await apply(.revokeRequested(reason: request.reason), user: request.user, actor: request.actor, consuming: request.id)
            logger.notice(
                "revocation queued by another instance applied",
                metadata: ["event": "revocation_applied", "user": "\(request.user)", "actor": "\(request.actor.text)"])
        } catch is LeaseRefusal {
            // No longer ours: the instance that took the grant reads the request instead.
        } catch {
            logger.error("a queued revocation could not be applied", metadata: ["user": "\(request.user)", "error": "\(error)"])
        }
    }

    /// Dormant and disabled grants whose probe plan predates the current
    /// `keys.probe_interval` (an upgrade, a reload) are made due once, so the lifecycle
    /// plans or drops their probes.
    func settleKeyWatches() async throws -> Int {
        let probing = lifecycle.policy.probeInterval != nil
        let users = try await store.unsettledKeyWatches(probing: probing)
        let now = Date()
        for user in users { await scheduler.schedule(.grant(user), at: now) }
        return users.count
    }

    // MARK: locking

    func lock(_ user: String) async {
        if locks.tryLock(user) { return }
        await withCheckedContinuation { locks.enqueue(user, $0) }
    }

    func unlock(_ user: String) {
        locks.unlock(user)
    }

    func withLock<T: Sendable>(_ user: String, _ body: () async throws -> T) async rethrows -> T {
        await lock(user)
        defer { unlock(user) }
        return try await body()
    }

    // MARK: applying events

    /// Applies an event under the user's lock. Nil when the user has no grant and
    /// `create` is false.
    @discardableResult
    func apply(
        _ event: GrantEvent, user: String, actor: AuditActor = .wbkeyd, create: Bool = false, consuming queued: Int64? = nil
    ) async throws -> Transition? {
        try await withLock(user) {
            try await applyLocked(event, user: user, actor: actor, create: create, consuming: queued)
        }
    }

    /// The same, for a caller that holds the lock already.
    @discardableResult
    func applyLocked(
        _ event: GrantEvent, user: String, actor: AuditActor = .wbkeyd, create: Bool = false, consuming queued: Int64? = nil
    ) async throws -> Transition? {
        let (lifecycle, now, roll, lease) = (self.lifecycle, Date(), Double.random(in: 0..<1), leases.check(for: user))
        return try await commit(user: user) { store in
            try await store.decide(
                event, user: user, actor: actor, create: create, lifecycle: lifecycle, now: now, roll: roll, lease: lease,
                consuming: queued)
        }
    }

    /// Commits one decision (`write`: the store's `decide` or `ingest`), then reschedules
    /// the grant, makes the call it asked for, logs its audit notes and wakes observers.
    /// A failed write halts the engine; a decision the store refused for its lease
    /// (`LeaseRefusal`) wrote nothing and is thrown to the caller.
    func commit(user: String, _ write: @Sendable (GrantStore) async throws -> Decision?) async throws -> Transition? {
        if let haltReason { throw EngineHalted(reason: haltReason) }
        let decision: Decision?
        do {
            decision = try await write(store)
        } catch let refusal as LeaseRefusal {
            await refused(refusal, user: user)
            throw refusal
        } catch {
            halt("store write failed: \(error)")
            throw error
        }
        guard let decision else { return nil }
        if let epoch = decision.leaseEpoch { leases.hold(user, epoch: epoch) }
        let transition = decision.transition
        if transition.call != nil, !inFlight.contains(user), !stopping, !leases.allowsCall(at: .now, lasting: callBudget) {
            // The lease may have run out unseen (a pause, a store slow to answer): the call
            // stays due in the store, tried again a second later, once the lease is renewed.
            await scheduler.reschedule(.grant(user), at: Date().addingTimeInterval(1))
        } else if let call = transition.call, !inFlight.contains(user), !stopping {
            // Made now, after the commit that made it durable; the outcome's commit
            // schedules whatever comes next, so the grant needs no timer meanwhile.
            inFlight.insert(user)
            await scheduler.reschedule(.grant(user), at: nil)
            callsIn.yield(PendingCall(call: call, user: user))
        } else {
            // A call already out for this user commits its outcome first; that transition
            // makes the call this one left due.
            await scheduler.reschedule(.grant(user), at: transition.grant.nextDeadline)
        }
        for note in transition.audit { log(note, user: user) }
        notifyObservers(of: user)
        return transition
    }

    /// The store refused a decision for its lease: another instance holds the grant. This
    /// one forgets it (its epoch and its timer); the holder's own timers carry it on.
    private func refused(_ refusal: LeaseRefusal, user: String) async {
        leases.drop(user)
        if !inFlight.contains(user) { await scheduler.reschedule(.grant(user), at: nil) }
        if case .lost(_, let owner) = refusal {
            logger.warning(
                "grant lost to another instance; this one's stale work on it is not recorded",
                metadata: ["event": "lease_lost", "user": "\(user)", "owner": "\(owner ?? "none")"])
        }
    }

    /// A deadline of the user's grant came due: run it unless a call is in flight
    /// (its outcome reschedules the grant).
    func due(_ user: String) async {
        await withLock(user) {
            guard haltReason == nil, !inFlight.contains(user) else { return }
            do {
                try await applyLocked(.due, user: user)
            } catch is LeaseRefusal {
                // Another instance holds it: its deadlines are that instance's to keep.
            } catch {
                logger.error("could not run a due step", metadata: ["user": "\(user)", "error": "\(error)"])
            }
        }
    }

    /// The call of `user` is over: its outcome is about to be committed (`settling`), and
    /// that commit may start the next call.
    func callReturned(_ user: String) {
        inFlight.remove(user)
        settling += 1
    }

    func outcomeSettled() {
        settling -= 1
        if inFlight.isEmpty, settling == 0 {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters.removeAll()
        }
    }

    /// Calls out may still commit their outcome; `CallService` ends once they have.
    func stopStartingCalls() {
        stopping = true
        callsIn.finish()
    }

    /// Returns when no WhiteBIT call is in flight, or after `timeout`: a stopping
    /// daemon lets calls commit their outcome rather than cut them off.
    func waitUntilIdle(timeout: Duration) async {
        guard !inFlight.isEmpty || settling > 0 else { return }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.releaseIdleWaiters()
        }
        await withCheckedContinuation { idleWaiters.append($0) }
        timer.cancel()
    }

    private func releaseIdleWaiters() {
        for waiter in idleWaiters { waiter.resume() }
        idleWaiters.removeAll()
    }

    // MARK: failure

    /// Fail closed (docs/design.md §6): a write that cannot be made means nothing more is
    /// done at WhiteBIT, and the daemon exits with the reason.
    func halt(_ reason: String) {
        guard haltReason == nil else { return }
        haltReason = reason
        stopStartingCalls()
        logger.critical("\(reason); wbkeyd stops changing anything at WhiteBIT and exits", metadata: ["event": "audit_write_failed"])
        onHalt(reason)
    }

    // MARK: observing

    /// Waits until the user's grant next changes, or `timeout` passes.
    func waitForChange(of user: String, timeout: Duration) async {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.resumeObserver(user, id)
        }
        await withCheckedContinuation { observers[user, default: [:]][id] = $0 }
        timer.cancel()
    }

    private func resumeObserver(_ user: String, _ id: UUID) {
        observers[user]?.removeValue(forKey: id)?.resume()
    }

    private func notifyObservers(of user: String) {
        notifyWatchers(of: user)
        guard let waiting = observers.removeValue(forKey: user) else { return }
        for continuation in waiting.values { continuation.resume() }
    }

    // MARK: audit and log

    func log(_ note: AuditNote, user: String) {
        var metadata: Logger.Metadata = ["event": "\(note.event.rawValue)", "user": "\(user)"]
        if let id = note.externalID { metadata["external_id"] = "\(id)" }
        for (key, value) in note.detail { metadata[key] = "\(value)" }
        let level: Logger.Level = switch note.event {
        case .secretLost, .keyRevokeFailed, .tokenExchangeFailed, .keyGone, .keyDisabled, .reconcileDrift: .warning
        case .eventIgnored: .notice
        default: .info
        }
        guard !RoutineLogBudget.routineEvents.contains(note.event) || admitRoutineLine() else { return }
        logger.log(level: level, "\(note.event.rawValue.replacingOccurrences(of: "_", with: " "))", metadata: metadata)
    }

    /// Whether a routine per-grant line may go to the log now (`RoutineLogBudget`); says
    /// how many were left out when it is time to.
    func admitRoutineLine() -> Bool {
        let verdict = routineLog.admit()
        if let count = verdict.leftOut {
            let since = verdict.since
            logger.notice(
                "\(count) routine per-grant log entries left out since \(since.map { AuditTimestamp.format($0) } ?? "-") (over \(Int(RoutineLogBudget.perSecond)) a second); the audit log has every event",
                metadata: ["event": "log_entries_left_out", "count": "\(count)"])
        }
        return verdict.log
    }
}

/// A call a committed decision asked for, waiting for `CallService` to make it.
struct PendingCall: Sendable {
    let call: Call
    let user: String
}

struct EngineHalted: Error, CustomStringConvertible {
    let reason: String
    var description: String { "wbkeyd is degraded and refuses changes: \(reason)" }
}
