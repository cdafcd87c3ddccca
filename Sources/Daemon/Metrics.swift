import Foundation
import GrantLifecycle
import Store
import WhiteBITClient

/// The `metrics` command and the `[metrics]` listener's `GET /metrics`: Prometheus text
/// exposition (format 0.0.4). Aggregates only: one series per state, endpoint, event and
/// status, never one per user, so the scrape stays small with a hundred thousand grants.
/// Every series with a known label set is there from the first scrape, at zero until
/// something happens, so that `rate()` and `increase()` see the first event; a
/// `*_timestamp_seconds` series with no time to tell is left out, never written as 0.
///
/// Written by hand rather than with swift-metrics and swift-prometheus: nearly every sample
/// is read at scrape time from the summary, census and counters (a registry of instruments
/// would have to mirror them on every change), `metrics json` needs the same samples as one
/// document, and swift-prometheus would be one more package to build (swift-metrics comes
/// with Hummingbird already) for the one histogram this writer renders in a loop.
enum Metrics {
    /// The one content type of the exposition, for the HTTP listener.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

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
        let nextExpiry = try await engine.store.nextTokenExpiry()?.timeIntervalSince1970
        let nextAction = stored.nextDeadline?.timeIntervalSince1970
        out.family("wbkeyd_up", "1 while the daemon answers; phase is a label.", type: "gauge")
        out.sample("wbkeyd_up", ["phase": status.phase.rawValue], 1)
        out.family("wbkeyd_uptime_seconds", "Seconds since start.", type: "gauge")
        out.sample("wbkeyd_uptime_seconds", [:], Date().timeIntervalSince(status.startedAt).rounded())
        out.family("wbkeyd_build_info", "Always 1; the version of the running wbkeyd is a label.", type: "gauge")
        out.sample("wbkeyd_build_info", ["version": status.version], 1)
        out.family("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", type: "gauge")
        out.sample("process_start_time_seconds", [:], status.startedAt.timeIntervalSince1970.rounded(.down))
        out.family("wbkeyd_grants", "Grants by state.", type: "gauge")
        for state in GrantState.allCases { out.sample("wbkeyd_grants", ["state": state.rawValue], Double(counts[state] ?? 0)) }
        out.family("wbkeyd_revocations_pending", "Deletions wanted and not done (revoking + revoke_pending).", type: "gauge")
        out.sample("wbkeyd_revocations_pending", [:], Double((counts[.revoking] ?? 0) + (counts[.revokePending] ?? 0)))
        out.family("wbkeyd_revocations_failed_permanently", "Keys WhiteBIT refused to delete (irrevocable).", type: "gauge")
        out.sample("wbkeyd_revocations_failed_permanently", [:], Double(counts[.irrevocable] ?? 0))
        if let nextExpiry {
            out.family("wbkeyd_next_token_expiry_timestamp_seconds", "Earliest token expiry of any grant (absent: none).", type: "gauge")
            out.sample("wbkeyd_next_token_expiry_timestamp_seconds", [:], nextExpiry.rounded(.down))
        }
        if let nextAction {
            out.family("wbkeyd_next_action_timestamp_seconds", "Earliest deadline of any grant (absent: none).", type: "gauge")
            out.sample("wbkeyd_next_action_timestamp_seconds", [:], nextAction.rounded(.down))
        }
        if let backlog = census.backlog() {
            out.family("wbkeyd_spool_files", "Files in the spool by directory.", type: "gauge")
            out.sample("wbkeyd_spool_files", ["dir": "new"], Double(backlog.new))
            out.sample("wbkeyd_spool_files", ["dir": "claimed"], Double(backlog.claimed))
            out.sample("wbkeyd_spool_files", ["dir": "rejected"], Double(backlog.rejected))
            out.family("wbkeyd_spool_oldest_age_seconds", "Age of the oldest file waiting in new/ (0: none waiting).", type: "gauge")
            out.sample("wbkeyd_spool_oldest_age_seconds", [:], backlog.oldestNewAge.map { Double($0.components.seconds) } ?? 0)
        }
        let counters = engine.client.counters
        let endpoints = Endpoint.allCases.sorted { $0.rawValue < $1.rawValue }
        out.family("wbkeyd_whitebit_requests_total", "Requests sent to WhiteBIT by endpoint.", type: "counter")
        for endpoint in endpoints {
            out.sample("wbkeyd_whitebit_requests_total", ["endpoint": endpoint.rawValue], Double(counters.requests[endpoint] ?? 0))
        }
        out.family("wbkeyd_whitebit_responses_total", "WhiteBIT outcomes by endpoint and status or error kind.", type: "counter")
        for (endpoint, outcomes) in counters.responses.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for (outcome, n) in outcomes.sorted(by: { $0.key < $1.key }) {
                out.sample("wbkeyd_whitebit_responses_total", ["endpoint": endpoint.rawValue, "outcome": outcome], Double(n))
            }
        }
        out.family("wbkeyd_whitebit_errors_total", "Failed WhiteBIT requests.", type: "counter")
        out.sample("wbkeyd_whitebit_errors_total", [:], Double(counters.errors))
        let duration = "wbkeyd_whitebit_request_duration_seconds"
        out.family(duration, "Time from sending a WhiteBIT request to its outcome, by endpoint.", type: "histogram")
        for endpoint in endpoints {
            let histogram = counters.latency[endpoint] ?? LatencyHistogram()
            let label = ["endpoint": endpoint.rawValue]
            for (bound, n) in zip(LatencyHistogram.bounds, histogram.cumulativeCounts) {
                out.sample(duration + "_bucket", label.merging(["le": Exposition.number(bound)]) { $1 }, Double(n))
            }
            out.sample(duration + "_bucket", label.merging(["le": "+Inf"]) { $1 }, Double(histogram.count))
            out.sample(duration + "_sum", label, histogram.sum)
            out.sample(duration + "_count", label, Double(histogram.count))
        }
        out.family("wbkeyd_audit_events_total", "Audit rows committed since start, by event.", type: "counter")
        for event in AuditEvent.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
            out.sample("wbkeyd_audit_events_total", ["event": event.rawValue], Double(stored.auditEvents[event] ?? 0))
        }
        // Probes and verifications are counted above (`key_probed`, `key_verified`, …);
        // what the last check of each held key found is `wbkeyd_keys{check}` below.
        let head = stored.auditHead
        out.family("wbkeyd_audit_seq", "Sequence number of the audit chain head.", type: "gauge")
        out.sample("wbkeyd_audit_seq", [:], Double(head?.seq ?? 0))
        let keys = try await engine.store.keyWatchSummary()
        out.family("wbkeyd_keys", "Keys with a sealed secret by their last signed check (docs/design.md §12).", type: "gauge")
        for check in ["unchecked"] + KeyCheck.allCases.map(\.rawValue) {
            out.sample("wbkeyd_keys", ["check": check], Double(keys.byCheck[check] ?? 0))
        }
        if let oldest = keys.oldestUse {
            out.family(
                "wbkeyd_key_oldest_use_timestamp_seconds", "Oldest last accepted signed request among the held keys.", type: "gauge")
            out.sample("wbkeyd_key_oldest_use_timestamp_seconds", [:], oldest.timeIntervalSince1970.rounded())
        }
        out.family("wbkeyd_events_subscribers", "Connections subscribed with `events`.", type: "gauge")
        out.sample("wbkeyd_events_subscribers", [:], Double(engine.events.count))
        out.family("wbkeyd_events_cut_off_total", "`events` subscribers cut off for not reading.", type: "counter")
        out.sample("wbkeyd_events_cut_off_total", [:], Double(engine.events.cutOffCount))
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
        let written = engine.store.counters
        out.family("wbkeyd_store_writes_total", "Writes committed since start: decisions, audit rows, other changes.", type: "counter")
        out.sample("wbkeyd_store_writes_total", [:], Double(written.writes))
        out.family(
            "wbkeyd_store_transactions_total", "Store transactions committed since start, each one wait for the disk (group commit).",
            type: "counter")
        out.sample("wbkeyd_store_transactions_total", [:], Double(written.transactions))
        // PostgreSQL's size is the server's to report.
        if let sizes = engine.store.database?.sizes() {
            out.family("wbkeyd_store_bytes", "Size of the SQLite store files.", type: "gauge")
            out.sample("wbkeyd_store_bytes", ["file": "db"], Double(sizes.databaseBytes))
            out.sample("wbkeyd_store_bytes", ["file": "wal"], Double(sizes.walBytes))
        }
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
        text += name + (rendered.isEmpty ? "" : "{\(rendered.joined(separator: ","))}") + " \(Self.number(value))\n"
        let jsonValue: Any = value == value.rounded() && abs(value) < 1e15 ? Int64(value) : value
        families[name, default: []].append(["labels": labels, "value": jsonValue])
    }

    /// `3` for a whole number, `0.025` otherwise (Go's float parsing reads both).
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
