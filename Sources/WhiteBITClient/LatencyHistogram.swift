/// How long WhiteBIT took to answer one endpoint, in fixed buckets, for the
/// `wbkeyd_whitebit_request_duration_seconds` histogram (docs/design.md §8). A request
/// is timed from the moment it is sent (after the rate and concurrency limits let it go)
/// to its outcome: an answer, a transport error or the request deadline.
public struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds in seconds, for a remote HTTPS API: a warm request to WhiteBIT takes
    /// tens to hundreds of milliseconds, a new TLS connection adds a few round trips, and
    /// the tail runs up to `whitebit.request_timeout` (10 s by default, 5 min at most).
    /// Past the last bound only `+Inf` counts it.
    public static let bounds: [Double] = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    /// Observations at or under each bound, cumulative as Prometheus writes them
    /// (`counts[i]` is `le="bounds[i]"`); `count` is `le="+Inf"`.
    public private(set) var cumulativeCounts: [Int] = Array(repeating: 0, count: bounds.count)
    public private(set) var count: Int = 0
    public private(set) var sum: Double = 0

    public init() {}

    public mutating func observe(seconds: Double) {
        count += 1
        sum += seconds
        for (index, bound) in Self.bounds.enumerated() where seconds <= bound {
            cumulativeCounts[index] += 1
        }
    }
}
