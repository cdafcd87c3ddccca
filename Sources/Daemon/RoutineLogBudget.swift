import Foundation
import GrantLifecycle

/// How many routine per-grant entries (a grant's progress at info: authorization
/// received, token exchanged, key detected, secret secured, …) go to the log each second.
/// A burst of 10,000 spool files used to write four entries per authorization, about
/// 40,000 in half a minute: over journald's rate limit, which then drops warnings and
/// critical events as readily as the routine ones. The audit log keeps every event; the
/// journal gets the first `perSecond` of each second (and a burst of `burst`), then one
/// line saying how many were left out. Warnings and worse, and the events outside
/// `routineEvents`, are never counted here.
struct RoutineLogBudget {
    /// A grant's progress that comes by the thousand in a burst (and at a mass expiry).
    /// Deletions, drift, reads and refusals are not among them: each is always logged.
    static let routineEvents: Set<AuditEvent> = [.tokenExchanged, .keyDetected, .secretSecured, .tokenExpired]
    static let perSecond = 50.0
    static let burst = 100.0
    /// How often, at most, a line about left-out entries is written while they are.
    static let reportInterval: TimeInterval = 10

    private var tokens = Self.burst
    private var refilledAt: Date?
    private var leftOut = 0
    private var leftOutSince: Date?
    private var reportedAt: Date?

    /// Whether to log this entry, and how many were left out before it (write that
    /// first) when it is time to say so: at the first entry left out, then at most every
    /// `reportInterval`. What is left out after the last report is said by the next one.
    struct Verdict: Equatable {
        var log: Bool
        var leftOut: Int?
        var since: Date?
    }

    mutating func admit(at now: Date = Date()) -> Verdict {
        if let refilledAt {
            tokens = min(Self.burst, tokens + now.timeIntervalSince(refilledAt) * Self.perSecond)
        }
        refilledAt = now
        let log = tokens >= 1
        if log {
            tokens -= 1
        } else {
            leftOut += 1
            if leftOutSince == nil { leftOutSince = now }
        }
        guard leftOut > 0, reportedAt.map({ now.timeIntervalSince($0) >= Self.reportInterval }) ?? true else {
            return Verdict(log: log, leftOut: nil, since: nil)
        }
        reportedAt = now
        defer {
            leftOut = 0
            leftOutSince = nil
        }
        return Verdict(log: log, leftOut: leftOut, since: leftOutSince)
    }
}
