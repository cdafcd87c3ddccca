import Synchronization

/// At most `limit` holders at once; the rest wait in arrival order. Shared by all calls of
/// one client so that a burst of grants cannot open more than `max_concurrency`
/// connections to WhiteBIT. It needs no clock: it counts, it does not time.
public final class ConcurrencyLimiter: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    public let limit: Int
    private let state: Mutex<State>

    public init(limit: Int) {
        precondition(limit >= 1, "a concurrency limit must allow at least one holder")
        self.limit = limit
        self.state = Mutex(State(available: limit))
    }

    /// Callers waiting for a permit now.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Permits not held now.
    public var available: Int { state.withLock { $0.available } }

    /// Returns holding a permit, or throws (holding none) if the task is cancelled first.
    /// Every successful `acquire()` must be paired with one `release()`.
    public func acquire() async throws(CancellationError) {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let outcome: Result<Void, CancellationError>? = state.withLock { state in
                        if Task.isCancelled { return .failure(CancellationError()) }
                        if state.available > 0 {
                            state.available -= 1
                            return .success(())
                        }
                        state.waiters.append(Waiter(id: id, continuation: continuation))
                        return nil
                    }
                    if let outcome { continuation.resume(with: outcome) }
                }
            } onCancel: {
                let waiter = state.withLock { state -> Waiter? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                waiter?.continuation.resume(throwing: CancellationError())
            }
        } catch {
            throw CancellationError()
        }
    }

    /// Hands the permit to the longest waiter, or puts it back.
    public func release() {
        let next = state.withLock { state -> Waiter? in
            if state.waiters.isEmpty {
                precondition(state.available < limit, "release() without a matching acquire()")
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.continuation.resume()
    }
}
