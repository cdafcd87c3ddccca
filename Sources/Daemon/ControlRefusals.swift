import Synchronization

/// Decides which refused control commands get an audit row. Every refusal is logged, but
/// a client that hammers the socket with commands it may not run must not flood the
/// audit log: per uid, the first refusal in each minute is audited, and the ones left
/// out in between are counted into the next row's `suppressed` field.
final class RefusalAuditGate: Sendable {
    private struct Window {
        var openedAt: ContinuousClock.Instant
        var suppressed: Int
    }

    static let window: Duration = .seconds(60)
    /// Uids remembered at once; beyond it the stale ones are dropped (there are only so
    /// many accounts, but a bound costs nothing).
    private static let capacity = 4_096

    private let windows = Mutex<[UInt32: Window]>([:])

    /// The number of refusals by `uid` not audited since its last audited one, when this
    /// one is to be audited; nil when it falls in the current window and is only counted.
    func admit(uid: UInt32, now: ContinuousClock.Instant = .now) -> Int? {
        windows.withLock { windows in
            if var open = windows[uid], now - open.openedAt < Self.window {
                open.suppressed += 1
                windows[uid] = open
                return nil
            }
            let suppressed = windows[uid]?.suppressed ?? 0
            if windows.count >= Self.capacity {
                windows = windows.filter { now - $0.value.openedAt < Self.window }
            }
            windows[uid] = Window(openedAt: now, suppressed: 0)
            return suppressed
        }
    }
}

/// `secret` reads per uid: a token bucket holding `perMinute` tokens that refills at
/// `perMinute` a minute, so a burst up to the limit passes and a steady scraper is held
/// to the rate. The rate is read at each call, so a reload applies at once.
final class SecretReadBuckets: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: ContinuousClock.Instant
    }

    private let buckets = Mutex<[UInt32: Bucket]>([:])

    /// True, and one token spent, when `uid` may read now.
    func take(uid: UInt32, perMinute: Int, now: ContinuousClock.Instant = .now) -> Bool {
        let capacity = Double(max(1, perMinute))
        return buckets.withLock { buckets in
            var bucket = buckets[uid] ?? Bucket(tokens: capacity, updatedAt: now)
            let elapsed = now - bucket.updatedAt
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(capacity, bucket.tokens + seconds * capacity / 60)
            bucket.updatedAt = now
            guard bucket.tokens >= 1 else {
                buckets[uid] = bucket
                return false
            }
            bucket.tokens -= 1
            buckets[uid] = bucket
            // A full bucket is the same as none: forget it, so the map stays small.
            if buckets.count > 4_096 {
                buckets = buckets.filter { $0.value.tokens < capacity - 1 }
            }
            return true
        }
    }
}
