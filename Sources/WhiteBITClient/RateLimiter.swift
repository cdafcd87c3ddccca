import Synchronization

/// The arithmetic of a token bucket, with no clock of its own: `reserve(at:)` takes one
/// token and says how long the caller must wait for it. Tokens may go negative, which
/// queues callers in arrival order, each `1/rate` after the previous one.
public struct TokenBucket<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let rate: Double
    public let capacity: Double
    private var tokens: Double
    private var updatedAt: Instant

    /// `rate` tokens per second, holding at most `capacity`, full at `start`.
    public init(rate: Double, capacity: Double, start: Instant) {
        precondition(rate > 0 && rate.isFinite, "rate must be a positive number")
        precondition(capacity >= 1, "capacity must be at least one token")
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updatedAt = start
    }

    /// Takes a token at `now`; returns `.zero` when one was there, else the wait until it is.
    public mutating func reserve(at now: Instant) -> Duration {
        let elapsed = updatedAt.duration(to: now)
        if elapsed > .zero {
            tokens = min(capacity, tokens + elapsed.seconds * rate)
            updatedAt = now
        }
        tokens -= 1
        return tokens >= 0 ? .zero : .seconds(-tokens / rate)
    }
}

/// At most `rate` requests per second on average, with bursts of `max(1, rate)`; shared
/// by all calls of one client. The clock is injected so tests can drive it by hand.
/// A caller cancelled while waiting gives up its place but not its token: the limiter
/// errs on the side of sending less.
public final class RateLimiter<C: Clock>: Sendable where C.Duration == Duration {
    private let clock: C
    private let bucket: Mutex<TokenBucket<C.Instant>>

    public init(rate: Double, clock: C) {
        self.clock = clock
        self.bucket = Mutex(TokenBucket(rate: rate, capacity: max(1, rate), start: clock.now))
    }

    /// Returns when the caller may send, or throws if its task is cancelled first.
    public func acquire() async throws(CancellationError) {
        let now = clock.now
        let wait = bucket.withLock { $0.reserve(at: now) }
        guard wait > .zero else { return }
        do {
            try await clock.sleep(until: now.advanced(by: wait), tolerance: nil)
        } catch {
            throw CancellationError()
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double` (enough precision for rates and backoffs).
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }

    /// Whole nanoseconds, for NIO's `TimeAmount`; saturates beyond about 290 years.
    var nanoseconds: Int64 {
        let (whole, attoseconds) = components
        guard abs(whole) < 9_000_000_000 else { return whole < 0 ? .min : .max }
        return whole * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Whole milliseconds, for log lines.
    var milliseconds: Int64 { nanoseconds / 1_000_000 }
}
