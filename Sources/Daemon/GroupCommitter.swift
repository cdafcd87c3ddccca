import GRDB
import Synchronization

/// Group commit: every write the daemon makes is a small transaction, and with
/// `synchronous=FULL` each commit waits for the disk. Writes that arrive while a
/// commit is under way are gathered and committed together in the next one, each in
/// its own savepoint, so one failing write does not take the others with it and a
/// burst costs one fsync instead of hundreds. A caller resumes only after its
/// write is durable: "intent recorded before the call" still holds.
///
/// Every commit also brings the `StoreSummary` up to date before its callers resume.
final class GroupCommitter: Sendable {
    private struct Job: Sendable {
        /// Runs the write in its savepoint; answers the grant move it made, if it succeeded.
        let run: @Sendable (Database) -> GrantMove?
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct Queue: ~Copyable {
        var jobs: [Job] = []
        var draining = false
    }

    private let pool: DatabasePool
    let summary: StoreSummary
    private let queue = Mutex(Queue())

    init(pool: DatabasePool, summary: StoreSummary) {
        self.pool = pool
        self.summary = summary
    }

    /// A write that moves no grant between states.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await write(work, move: { _ in nil })
    }

    /// A write whose result tells, through `move`, which grant it moved (for the summary).
    func write<T: Sendable>(
        _ work: @escaping @Sendable (Database) throws -> T, move: @escaping @Sendable (T) -> GrantMove?
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = Mutex<Result<T, any Error>?>(nil)
            let job = Job(
                run: { db in
                    do {
                        var value: T?
                        try db.inSavepoint {
                            value = try work(db)
                            return .commit
                        }
                        outcome.withLock { $0 = .success(value!) }
                        return move(value!)
                    } catch {
                        outcome.withLock { $0 = .failure(error) }
                        return nil
                    }
                },
                finish: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else {
                        continuation.resume(with: outcome.withLock { $0! })
                    }
                })
            let startDrain = queue.withLock { state -> Bool in
                state.jobs.append(job)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if startDrain { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch = queue.withLock { state -> [Job] in
                let jobs = state.jobs
                state.jobs = []
                if jobs.isEmpty { state.draining = false }
                return jobs
            }
            guard !batch.isEmpty else { return }
            do {
                // Drains run one at a time, so the summary's head is where this commit began.
                let previousHead = summary.snapshot.auditHead
                let (moves, tail) = try await pool.write { db in
                    let moves = batch.compactMap { $0.run(db) }
                    return (moves, try StoreSummary.Tail.read(in: db, after: previousHead))
                }
                summary.committed(moves, tail: tail)
                for job in batch { job.finish(nil) }
            } catch {
                for job in batch { job.finish(error) }
            }
        }
    }
}
