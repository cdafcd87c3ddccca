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
        onHalt: @escaping @Sendable (String) -> Void
    ) {
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

    /// Puts every stored deadline into the scheduler; past-due ones fire at once.
    func rebuildTimers() async throws -> Int {
        let deadlines = try await store.deadlines()
        for (user, at) in deadlines { await scheduler.schedule(.grant(user), at: at) }
        return deadlines.count
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
    func apply(_ event: GrantEvent, user: String, actor: AuditActor = .wbkeyd, create: Bool = false) async throws -> Transition? {
        try await withLock(user) {
            try await applyLocked(event, user: user, actor: actor, create: create)
        }
    }

    /// The same, for a caller that holds the lock already.
    @discardableResult
    func applyLocked(_ event: GrantEvent, user: String, actor: AuditActor = .wbkeyd, create: Bool = false) async throws -> Transition? {
        let (lifecycle, now, roll) = (self.lifecycle, Date(), Double.random(in: 0..<1))
        return try await commit(user: user) { store in
            try await store.decide(event, user: user, actor: actor, create: create, lifecycle: lifecycle, now: now, roll: roll)
        }
    }

    /// Commits one decision (`write`: the store's `decide` or `ingest`), then reschedules
    /// the grant, makes the call it asked for, logs its audit notes and wakes observers.
    /// A failed write halts the engine.
    func commit(user: String, _ write: @Sendable (GrantStore) async throws -> Decision?) async throws -> Transition? {
        if let haltReason { throw EngineHalted(reason: haltReason) }
        let transition: Transition?
        do {
            transition = try await write(store)?.transition
        } catch {
            halt("store write failed: \(error)")
            throw error
        }
        guard let transition else { return nil }
        if let call = transition.call, !inFlight.contains(user), !stopping {
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

    /// A deadline of the user's grant came due: run it unless a call is in flight
    /// (its outcome reschedules the grant).
    func due(_ user: String) async {
        await withLock(user) {
            guard haltReason == nil, !inFlight.contains(user) else { return }
            do {
                try await applyLocked(.due, user: user)
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
