/// The ranges a setting must fall in. They are wide enough for tests and the demo (short
/// intervals against whitebit-sim) and narrow enough to refuse what is surely a typo, such
/// as a reconcile every 10 ms or an audit kept for a day's worth of milliseconds.
/// etc/wbkeyd.toml documents each band beside its key; keep the two in step.
public enum ConfigurationBands {
    public static let requestTimeout = DurationBand(.milliseconds(100), .seconds(5 * 60))
    public static let rescanInterval = DurationBand(.seconds(1), .seconds(3_600))
    public static let maxCodeAge = DurationBand(.seconds(10), .seconds(3_600))
    public static let infoPollInterval = DurationBand(.milliseconds(100), .seconds(60))
    /// The lower end is `info_poll_interval` itself: a budget shorter than one interval
    /// would never poll twice.
    public static let infoPollBudgetCeiling: Duration = .seconds(10 * 60)
    public static let reconcileInterval = DurationBand(.seconds(10), .seconds(4 * 3_600))
    /// The ceiling stays well under the 4 h token lifetime, so the final pass is not the
    /// only pass a grant gets.
    public static let expiryMargin = DurationBand(.seconds(1), .seconds(3_600))
    /// Seconds for tests against whitebit-sim; under 14 days, so that a probe can come
    /// before WhiteBIT's inactivity rule disables an idle key (docs/whitebit-api.md §5).
    public static let probeInterval = DurationBand(.seconds(1), .seconds(13 * 86_400))
    /// Seconds for the takeover tests; an hour would leave a dead instance's grants
    /// untouched for longer than any key's token lives in practice.
    public static let lease = DurationBand(.seconds(3), .seconds(3_600))
    public static let auditRetention = DurationBand(.seconds(86_400), .seconds(3_650 * 86_400))
    public static let maxConcurrency: ClosedRange<Int> = 1...256
    public static let secretReadsPerMinute: ClosedRange<Int> = 1...600
    public static let rateLimit: ClosedRange<Double> = 0.1...1_000
    /// `sun_path` holds 108 bytes including the terminating NUL.
    public static let socketPathMaxBytes = 107
    public static let clientIDMaxLength = 256
}

/// An inclusive range of durations that prints itself the way the config writes it.
public struct DurationBand: Sendable, Equatable, CustomStringConvertible {
    public let lower: Duration
    public let upper: Duration

    public init(_ lower: Duration, _ upper: Duration) {
        self.lower = lower
        self.upper = upper
    }

    public func contains(_ duration: Duration) -> Bool {
        lower <= duration && duration <= upper
    }

    /// `100ms–5m`
    public var description: String {
        "\(ConfigDuration.format(lower))–\(ConfigDuration.format(upper))"
    }
}
