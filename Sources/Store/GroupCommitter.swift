import Synchronization

/// Group commit: every write the daemon makes is a small transaction, and with
/// `synchronous=FULL` each commit waits for the disk. Writes that arrive while a
/// commit is under way are gathered and committed together in the next one, each in
/// its own savepoint, so one failing write does not take the others with it and a
/// burst costs one fsync instead of hundreds. A caller resumes only after its
/// write is durable: "intent recorded before the call" still holds.
///
/// No task of its own: the writer that finds no commit under way leads, and when its
/// batch is durable it hands the lead to the first writer still waiting. Every commit
/// thus runs in a caller's task and ends with it, and nothing is left running when the
/// callers are gone. Every commit also brings the `StoreSummary` up to date before its
/// callers resume.
final class GroupCommitter: Sendable {
    private enum Turn: Sendable {
        /// The write is durable, or failed (its outcome says which).
        case done
        /// Nothing is being committed: this writer commits the queue, its own write in it.
        case lead
    }

    private struct Job: Sendable {
        let id: Int
        /// Runs the write in its savepoint; answers the grant move it made, if it succeeded.
        let run: @Sendable (any StoreConnection) -> GrantMove?
        /// The transaction as a whole failed: every write in it failed with this error.
        let failed: @Sendable (any Error) -> Void
        let wake: @Sendable (Turn) -> Void
    }

    private struct Queue: ~Copyable {
        var jobs: [Job] = []
        var committing = false
        var nextID = 0
    }

    private let backend: any StoreBackend
    let summary: StoreSummary
    let counters = StoreCounters()
    private let queue = Mutex(Queue())

    init(backend: any StoreBackend, summary: StoreSummary) {
        self.backend = backend
        self.summary = summary
    }

    /// Writes queued for the next commit (for tests that hold a commit open).
    var waiting: Int { queue.withLock { $0.jobs.count } }

    /// A write that moves no grant between states.
    func write<T: Sendable>(_ work: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await write(work, move: { _ in nil })
    }

    /// A write whose result tells, through `move`, which grant it moved (for the summary).
    func write<T: Sendable>(
        _ work: @escaping @Sendable (any StoreConnection) throws -> T, move: @escaping @Sendable (T) -> GrantMove?
    ) async throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let run: @Sendable (any StoreConnection) -> GrantMove? = { db in
            do {
                var value: T?
                try db.inSavepoint { value = try work(db) }
                outcome.withLock { $0 = .success(value!) }
                return move(value!)
            } catch {
                outcome.withLock { $0 = .failure(error) }
                return nil
            }
        }
        let failed: @Sendable (any Error) -> Void = { error in outcome.withLock { $0 = .failure(error) } }
        var id = 0
        var turn: Turn = await withCheckedContinuation { continuation in
            let lead = queue.withLock { state -> Bool in
                id = state.nextID
                state.nextID &+= 1
                state.jobs.append(Job(id: id, run: run, failed: failed, wake: { continuation.resume(returning: $0) }))
                guard !state.committing else { return false }
                state.committing = true
                return true
            }
            // A leader's own job is never woken: it learns its outcome from its own commit.
            if lead { continuation.resume(returning: .lead) }
        }
        if turn == .lead { turn = await commitQueue(leader: id) }
        return try outcome.withLock { $0! }.get()
    }

    /// Commits every queued write in one transaction, wakes their writers, and hands the
    /// lead on to the first writer that queued meanwhile.
    private func commitQueue(leader: Int) async -> Turn {
        let batch = queue.withLock { state -> [Job] in
            defer { state.jobs = [] }
            return state.jobs
        }
        // Only the leader commits, so the summary's head is where this commit began.
        let previousHead = summary.snapshot.auditHead
        let committed: Result<([GrantMove], StoreSummary.Tail), any Error> = await withCheckedContinuation { continuation in
            // The callback form: a cancelled leader's task must not abandon the others' writes.
            backend.asyncWrite(
                { db in
                    let moves = batch.compactMap { $0.run(db) }
                    return (moves, try StoreSummary.Tail.read(in: db, after: previousHead))
                },
                completion: { result in continuation.resume(returning: result) })
        }
        switch committed {
        case .success(let (moves, tail)):
            summary.committed(moves, tail: tail)
            counters.committed(writes: batch.count)
        case .failure(let error):
            for job in batch { job.failed(error) }
        }
        for job in batch where job.id != leader { job.wake(.done) }
        let next = queue.withLock { state -> Job? in
            guard let first = state.jobs.first else {
                state.committing = false
                return nil
            }
            return first
        }
        next?.wake(.lead)
        return .done
    }
}

/// How much the store wrote: writes (one per decision, audit row or other change) and
/// the transactions that carried them, each one wait for the disk (`synchronous=FULL`).
/// Their ratio is what group commit buys.
public final class StoreCounters: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var writes: Int = 0
        public var transactions: Int = 0
    }

    private let state = Mutex(Snapshot())

    public var snapshot: Snapshot { state.withLock { $0 } }

    func committed(writes: Int) {
        state.withLock {
            $0.writes += writes
            $0.transactions += 1
        }
    }
}
