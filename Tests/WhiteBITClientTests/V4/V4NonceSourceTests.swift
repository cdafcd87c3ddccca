import Synchronization
import Testing
@testable import WhiteBITClient

/// `max(now_ms, last + 1)` per key, under contention and with a clock that steps back.
@Suite struct V4NonceSourceTests {
    /// A wall clock the test sets by hand.
    final class SteppedClock: Sendable {
        private let value: Mutex<Int64>
        init(_ start: Int64) { value = Mutex(start) }
        func set(_ milliseconds: Int64) { value.withLock { $0 = milliseconds } }
        var read: V4NonceSource.WallClock { { self.value.withLock { $0 } } }
    }

    @Test func manyConcurrentCallersGetDistinctStrictlyIncreasingNonces() async {
        let clock = SteppedClock(1_700_000_000_000)
        let source = V4NonceSource(now: clock.read)
        let tasks = 24
        let perTask = 400
        let issued = await withTaskGroup(of: [Int64].self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var mine: [Int64] = []
                    for index in 0..<perTask {
                        if index % 50 == 0 { await Task.yield() }
                        mine.append(source.next(for: "key-a"))
                    }
                    return mine
                }
            }
            var all: [[Int64]] = []
            for await nonces in group { all.append(nonces) }
            return all
        }
        for nonces in issued {
            #expect(zip(nonces, nonces.dropFirst()).allSatisfy { $0 < $1 }, "one caller saw a nonce go backwards")
        }
        let everything = issued.flatMap { $0 }
        #expect(Set(everything).count == tasks * perTask)
        // The clock stood still: the source counted up from it, leaving no gap.
        #expect(everything.min() == 1_700_000_000_000)
        #expect(everything.max() == 1_700_000_000_000 + Int64(tasks * perTask) - 1)
        #expect(source.lastIssued(for: "key-a") == everything.max())
    }

    @Test func concurrentCallersWithAMovingClockStillNeverRepeat() async {
        let source = V4NonceSource()
        let issued = await withTaskGroup(of: [Int64].self) { group in
            for _ in 0..<16 {
                group.addTask { (0..<300).map { _ in source.next(for: "key-b") } }
            }
            var all: [Int64] = []
            for await nonces in group {
                #expect(zip(nonces, nonces.dropFirst()).allSatisfy { $0 < $1 })
                all += nonces
            }
            return all
        }
        #expect(Set(issued).count == 16 * 300)
        let now = V4NonceSource.unixMilliseconds()
        #expect(issued.min()! > now - 60_000, "the nonce is Unix milliseconds")
    }

    @Test func aClockThatStepsBackDoesNotTakeTheNonceBack() {
        let clock = SteppedClock(10_000)
        let source = V4NonceSource(now: clock.read)
        #expect(source.next(for: "k") == 10_000)
        #expect(source.next(for: "k") == 10_001, "same millisecond")
        clock.set(4_000)
        #expect(source.next(for: "k") == 10_002, "clock stepped back")
        #expect(source.next(for: "k") == 10_003)
        clock.set(20_000)
        #expect(source.next(for: "k") == 20_000, "clock caught up: back to the time")
    }

    @Test func keysAreIndependent() {
        let clock = SteppedClock(500)
        let source = V4NonceSource(now: clock.read)
        #expect(source.next(for: "a") == 500)
        #expect(source.next(for: "a") == 501)
        #expect(source.next(for: "b") == 500)
        #expect(source.lastIssued(for: "c") == nil)
    }

    @Test func aPersistedLastNonceIsAFloor() {
        let clock = SteppedClock(1_000)
        let source = V4NonceSource(lastIssued: ["restarted": 9_000], now: clock.read)
        #expect(source.next(for: "restarted") == 9_001)
        source.raise("late", atLeast: 50_000)
        #expect(source.next(for: "late") == 50_001)
        source.raise("late", atLeast: 10)
        #expect(source.next(for: "late") == 50_002, "a lower floor changes nothing")
    }

    /// Three instances' sources for one key, one lane each: never the same nonce, each
    /// strictly increasing, and never further than its lane from the clock.
    @Test func sourcesInDistinctLanesNeverHandOutTheSameNonce() {
        let clock = SteppedClock(1_700_000_000_000)
        let sources = (0..<3).map { lane -> V4NonceSource in
            let source = V4NonceSource(now: clock.read)
            source.assign(lane: lane, of: 16)
            return source
        }
        var seen = Set<Int64>()
        for step in 0..<500 {
            if step % 7 == 0 { clock.set(1_700_000_000_000 + Int64(step)) }
            for (lane, source) in sources.enumerated() {
                let nonce = source.next(for: "key-a")
                #expect(nonce % 16 == Int64(lane))
                #expect(seen.insert(nonce).inserted, "nonce \(nonce) handed out twice")
            }
        }
        // While the clock leads, a lane costs at most 15 ms.
        clock.set(1_800_000_000_000)
        #expect(sources[2].next(for: "key-b") - 1_800_000_000_000 < 16)
    }
}
