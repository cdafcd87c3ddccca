import Foundation
import Scheduler
import Testing

@Suite struct SchedulerTests {
    /// Collects the first `count` due keys, failing rather than hanging.
    func firstDue(_ scheduler: Scheduler<String>, count: Int) async throws -> [String] {
        try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask {
                var keys: [String] = []
                for await key in scheduler.due {
                    keys.append(key)
                    if keys.count == count { break }
                }
                return keys
            }
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                throw CancellationError()
            }
            let keys = try await group.next()!
            group.cancelAll()
            return keys
        }
    }

    @Test func pastDueKeysComeOutAtOnceInOrder() async throws {
        let scheduler = Scheduler<String>()
        let now = Date()
        await scheduler.schedule("late", at: now.addingTimeInterval(-1))
        await scheduler.schedule("later", at: now.addingTimeInterval(-0.5))
        let loop = Task { await scheduler.run() }
        defer { loop.cancel() }
        #expect(try await firstDue(scheduler, count: 2) == ["late", "later"])
    }

    @Test func anEarlierDeadlineWakesASleepingLoop() async throws {
        let scheduler = Scheduler<String>(tick: .seconds(3600))
        await scheduler.schedule("far", at: Date().addingTimeInterval(3600))
        let loop = Task { await scheduler.run() }
        defer { loop.cancel() }
        // The loop is asleep for an hour; a deadline now must still come out.
        while !(await scheduler.isWaiting) { await Task.yield() }
        await scheduler.schedule("soon", at: Date())
        #expect(try await firstDue(scheduler, count: 1) == ["soon"])
        #expect(await scheduler.pending == 1)
    }

    @Test func cancelledKeysNeverComeDue() async throws {
        let scheduler = Scheduler<String>()
        let now = Date()
        await scheduler.schedule("dropped", at: now.addingTimeInterval(0.05))
        await scheduler.schedule("kept", at: now.addingTimeInterval(0.1))
        await scheduler.reschedule("dropped", at: nil)
        let loop = Task { await scheduler.run() }
        defer { loop.cancel() }
        #expect(try await firstDue(scheduler, count: 1) == ["kept"])
    }

    @Test func cancellingTheRunFinishesTheStream() async {
        let scheduler = Scheduler<String>()
        let loop = Task { await scheduler.run() }
        loop.cancel()
        await loop.value
        var iterator = scheduler.due.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }
}
