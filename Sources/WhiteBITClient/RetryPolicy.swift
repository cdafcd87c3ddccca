#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exponential backoff with jitter, as a pure function of the attempt count, so that the
/// daemon's scheduler can persist only that count and get the same schedule after a
/// restart. The client never retries on its own; this is what its caller uses to decide.
///
/// The nominal delay after attempt `n` is `initialDelay · multiplier^(n-1)`, capped at
/// `maximumDelay`. Jitter shortens it by up to `jitter` of itself (never lengthens it), so
/// the sum of real delays stays within the sum of nominal ones, and the budget holds.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var multiplier: Double
    public var maximumDelay: Duration
    /// The most time spent waiting, in all, before giving up; nil: never give up.
    public var totalBudget: Duration?
    /// 0 waits exactly the nominal delay; 0.5 waits between half of it and all of it.
    public var jitter: Double

    public init(
        initialDelay: Duration, multiplier: Double = 2, maximumDelay: Duration,
        totalBudget: Duration?, jitter: Double
    ) {
        precondition(initialDelay > .zero && maximumDelay >= initialDelay, "delays must be positive and ordered")
        precondition(multiplier >= 1 && multiplier.isFinite, "the multiplier must be at least 1")
        precondition((0...1).contains(jitter), "jitter is a fraction between 0 and 1")
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.totalBudget = totalBudget
        self.jitter = jitter
    }

    /// 423 on a secret (DESIGN.md §5, whitebit-api.md §3.4): 5 s, doubling, 60 s cap,
    /// 5 min in all. No jitter: only one retrieval of a key is ever under way, so there is
    /// no herd to spread, and WhiteBIT asks for at least 5 s.
    public static let secretLock = RetryPolicy(
        initialDelay: .seconds(5), maximumDelay: .seconds(60), totalBudget: .seconds(300), jitter: 0
    )

    /// Network failures, timeouts, 5xx and 429 (whitebit-api.md §5.4): 1 s, doubling, 30 s
    /// cap, with jitter.
    public static func transient(totalBudget: Duration?) -> RetryPolicy {
        RetryPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(30), totalBudget: totalBudget, jitter: 0.5)
    }

    /// The nominal delay after attempt `attempt` (1 for the first failure), before jitter.
    public func nominalDelay(afterAttempt attempt: Int) -> Duration {
        .seconds(nominalSeconds(afterAttempt: attempt))
    }

    /// How long to wait after `attempt` failed attempts before the next one, or nil when
    /// waiting that long would exceed the total budget.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration? {
        if let totalBudget, exceeds(totalBudget.seconds, through: attempt) {
            return nil
        }
        let nominal = nominalSeconds(afterAttempt: attempt)
        guard jitter > 0 else { return .seconds(nominal) }
        let shortening = Double.random(in: 0..<jitter, using: &generator)
        return .seconds(nominal * (1 - shortening))
    }

    private func nominalSeconds(afterAttempt attempt: Int) -> Double {
        let exponent = Double(max(attempt, 1) - 1)
        return min(initialDelay.seconds * pow(multiplier, exponent), maximumDelay.seconds)
    }

    /// Whether the nominal delays after attempts 1 through `attempt` add up to more than
    /// `budget` seconds. Stops adding as soon as the answer is known, so a huge attempt
    /// count costs nothing.
    private func exceeds(_ budget: Double, through attempt: Int) -> Bool {
        let cap = maximumDelay.seconds
        var total = 0.0
        var n = 1
        while n <= attempt {
            let delay = nominalSeconds(afterAttempt: n)
            if delay >= cap {
                return total + cap * Double(attempt - n + 1) > budget
            }
            total += delay
            if total > budget { return true }
            n += 1
        }
        return total > budget
    }
}
