import Foundation
import GRDB
import Lifecycle
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
    let store: StoreDatabase
    let committer: GroupCommitter
    let sealer: Sealer
    let audit: AuditLog
    private let clientBox: Mutex<WhiteBITClient>
    let scheduler: Scheduler<DaemonTimer>
    let logger: Logger
    var lifecycle: Lifecycle
    /// Called once when a write fails: the daemon must stop acting and exit.
    let onHalt: @Sendable (String) -> Void

    private var locks = UserLocks()
    private(set) var inFlight: Set<String> = []
    private(set) var haltReason: String?
    private var observers: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var routineLog = RoutineLogBudget()

    init(
        store: StoreDatabase, summary: StoreSummary, sealer: Sealer, audit: AuditLog, client: WhiteBITClient, scheduler: Scheduler<DaemonTimer>,
        policy: LifecyclePolicy, logger: Logger, onHalt: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.committer = GroupCommitter(pool: store.pool, summary: summary)
        self.sealer = sealer
        self.audit = audit
        self.clientBox = Mutex(client)
        self.scheduler = scheduler
        self.lifecycle = Lifecycle(policy: policy)
        self.logger = logger
        self.onHalt = onHalt
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
        let deadlines = try await store.pool.read { db in try GrantRecords.deadlines(in: db) }
        for (user, at) in deadlines { await scheduler.schedule(.grant(user), at: at) }
        return deadlines.count
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

    /// What the shell adds to a transition's transaction: sealed data to store or
    /// clear, extra audit rows, all decided from the transition.
    typealias Extras = @Sendable (_ transition: Transition, _ db: Database) throws -> Void

    /// Applies an event under the user's lock. Nil when the user has no grant and
    /// `create` is false.
    @discardableResult
    func apply(
        _ event: GrantEvent, user: String, actor: AuditActor = .wbkeyd, create: Bool = false,
        extras: Extras? = nil
    ) async throws -> Transition? {
        try await withLock(user) {
            try await applyLocked(event, user: user, actor: actor, create: create, extras: extras)
        }
    }

    /// The same, for a caller that holds the lock already.
    func applyLocked(
        _ event: GrantEvent, user: String, actor: AuditActor = .wbkeyd, create: Bool = false,
        extras: Extras? = nil
    ) async throws -> Transition? {
        let step = TransactionStep(lifecycle: lifecycle, audit: audit, now: Date(), roll: Double.random(in: 0..<1))
        return try await commit(user: user) { db in
            try step.run(event, user: user, actor: actor, create: create, extras: extras, in: db)
        }
    }

    /// Runs `work` in one transaction (group-committed), then reschedules the grant,
    /// logs its audit notes and wakes observers. A failed write halts the engine.
    func commit(
        user: String, _ work: @escaping @Sendable (Database) throws -> TransactionStep.Outcome?
    ) async throws -> Transition? {
        if let haltReason { throw EngineHalted(reason: haltReason) }
        let transition: Transition?
        do {
            transition = try await committer.write(work, move: { $0?.move })?.transition
        } catch {
            halt("store write failed: \(error)")
            throw error
        }
        guard let transition else { return nil }
        await scheduler.reschedule(.grant(user), at: transition.grant.nextDeadline)
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
                guard let t = try await applyLocked(.due, user: user), let call = t.call else { return }
                inFlight.insert(user)
                Task { await self.perform(call, user: user) }
            } catch {
                logger.error("could not run a due step", metadata: ["user": "\(user)", "error": "\(error)"])
            }
        }
    }

    func callFinished(_ user: String) {
        inFlight.remove(user)
        if inFlight.isEmpty {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters.removeAll()
        }
    }

    /// Returns when no WhiteBIT call is in flight, or after `timeout`: a stopping
    /// daemon lets calls commit their outcome rather than cut them off.
    func waitUntilIdle(timeout: Duration) async {
        guard !inFlight.isEmpty else { return }
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

struct EngineHalted: Error, CustomStringConvertible {
    let reason: String
    var description: String { "wbkeyd is degraded and refuses changes: \(reason)" }
}
