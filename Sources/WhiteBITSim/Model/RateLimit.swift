import Foundation

/// The per-IP limits of `docs/whitebit-api.md` §5.4 for `/api/v4/*`, settable for tests.
/// Each request counts in one bucket, its most specific scope's.
public struct RateLimitSettings: Sendable, Equatable {
    public enum Scope: String, Sendable, CaseIterable {
        case `default`, mainAccount = "main_account", mainAccountHistory = "main_account_history"
        case tradeAccount = "trade_account"

        static func of(path: String) -> Scope {
            if path == "/api/v4/main-account/history" { return .mainAccountHistory }
            if path.hasPrefix("/api/v4/main-account/") { return .mainAccount }
            if path.hasPrefix("/api/v4/trade-account/") { return .tradeAccount }
            return .default
        }
    }

    public var enabled = true
    public var windowMilliseconds = 10_000
    public var limits: [Scope: Int] = [.default: 10_000, .mainAccount: 1_000, .mainAccountHistory: 200, .tradeAccount: 12_000]

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
    private var seen: [String: [Date]] = [:]

    /// Counts the request and says whether it is within the limit; a refused one is not counted.
    mutating func admit(source: String, path: String, at now: Date, settings: RateLimitSettings) -> Bool {
        guard settings.enabled else { return true }
        let scope = RateLimitSettings.Scope.of(path: path)
        let bucket = source + " " + scope.rawValue
        let windowStart = now.addingTimeInterval(-TimeInterval(settings.windowMilliseconds) / 1000)
        var times = seen[bucket, default: []]
        times.removeAll { $0 <= windowStart }
        let admitted = times.count < (settings.limits[scope] ?? 0)
        if admitted { times.append(now) }
        seen[bucket] = times
        return admitted
    }
}
