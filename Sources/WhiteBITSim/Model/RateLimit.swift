import Foundation

/// The per-IP limits of `docs/whitebit-api.md` §5.4, settable for tests. Every request but
/// the admin API's counts, in one bucket: its most specific scope's (public reads may make
/// 20,000 a window, which a share of the default 10,000 could not allow).
public struct RateLimitSettings: Sendable, Equatable {
    public enum Scope: String, Sendable, CaseIterable {
        case `default`, `public`, mainAccount = "main_account", mainAccountHistory = "main_account_history"
        case tradeAccount = "trade_account"

        /// The OAuth endpoints and `/auth/login` have no documented limit of their own
        /// (`/oauth2/refresh_token`'s 1/s is for an endpoint the simulator does not serve):
        /// they share the default bucket, an assumption.
        static func of(path: String) -> Scope {
            if path == "/api/v4/main-account/history" { return .mainAccountHistory }
            if path.hasPrefix("/api/v4/main-account/") { return .mainAccount }
            if path.hasPrefix("/api/v4/trade-account/") { return .tradeAccount }
            if path.hasPrefix("/api/v4/public/") { return .public }
            return .default
        }
    }

    public var enabled = true
    public var windowMilliseconds = 10_000
    public var limits: [Scope: Int] = [
        .default: 10_000, .public: 20_000, .mainAccount: 1_000, .mainAccountHistory: 200, .tradeAccount: 12_000,
    ]

    public init() {}

    var json: JSONValue {
        var fields: [String: JSONValue] = ["enabled": .bool(enabled), "window_ms": .integer(windowMilliseconds)]
        for scope in Scope.allCases { fields[scope.rawValue] = .integer(limits[scope] ?? 0) }
        return .object(fields)
    }

    mutating func apply(_ value: JSONValue) throws(SimRequestError) {
        guard let fields = value.objectValue else { throw SimRequestError("setting \"rate_limit\" must be a JSON object") }
        var updated = self
        for (name, field) in fields {
            switch name {
            case "enabled":
                guard let flag = field.boolValue else { throw SimRequestError("rate_limit \"enabled\" must be true or false") }
                updated.enabled = flag
            case "window_ms":
                guard let milliseconds = field.intValue, milliseconds > 0 else {
                    throw SimRequestError("rate_limit \"window_ms\" must be a whole number of milliseconds, 1 or more")
                }
                updated.windowMilliseconds = milliseconds
            default:
                guard let scope = Scope(rawValue: name) else {
                    let known = (["enabled", "window_ms"] + Scope.allCases.map(\.rawValue)).joined(separator: ", ")
                    throw SimRequestError("unknown rate_limit field \"\(name)\" (known: \(known))")
                }
                guard let limit = field.intValue, limit >= 0 else {
                    throw SimRequestError("rate_limit \"\(name)\" must be a whole number of requests, 0 or more")
                }
                updated.limits[scope] = limit
            }
        }
        self = updated
    }
}

/// Requests per (source address, scope) in a sliding window.
struct RateLimiter: Sendable {
    /// The admitted requests' times of one bucket, oldest first; those before `start` have
    /// left the window and wait to be compacted away.
    private struct Bucket {
        var times: [Date] = []
        var start = 0

        var count: Int { times.count - start }

        mutating func forget(upTo windowStart: Date) {
            while start < times.count, times[start] <= windowStart { start += 1 }
            // Compacting only once half is stale keeps each request's cost constant on average.
            if start > 0, start * 2 >= times.count {
                times.removeFirst(start)
                start = 0
            }
        }
    }

    private var buckets: [String: Bucket] = [:]

    /// Counts the request and says whether it is within the limit; a refused one is not counted.
    mutating func admit(source: String, path: String, at now: Date, settings: RateLimitSettings) -> Bool {
        guard settings.enabled else { return true }
        let scope = RateLimitSettings.Scope.of(path: path)
        let name = source + " " + scope.rawValue
        var bucket = buckets.removeValue(forKey: name) ?? Bucket()
        // Sliding, not fixed: no window-long span ever exceeds the budget, however WhiteBIT aligns its own windows.
        bucket.forget(upTo: now.addingTimeInterval(-TimeInterval(settings.windowMilliseconds) / 1000))
        let admitted = bucket.count < (settings.limits[scope] ?? 0)
        if admitted { bucket.times.append(now) }
        buckets[name] = bucket
        return admitted
    }
}
