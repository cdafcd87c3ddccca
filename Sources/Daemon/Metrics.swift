import Foundation
import GRDB
import Lifecycle
import Store

/// The `metrics` command: Prometheus text exposition (format 0.0.4). Aggregates
/// only: one series per state, endpoint and status, never one per user, so the
/// scrape stays small with a hundred thousand grants.
enum Metrics {
    /// The samples, for the text exposition and for `metrics json`. The aggregates come
    /// from the same summary and census as `status`; the earliest token expiry is the one
    /// figure read from the store (no index: one pass over the grants, on a reader
    /// connection, without waiting for the engine).
    static func exposition(engine: GrantEngine, summary: StoreSummary, census: SpoolCensus, status: DaemonStatus) async throws
        -> Exposition
    {
        var out = Exposition()
        let stored = summary.snapshot
        let counts = stored.grants
        let nextExpiry = try await engine.store.pool.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(token_expires_at) FROM grants")
        }
        let nextAction = stored.nextDeadline?.timeIntervalSince1970
        out.family("wbkeyd_up", "1 while the daemon answers; phase is a label.", type: "gauge")
        out.sample("wbkeyd_up", ["phase": status.phase.rawValue], 1)
        out.family("wbkeyd_uptime_seconds", "Seconds since start.", type: "gauge")
        out.sample("wbkeyd_uptime_seconds", [:], Date().timeIntervalSince(status.startedAt).rounded())
        out.family("wbkeyd_grants", "Grants by state.", type: "gauge")
        for state in GrantState.allCases { out.sample("wbkeyd_grants", ["state": state.rawValue], Double(counts[state] ?? 0)) }
        out.family("wbkeyd_revocations_pending", "Deletions wanted and not done (revoking + revoke_pending).", type: "gauge")
        out.sample("wbkeyd_revocations_pending", [:], Double((counts[.revoking] ?? 0) + (counts[.revokePending] ?? 0)))
        out.family("wbkeyd_revocations_failed_permanently", "Keys WhiteBIT refused to delete (irrevocable).", type: "gauge")
        out.sample("wbkeyd_revocations_failed_permanently", [:], Double(counts[.irrevocable] ?? 0))
        out.family("wbkeyd_next_token_expiry_timestamp_seconds", "Earliest token expiry of any grant (0: none).", type: "gauge")
        out.sample("wbkeyd_next_token_expiry_timestamp_seconds", [:], nextExpiry ?? 0)
        out.family("wbkeyd_next_action_timestamp_seconds", "Earliest deadline of any grant (0: none).", type: "gauge")
        out.sample("wbkeyd_next_action_timestamp_seconds", [:], nextAction ?? 0)
        if let backlog = census.backlog() {
            out.family("wbkeyd_spool_files", "Files in the spool by directory.", type: "gauge")
            out.sample("wbkeyd_spool_files", ["dir": "new"], Double(backlog.new))
            out.sample("wbkeyd_spool_files", ["dir": "claimed"], Double(backlog.claimed))
            out.sample("wbkeyd_spool_files", ["dir": "rejected"], Double(backlog.rejected))
            out.family("wbkeyd_spool_oldest_age_seconds", "Age of the oldest file waiting in new/.", type: "gauge")
            out.sample("wbkeyd_spool_oldest_age_seconds", [:], backlog.oldestNewAge.map { Double($0.components.seconds) } ?? 0)
        }
        let counters = engine.client.counters
        out.family("wbkeyd_whitebit_requests_total", "Requests sent to WhiteBIT by endpoint.", type: "counter")
        for (endpoint, n) in counters.requests.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            out.sample("wbkeyd_whitebit_requests_total", ["endpoint": endpoint.rawValue], Double(n))
        }
        out.family("wbkeyd_whitebit_responses_total", "WhiteBIT outcomes by endpoint and status or error kind.", type: "counter")
        for (endpoint, outcomes) in counters.responses.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for (outcome, n) in outcomes.sorted(by: { $0.key < $1.key }) {
                out.sample("wbkeyd_whitebit_responses_total", ["endpoint": endpoint.rawValue, "outcome": outcome], Double(n))
            }
        }
        out.family("wbkeyd_whitebit_errors_total", "Failed WhiteBIT requests.", type: "counter")
        out.sample("wbkeyd_whitebit_errors_total", [:], Double(counters.errors))
        let head = stored.auditHead
        out.family("wbkeyd_audit_seq", "Sequence number of the audit chain head.", type: "gauge")
        out.sample("wbkeyd_audit_seq", [:], Double(head?.seq ?? 0))
        // Prometheus's own names for it: the configuration in force loaded (at start, or
        // the last SIGHUP applied) is 1; the time appears once a reload has succeeded.
        out.family("wbkeyd_config_last_reload_successful", "1 if the last configuration load or reload succeeded.", type: "gauge")
        out.sample("wbkeyd_config_last_reload_successful", [:], status.lastReload.map { $0.applied ? 1 : 0 } ?? 1)
        if let success = status.lastSuccessfulReload {
            out.family(
                "wbkeyd_config_last_reload_success_timestamp_seconds", "When a reload last applied a configuration (absent until one did).",
                type: "gauge")
            out.sample("wbkeyd_config_last_reload_success_timestamp_seconds", [:], success.timeIntervalSince1970.rounded())
        }
        let sizes = engine.store.sizes()
        out.family("wbkeyd_store_bytes", "Size of the SQLite store files.", type: "gauge")
        out.sample("wbkeyd_store_bytes", ["file": "db"], Double(sizes.databaseBytes))
        out.sample("wbkeyd_store_bytes", ["file": "wal"], Double(sizes.walBytes))
        return out
    }
}

/// Text exposition writer: HELP/TYPE lines, escaped label values. Keeps the samples by
/// family as well, so that `metrics json` is one JSON document like every `json` answer:
/// `{"metrics": {FAMILY: [{"labels": {…}, "value": N}]}}`.
struct Exposition {
    private(set) var text = ""
    private(set) var families: [String: [[String: Any]]] = [:]

    mutating func family(_ name: String, _ help: String, type: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }
        let number = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        text += name + (rendered.isEmpty ? "" : "{\(rendered.joined(separator: ","))}") + " \(number)\n"
        let jsonValue: Any = value == value.rounded() && abs(value) < 1e15 ? Int64(value) : value
        families[name, default: []].append(["labels": labels, "value": jsonValue])
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
