import Foundation

/// Round-trip times and what to say about them.
struct LatencySummary: CustomStringConvertible {
    let count: Int
    let p50: Duration
    let p99: Duration
    let max: Duration

    init?(_ samples: [Duration]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        count = sorted.count
        p50 = sorted[Self.rank(0.50, sorted.count)]
        p99 = sorted[Self.rank(0.99, sorted.count)]
        max = sorted[sorted.count - 1]
    }

    /// Nearest rank: the smallest sample with at least `fraction` of them at or below it.
    static func rank(_ fraction: Double, _ count: Int) -> Int {
        Swift.max(0, Int((fraction * Double(count)).rounded(.up)) - 1)
    }

    var description: String {
        "p50 \(Self.milliseconds(p50))  p99 \(Self.milliseconds(p99))  max \(Self.milliseconds(max))  (\(count) samples)"
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.2f ms", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }
}
