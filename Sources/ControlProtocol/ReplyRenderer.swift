import Foundation
import GrantLifecycle

/// Renders replies as aligned text for humans or one JSON document (docs/design.md §7
/// names the JSON fields; they are part of the contract). Every reply ends with a
/// newline so `socat` output is clean.
public struct ReplyRenderer: Sendable {
    public var json: Bool
    /// "Now", for relative times like "expires in 3h59m".
    public var now: Date

    public init(json: Bool, now: Date) {
        self.json = json
        self.now = now
    }

    public func error(_ message: String) -> String {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        return json ? Self.document(["error": ["message": line]]) : "error: \(line)\n"
    }

    public func status(_ s: StatusView) -> String {
        let grants = Dictionary(uniqueKeysWithValues: s.grants.map { ($0.key.rawValue, $0.value) })
        if json {
            return Self.document([
                "version": s.version, "uptime_s": s.uptimeSeconds, "phase": s.phase, "grants": grants,
                "spool": ["new": s.spool.new, "claimed": s.spool.claimed, "rejected": s.spool.rejected, "oldest_age_s": s.spool.oldestAgeSeconds as Any],
                "next_deadline": Self.timestamp(s.nextDeadline) as Any,
                "whitebit": ["requests": s.whitebit.requests, "errors": s.whitebit.errors, "last_error": s.whitebit.lastError as Any],
                "audit": ["seq": s.audit.seq, "hash": s.audit.hash],
                "last_reload": s.lastReload.map { r in
                    ["at": Self.timestamp(r.at) as Any, "outcome": r.outcome, "problem": r.problem as Any] as [String: Any]
                } as Any,
                "cluster": ["instances": s.cluster.map { i in
                    [
                        "name": i.name, "host": i.host, "pid": i.pid, "started_at": Self.timestamp(i.startedAt) as Any,
                        "last_seen": Self.timestamp(i.lastSeen) as Any, "stopped_at": Self.timestamp(i.stoppedAt) as Any,
                        "self": i.isSelf, "grants": i.grants,
                    ] as [String: Any]
                }],
            ])
        }
        let byState = GrantState.allCases.compactMap { state in s.grants[state].map { "\(state.rawValue)=\($0)" } }
        let rows: [(String, String)] = [
            ("version", s.version),
            ("uptime", Self.span(seconds: s.uptimeSeconds)),
            ("phase", s.phase),
            ("grants", byState.isEmpty ? "none" : byState.joined(separator: " ")),
            ("spool", "new=\(s.spool.new) claimed=\(s.spool.claimed) rejected=\(s.spool.rejected) oldest=\(s.spool.oldestAgeSeconds.map { Self.span(seconds: $0) } ?? "-")"),
            ("next deadline", s.nextDeadline.map { "\(Self.timestamp($0)!) (in \(relative($0)))" } ?? "-"),
            ("whitebit", "requests=\(s.whitebit.requests) errors=\(s.whitebit.errors)"),
            ("last error", s.whitebit.lastError ?? "-"),
            ("audit head", "seq=\(s.audit.seq) hash=\(s.audit.hash)"),
            ("last reload", s.lastReload.map { "\(Self.timestamp($0.at)!) \($0.outcome)\($0.problem.map { ": \($0)" } ?? "")" } ?? "-"),
        ] + s.cluster.map { ("instance", instanceText($0)) }
        return Self.keyValues(rows)
    }

    /// `alpha (this one) on host-a, pid 7, up since …, seen 3s ago, holds 12 grants`, or
    /// `… stopped at …`.
    func instanceText(_ i: InstanceView) -> String {
        var text = i.name + (i.isSelf ? " (this one)" : "") + " on \(i.host), pid \(i.pid), started \(Self.timestamp(i.startedAt)!)"
        if let stopped = i.stoppedAt {
            text += ", stopped \(Self.timestamp(stopped)!)"
        } else {
            text += ", seen \(Self.span(seconds: max(0, Int(now.timeIntervalSince(i.lastSeen).rounded(.down))))) ago"
        }
        if i.stoppedAt == nil || i.grants > 0 { text += ", holds \(i.grants) grant\(i.grants == 1 ? "" : "s")" }
        return text
    }

    public func grants(_ grants: [GrantView]) -> String {
        if json { return Self.document(["grants": grants.map(grantObject)]) }
        guard !grants.isEmpty else { return "no grants\n" }
        let header = ["USER", "STATE", "EXTERNAL ID", "TOKEN EXPIRES IN", "UPDATED"]
        let rows = grants.map { g in
            [g.user, g.state.rawValue, g.externalID ?? "-", g.tokenExpiresAt.map(relative) ?? "-", Self.timestamp(g.updatedAt) ?? "-"]
        }
        return Self.table(header: header, rows: rows)
    }

    public func show(_ grant: GrantView, audit: [AuditRowView]) -> String {
        if json { return Self.document(["grant": grantObject(grant), "audit": audit.map(Self.auditObject)]) }
        let rows: [(String, String)] = [
            ("user", grant.user),
            ("state", grant.state.rawValue),
            ("owner", grant.owner ?? "-"),
            ("reason", grant.reason ?? "-"),
            ("external id", grant.externalID ?? "-"),
            ("api key", grant.apiKey ?? (grant.externalID != nil ? "(the external id)" : "-")),
            ("secret", grant.hasSecret ? "sealed in the store" : "none"),
            ("token expires", grant.tokenExpiresAt.map { "\(Self.timestamp($0)!) (in \(relative($0)))" } ?? "no token"),
            ("next action", grant.nextActionAt.map { "\(Self.timestamp($0)!) (in \(relative($0)))" } ?? "-"),
            ("attempts", String(grant.attempts)),
            ("key check", keyCheckText(grant.key)),
            ("key last used", Self.timestamp(grant.key.usedAt) ?? "-"),
            ("next key check", grant.key.nextCheckAt.map { "\(Self.timestamp($0)!) (in \(relative($0)))" } ?? "-"),
            ("updated", Self.timestamp(grant.updatedAt) ?? "-"),
        ]
        return Self.keyValues(rows) + "\n" + auditTable(audit)
    }

    public func audit(_ rows: [AuditRowView]) -> String {
        json ? Self.document(["audit": rows.map(Self.auditObject)]) : auditTable(rows)
    }

    public func secret(_ s: SecretView) -> String {
        if json {
            return Self.document(["user": s.user, "external_id": s.externalID, "api_key": s.apiKey, "api_secret": s.apiSecret.revealed])
        }
        return Self.keyValues([("user", s.user), ("external id", s.externalID), ("api key", s.apiKey), ("api secret", s.apiSecret.revealed)])
    }

    /// A free-form message (help, authorize-url, revoke and reconcile outcomes).
    public func message(_ text: String, fields: [String: Any] = [:]) -> String {
        json ? Self.document(fields.isEmpty ? ["message": text] : fields) : text + (text.hasSuffix("\n") ? "" : "\n")
    }

    func auditTable(_ rows: [AuditRowView]) -> String {
        guard !rows.isEmpty else { return "no audit rows\n" }
        let header = ["SEQ", "AT", "EVENT", "USER", "EXTERNAL ID", "ACTOR", "DETAIL"]
        return Self.table(header: header, rows: rows.map {
            [String($0.seq), $0.at, $0.event, $0.user ?? "-", $0.externalID ?? "-", $0.actor, $0.detail]
        })
    }

    func grantObject(_ g: GrantView) -> [String: Any] {
        [
            "user": g.user, "state": g.state.rawValue, "external_id": g.externalID as Any,
            "token_expires_at": Self.timestamp(g.tokenExpiresAt) as Any, "updated_at": Self.timestamp(g.updatedAt) as Any,
            "reason": g.reason as Any, "api_key": g.apiKey as Any, "has_secret": g.hasSecret,
            "next_action_at": Self.timestamp(g.nextActionAt) as Any, "attempts": g.attempts,
            "key_identity": g.key.identity as Any, "key_check": g.key.check as Any,
            "key_checked_at": Self.timestamp(g.key.checkedAt) as Any, "key_used_at": Self.timestamp(g.key.usedAt) as Any,
            "next_key_check_at": Self.timestamp(g.key.nextCheckAt) as Any, "owner": g.owner as Any,
        ]
    }

    /// `ok at 2026-12-03T12:00:00Z (X-TXC-APIKEY: external_id)`, or `never`.
    func keyCheckText(_ key: KeyWatchView) -> String {
        guard let check = key.check else { return "never" }
        var text = check
        if let at = Self.timestamp(key.checkedAt) { text += " at \(at)" }
        if let identity = key.identity { text += " (X-TXC-APIKEY: \(identity))" }
        return text
    }

    static func auditObject(_ r: AuditRowView) -> [String: Any] {
        let detail = (try? JSONSerialization.jsonObject(with: Data(r.detail.utf8))) ?? r.detail
        return ["seq": r.seq, "at": r.at, "event": r.event, "user": r.user as Any, "external_id": r.externalID as Any, "actor": r.actor, "detail": detail]
    }

    func relative(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince(now).rounded(.down))
        return seconds < 0 ? "expired" : Self.span(seconds: seconds)
    }
}
