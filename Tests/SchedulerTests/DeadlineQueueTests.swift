import Foundation
import Scheduler
import Testing

@Suite struct DeadlineQueueTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func popsInDeadlineOrderAndOnlyWhatIsDue() {
        var queue = DeadlineQueue<String>()
        queue.set("c", at: t0.addingTimeInterval(3))
        queue.set("a", at: t0.addingTimeInterval(1))
        queue.set("b", at: t0.addingTimeInterval(2))
        #expect(queue.popDue(at: t0.addingTimeInterval(2)) == ["a", "b"])
        #expect(queue.count == 1)
        #expect(queue.first?.key == "c")
    }

    @Test func settingAgainMovesTheDeadline() {
        var queue = DeadlineQueue<String>()
        queue.set("a", at: t0.addingTimeInterval(1))
        queue.set("b", at: t0.addingTimeInterval(2))
        queue.set("a", at: t0.addingTimeInterval(5))
        #expect(queue.count == 2)
        #expect(queue.first?.key == "b")
        queue.set("a", at: t0)
        #expect(queue.first?.key == "a")
        #expect(queue.deadline(of: "a") == t0)
    }

    @Test func matchesASortedReferenceUnderRandomOperations() {
        var queue = DeadlineQueue<Int>()
        var reference: [Int: Date] = [:]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let key = Int.random(in: 0..<500, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                queue.remove(key)
                reference[key] = nil
            case 1:
                let now = t0.addingTimeInterval(Double.random(in: 0...1000, using: &rng))
                let expected = reference.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
                let popped = queue.popDue(at: now)
                #expect(Set(popped) == Set(expected.map(\.key)))
                #expect(popped.map { reference[$0]! } == expected.map(\.value))
                for key in popped { reference[key] = nil }
            default:
                let due = t0.addingTimeInterval(Double.random(in: 0...1000, using: &rng))
                queue.set(key, at: due)
                reference[key] = due
            }
            #expect(queue.count == reference.count)
            #expect(queue.first?.due == reference.values.min())
        }
    }
}
