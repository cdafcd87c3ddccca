import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nonces for private V4 requests, per API key: each one is `max(now_ms, last + 1)`, so
/// for one key they never repeat and never go backwards, whatever the wall clock does
/// (an NTP step back, a manual `date -s`) and however many tasks ask at once. WhiteBIT
/// refuses a nonce not larger than the last it saw for the key ("Too many requests.",
/// docs/whitebit-api.md §5.2).
///
/// The wall clock, not a monotonic one, because WhiteBIT recommends Unix milliseconds and
/// the nonce must stay above what the key used before wbkeyd last started: seed each key
/// with its persisted last nonce (`init(lastIssued:)` or `raise(_:atLeast:)`), and persist
/// `lastIssued(for:)` before relying on a request having been sent.
public final class V4NonceSource: Sendable {
    public typealias WallClock = @Sendable () -> Int64

    private let last: Mutex<[String: Int64]>
    private let now: WallClock
    /// Instances sharing one store sign for the same keys: each takes its own lane, and
    /// hands out only nonces `≡ index (mod count)`, so no two instances ever send the same
    /// nonce for a key. A lane moves a nonce at most `count - 1` ms past the clock, well
    /// inside WhiteBIT's ±5 s window; one instance, one lane of one.
    private let lane = Mutex<(index: Int64, count: Int64)>((0, 1))

    /// - Parameters:
    ///   - lastIssued: the last nonce each key used, as persisted; the next one is larger.
    ///   - now: Unix time in milliseconds; tests pass a clock they can step back.
    public init(lastIssued: [String: Int64] = [:], now: @escaping WallClock = V4NonceSource.unixMilliseconds) {
        self.last = Mutex(lastIssued)
        self.now = now
    }

    /// The next nonce for `apiKey`, larger than every nonce handed out for it before, and
    /// in this source's lane.
    public func next(for apiKey: String) -> Int64 {
        let clock = now()
        let (index, count) = lane.withLock { $0 }
        return last.withLock { last in
            let previous = last[apiKey] ?? 0
            var nonce = clock > previous ? clock : previous + 1
            nonce += ((index - nonce % count) % count + count) % count
            last[apiKey] = nonce
            return nonce
        }
    }

    /// From now on, only nonces `≡ index (mod count)`: this instance's lane among those
    /// sharing the store (set once at start, before anything is signed).
    public func assign(lane index: Int, of count: Int) {
        precondition(count > 0 && index >= 0 && index < count, "lane \(index) of \(count)")
        lane.withLock { $0 = (Int64(index), Int64(count)) }
    }

    /// The last nonce handed out for `apiKey` (or seeded), nil if none.
    public func lastIssued(for apiKey: String) -> Int64? {
        last.withLock { $0[apiKey] }
    }

    /// Makes every later nonce for `apiKey` larger than `floor`; a lower value changes
    /// nothing. For a key whose persisted nonce is loaded after the source was made.
    public func raise(_ apiKey: String, atLeast floor: Int64) {
        last.withLock { last in
            if floor > last[apiKey] ?? 0 { last[apiKey] = floor }
        }
    }

    /// Unix time in milliseconds from `CLOCK_REALTIME`.
    public static func unixMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
