import Testing
@testable import WhiteBITClient

@Suite struct TokenBucketTests {
    typealias Instant = ManualClock.Instant
    let start = Instant(offset: .zero)

    @Test func aFullBucketLetsABurstThroughThenSpacesCallersByOneOverRate() {
        var bucket = TokenBucket(rate: 4, capacity: 4, start: start)
        for _ in 0..<4 {
            #expect(bucket.reserve(at: start) == .zero)
        }
        #expect(bucket.reserve(at: start) == .milliseconds(250))
        #expect(bucket.reserve(at: start) == .milliseconds(500))
        #expect(bucket.reserve(at: start) == .milliseconds(750))
    }

    @Test func tokensComeBackWithTimeButNeverBeyondTheCapacity() {
        var bucket = TokenBucket(rate: 2, capacity: 2, start: start)
        _ = bucket.reserve(at: start)
        _ = bucket.reserve(at: start)
        let later = start.advanced(by: .seconds(100))
        #expect(bucket.reserve(at: later) == .zero)
        #expect(bucket.reserve(at: later) == .zero)
        #expect(bucket.reserve(at: later) == .milliseconds(500))
    }

    @Test func aFractionalRateWaitsWholeSecondsPerToken() {
        var bucket = TokenBucket(rate: 0.5, capacity: 1, start: start)
        #expect(bucket.reserve(at: start) == .zero)
        #expect(bucket.reserve(at: start) == .seconds(2))
        #expect(bucket.reserve(at: start.advanced(by: .seconds(1))) == .seconds(3))
    }
}

@Suite struct RateLimiterTests {
    @Test func theBurstIsMaxOfOneAndTheRate() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(rate: 3, clock: clock)
        for _ in 0..<3 {
            try await limiter.acquire()
        }
        #expect(clock.sleepingUntil.isEmpty)

        let slow = RateLimiter(rate: 0.2, clock: clock)
        try await slow.acquire()
        #expect(clock.sleepingUntil.isEmpty)
    }

    @Test func theCallerBeyondTheBurstWaitsUntilItsTokenIsDue() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(rate: 2, clock: clock)
        try await limiter.acquire()
        try await limiter.acquire()

        let third = Task { try await limiter.acquire() }
        await clock.sleepers(atLeast: 1)
        #expect(clock.sleepingUntil == [ManualClock.Instant(offset: .milliseconds(500))])

        clock.advance(by: .milliseconds(499))
        #expect(clock.sleepingUntil.count == 1, "woke before its token was due")
        clock.advance(by: .milliseconds(1))
        try await third.value
        #expect(clock.sleepingUntil.isEmpty)
    }

    @Test func waitersQueueOneIntervalApart() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(rate: 1, clock: clock)
        try await limiter.acquire()
        let second = Task { try await limiter.acquire() }
        await clock.sleepers(atLeast: 1)
        let third = Task { try await limiter.acquire() }
        await clock.sleepers(atLeast: 2)
        #expect(clock.sleepingUntil == [.init(offset: .seconds(1)), .init(offset: .seconds(2))])
        clock.advance(by: .seconds(2))
        try await second.value
        try await third.value
    }

    @Test func cancellingAWaiterEndsItsWait() async {
        let clock = ManualClock()
        let limiter = RateLimiter(rate: 1, clock: clock)
        try? await limiter.acquire()
        let waiter = Task { () -> Bool in
            do {
                try await limiter.acquire()
                return false
            } catch {
                return true
            }
        }
        await clock.sleepers(atLeast: 1)
        waiter.cancel()
        #expect(await waiter.value, "a cancelled waiter must throw")
        #expect(clock.sleepingUntil.isEmpty)
    }
}

@Suite struct ConcurrencyLimiterTests {
    /// Yields until `condition` holds; the limiter has no event to await from outside.
    private func settle(_ condition: () -> Bool) async {
        for _ in 0..<100_000 where !condition() {
            await Task.yield()
        }
    }

    @Test func holdersUpToTheLimitGoAtOnceTheNextWaits() async throws {
        let limiter = ConcurrencyLimiter(limit: 2)
        try await limiter.acquire()
        try await limiter.acquire()
        #expect(limiter.available == 0)

        let third = Task { try await limiter.acquire() }
        await settle { limiter.waiting == 1 }
        #expect(limiter.waiting == 1)

        limiter.release()
        try await third.value
        #expect(limiter.waiting == 0)
        #expect(limiter.available == 0, "the released permit went to the waiter")

        limiter.release()
        limiter.release()
        #expect(limiter.available == 2)
    }

    @Test func waitersAreServedInArrivalOrder() async throws {
        let limiter = ConcurrencyLimiter(limit: 1)
        try await limiter.acquire()
        let order = OrderLog()
        let first = Task {
            try await limiter.acquire()
            await order.append("first")
        }
        await settle { limiter.waiting == 1 }
        let second = Task {
            try await limiter.acquire()
            await order.append("second")
        }
        await settle { limiter.waiting == 2 }

        limiter.release()
        try await first.value
        #expect(limiter.waiting == 1)
        limiter.release()
        try await second.value
        #expect(await order.entries == ["first", "second"])
        limiter.release()
        #expect(limiter.available == 1)
    }

    @Test func aCancelledWaiterLeavesTheQueueAndHoldsNothing() async throws {
        let limiter = ConcurrencyLimiter(limit: 1)
        try await limiter.acquire()
        let waiter = Task { () -> Bool in
            do {
                try await limiter.acquire()
                return false
            } catch {
                return true
            }
        }
        await settle { limiter.waiting == 1 }
        waiter.cancel()
        #expect(await waiter.value)
        #expect(limiter.waiting == 0)
        limiter.release()
        #expect(limiter.available == 1)
    }

    @Test func anAlreadyCancelledTaskGetsNoPermit() async {
        let limiter = ConcurrencyLimiter(limit: 1)
        let task = Task { () -> Bool in
            withUnsafeCurrentTask { $0?.cancel() }
            do {
                try await limiter.acquire()
                return false
            } catch {
                return true
            }
        }
        #expect(await task.value)
        #expect(limiter.available == 1)
    }
}

actor OrderLog {
    private(set) var entries: [String] = []
    func append(_ entry: String) { entries.append(entry) }
}
