/// One holder per user at a time, in arrival order. The engine's writes for one user
/// must commit and reschedule in the order they were decided; actor reentrancy alone
/// would let a second event load the grant while the first is still committing.
struct UserLocks {
    private var held: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// True when the caller got the lock at once; otherwise it must wait on `enqueue`.
    mutating func tryLock(_ user: String) -> Bool {
        held.insert(user).inserted
    }

    mutating func enqueue(_ user: String, _ continuation: CheckedContinuation<Void, Never>) {
        waiters[user, default: []].append(continuation)
    }

    /// Callers waiting for `user`'s lock (for tests).
    func waiting(_ user: String) -> Int { waiters[user]?.count ?? 0 }

    /// Hands the lock to the next waiter, or frees it.
    mutating func unlock(_ user: String) {
        if var queue = waiters[user], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[user] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(user)
        }
    }
}
