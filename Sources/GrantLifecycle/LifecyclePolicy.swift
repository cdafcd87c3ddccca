import Foundation

/// The timing rules of docs/design.md §3 `[keys]`/`[spool]` and §5, as the engine needs them.
public struct LifecyclePolicy: Sendable, Equatable {
    public var infoPollInterval: Duration
    public var infoPollBudget: Duration
    public var reconcileInterval: Duration
    public var expiryMargin: Duration
    public var maxCodeAge: Duration
    /// Assumed when WhiteBIT omits `expires_in` (docs/whitebit-api.md §3.1: 4 h, no refresh).
    public var defaultTokenLifetime: Duration
    /// `expires_in` is clamped into this band (docs/design.md §5 "Edges, decided").
    public var tokenLifetimeBand: ClosedRange<Duration>
    /// The 423 ladder: 5 s, doubling, 60 s cap, 5 min in all.
    public var secretLock: Backoff
    /// Network, 5xx, 429 (docs/whitebit-api.md §5.4): 1 s, doubling, 30 s cap, jittered.
    public var transient: Backoff
    /// `keys.verify_key`: one signed read right after a secret is sealed.
    public var verifyKey: Bool
    /// `keys.probe_interval`; nil is `off`.
    public var probeInterval: Duration?
    /// A probe that got no verdict (network, 5xx) is retried after at most this long.
    public var probeRetry: Duration

    public init(
        infoPollInterval: Duration = .seconds(2),
        infoPollBudget: Duration = .seconds(30),
        reconcileInterval: Duration = .seconds(15 * 60),
        expiryMargin: Duration = .seconds(5 * 60),
        maxCodeAge: Duration = .seconds(10 * 60),
        defaultTokenLifetime: Duration = .seconds(4 * 3600),
        tokenLifetimeBand: ClosedRange<Duration> = .seconds(1) ... .seconds(24 * 3600),
        secretLock: Backoff = Backoff(initial: .seconds(5), cap: .seconds(60), budget: .seconds(300), jitter: 0),
        transient: Backoff = Backoff(initial: .seconds(1), cap: .seconds(30), budget: nil, jitter: 0.5),
        verifyKey: Bool = true,
        probeInterval: Duration? = .seconds(24 * 3600),
        probeRetry: Duration = .seconds(3600)
    ) {
        self.infoPollInterval = infoPollInterval
        self.infoPollBudget = infoPollBudget
        self.reconcileInterval = reconcileInterval
        self.expiryMargin = expiryMargin
        self.maxCodeAge = maxCodeAge
        self.defaultTokenLifetime = defaultTokenLifetime
        self.tokenLifetimeBand = tokenLifetimeBand
        self.secretLock = secretLock
        self.transient = transient
        self.verifyKey = verifyKey
        self.probeInterval = probeInterval
        self.probeRetry = probeRetry
    }

    func tokenLifetime(from expiresIn: Duration?) -> Duration {
        let lifetime = expiresIn ?? defaultTokenLifetime
        return min(max(lifetime, tokenLifetimeBand.lowerBound), tokenLifetimeBand.upperBound)
    }
}

/// Exponential backoff: `initial`, doubling per attempt, at most `cap`, with up to
/// `jitter` (a fraction) taken off at random so that many grants retrying together
/// spread out. `budget` bounds the whole ladder, measured from its first attempt.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var cap: Duration
    public var budget: Duration?
    public var jitter: Double

    public init(initial: Duration, cap: Duration, budget: Duration?, jitter: Double) {
        self.initial = initial
        self.cap = cap
        self.budget = budget
        self.jitter = jitter
    }

    /// The wait before retry number `attempt` (1 for the first retry), or nil when the
    /// ladder that began at `started` would run past its budget.
    /// `roll` is a random number in [0, 1).
    public func delay(attempt: Int, started: Date, now: Date, roll: Double) -> Duration? {
        let exponent = min(max(attempt - 1, 0), 30)
        var wait = initial * (1 << exponent)
        if wait > cap { wait = cap }
        if jitter > 0 { wait = wait * (1 - jitter * roll) }
        if let budget {
            let retryAt = now.addingTimeInterval(wait.seconds)
            if retryAt.timeIntervalSince(started) > budget.seconds { return nil }
        }
        return wait
    }
}

extension Duration {
    /// Seconds as a Double, for `Date` arithmetic.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
