import Testing
@testable import WhiteBITClient

@Suite struct RetryPolicyTests {
    @Test func secretLockIsFiveSecondsDoublingCappedAtAMinuteForFiveMinutes() {
        var random = SeededGenerator(seed: 1)
        let delays = (1...8).map { RetryPolicy.secretLock.delay(afterAttempt: $0, using: &random) }
        let expected: [Duration?] = [
            .seconds(5), .seconds(10), .seconds(20), .seconds(40), .seconds(60), .seconds(60), .seconds(60), nil,
        ]
        #expect(delays == expected)
        let waited = delays.compactMap { $0 }.reduce(Duration.zero, +)
        #expect(waited <= .seconds(300))
        #expect(waited + .seconds(60) > .seconds(300), "the ladder stops as late as the budget allows")
    }

    @Test func transientStartsAtOneSecondDoublesAndCapsAtThirty() {
        let policy = RetryPolicy.transient(totalBudget: nil)
        let nominal = (1...8).map { policy.nominalDelay(afterAttempt: $0) }
        #expect(nominal == [1, 2, 4, 8, 16, 30, 30, 30].map { Duration.seconds($0) })
    }

    @Test func transientJitterStaysWithinHalfToAllOfTheNominalDelayAndVaries() {
        let policy = RetryPolicy.transient(totalBudget: nil)
        var random = SeededGenerator(seed: 42)
        for attempt in 1...10 {
            let nominal = policy.nominalDelay(afterAttempt: attempt)
            var seen = Set<Duration>()
            for _ in 0..<50 {
                let delay = try! #require(policy.delay(afterAttempt: attempt, using: &random))
                #expect(delay <= nominal)
                #expect(delay >= nominal / 2)
                seen.insert(delay)
            }
            #expect(seen.count > 10, "jitter must spread the delays")
        }
    }

    @Test func theSameSeedGivesTheSameSchedule() {
        let policy = RetryPolicy.transient(totalBudget: .seconds(600))
        var a = SeededGenerator(seed: 7)
        var b = SeededGenerator(seed: 7)
        let first = (1...12).map { policy.delay(afterAttempt: $0, using: &a) }
        let second = (1...12).map { policy.delay(afterAttempt: $0, using: &b) }
        #expect(first == second)
    }

    @Test func theBudgetCountsNominalDelaysSoItHoldsWhateverTheJitter() {
        // 1 + 2 + 4 + 8 + 16 = 31 fits 60 s; adding 30 makes 61.
        let policy = RetryPolicy.transient(totalBudget: .seconds(60))
        var random = SeededGenerator(seed: 3)
        #expect(policy.delay(afterAttempt: 5, using: &random) != nil)
        #expect(policy.delay(afterAttempt: 6, using: &random) == nil)
        #expect(policy.delay(afterAttempt: 1_000_000, using: &random) == nil)
    }

    @Test func withoutABudgetItNeverGivesUpEvenAfterVeryManyAttempts() {
        var random = SeededGenerator(seed: 9)
        let delay = RetryPolicy.transient(totalBudget: nil).delay(afterAttempt: Int.max, using: &random)
        #expect(delay != nil)
        #expect(delay! <= .seconds(30))
        var exact = SeededGenerator(seed: 9)
        let capped = RetryPolicy(initialDelay: .seconds(5), maximumDelay: .seconds(60), totalBudget: nil, jitter: 0)
        #expect(capped.delay(afterAttempt: 10_000, using: &exact) == .seconds(60))
    }

    @Test func attemptZeroIsTreatedAsTheFirst() {
        var random = SeededGenerator(seed: 1)
        #expect(RetryPolicy.secretLock.delay(afterAttempt: 0, using: &random) == .seconds(5))
    }
}
