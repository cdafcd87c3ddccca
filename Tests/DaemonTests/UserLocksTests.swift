import Testing
@testable import Daemon

/// The engine's per-user lock in process: one holder per user, waiters in arrival order,
/// other users never waiting.
@Suite struct UserLocksTests {
    /// The lock inside an actor, as the engine holds it.
    actor Locks {
        var locks = UserLocks()
        func lock(_ user: String) async {
            if locks.tryLock(user) { return }
            await withCheckedContinuation { locks.enqueue(user, $0) }
        }
        func unlock(_ user: String) { locks.unlock(user) }
        func waiting(_ user: String) -> Int { locks.waiting(user) }
    }

    actor Order {
        var taken: [Int] = []
        func took(_ index: Int) { taken.append(index) }
    }

    @Test func waitersGetTheLockInArrivalOrderAndOtherUsersNeverWait() async throws {
        let locks = Locks()
        let order = Order()
        await locks.lock("u1")
        // Another user's lock is free while u1's is held.
        await locks.lock("u2")
        await locks.unlock("u2")
        var waiters: [Task<Void, Never>] = []
        for index in 1...5 {
            waiters.append(Task {
                await locks.lock("u1")
                await order.took(index)
                await locks.unlock("u1")
            })
            // Each waiter queues before the next one starts, so arrival order is known.
            while await locks.waiting("u1") < index { await Task.yield() }
        }
        #expect(await order.taken.isEmpty, "nobody got a held lock")
        await locks.unlock("u1")
        for waiter in waiters { await waiter.value }
        #expect(await order.taken == [1, 2, 3, 4, 5])
        // Free again: the next caller gets it at once.
        await locks.lock("u1")
        await locks.unlock("u1")
    }
}
