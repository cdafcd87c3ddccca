import ControlProtocol
import Foundation
import GrantLifecycle
import Sensitive
import Testing

@Suite struct ReplyRendererTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func object(_ text: String) throws -> [String: Any] {
        #expect(text.hasSuffix("\n"))
        #expect(text.dropLast().split(separator: "\n").count == 1)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    var status: StatusView {
        StatusView(
            version: "0.1.0", uptimeSeconds: 3_725, phase: "ready", grants: [.active: 3, .revokePending: 1],
            spool: SpoolView(new: 2, claimed: 0, rejected: 5, oldestAgeSeconds: 12), nextDeadline: now.addingTimeInterval(90),
            whitebit: WhiteBITView(requests: 40, errors: 2, lastError: "info: 503"), audit: AuditHeadView(seq: 77, hash: "ab12"))
    }

    @Test func statusJSONHasTheContractFields() throws {
        let doc = try object(ReplyRenderer(json: true, now: now).status(status))
        #expect(Set(doc.keys) == ["version", "uptime_s", "phase", "grants", "spool", "next_deadline", "whitebit", "audit", "last_reload", "cluster"])
        #expect(doc["last_reload"] is NSNull)
        #expect(doc["uptime_s"] as? Int == 3_725)
        #expect((doc["grants"] as? [String: Int]) == ["active": 3, "revoke_pending": 1])
        let spool = try #require(doc["spool"] as? [String: Any])
        #expect(Set(spool.keys) == ["new", "claimed", "rejected", "oldest_age_s"])
        #expect(doc["next_deadline"] as? String == "2027-01-15T08:01:30Z")
        let whitebit = try #require(doc["whitebit"] as? [String: Any])
        #expect(Set(whitebit.keys) == ["requests", "errors", "last_error"])
        #expect((doc["audit"] as? [String: Any])?["seq"] as? Int == 77)
    }

    @Test func statusTextIsAligned() {
        let text = ReplyRenderer(json: false, now: now).status(status)
        #expect(text.contains("uptime:        1h2m\n"))
        #expect(text.contains("grants:        active=3 revoke_pending=1\n"))
        #expect(text.contains("next deadline: 2027-01-15T08:01:30Z (in 1m30s)\n"))
    }

    @Test func statusShowsTheLastReloadsOutcomeAndTime() throws {
        var refused = status
        refused.lastReload = ReloadView(at: now, outcome: "refused", problem: "/etc/wbkeyd/wbkeyd.toml: nonsense: unknown section")
        #expect(ReplyRenderer(json: false, now: now).status(status).contains("last reload:   -\n"))
        #expect(ReplyRenderer(json: false, now: now).status(refused).contains(
            "last reload:   2027-01-15T08:00:00Z refused: /etc/wbkeyd/wbkeyd.toml: nonsense: unknown section\n"))
        let doc = try object(ReplyRenderer(json: true, now: now).status(refused))
        let reload = try #require(doc["last_reload"] as? [String: Any])
        #expect(reload["at"] as? String == "2027-01-15T08:00:00Z" && reload["outcome"] as? String == "refused")
        #expect((reload["problem"] as? String)?.hasSuffix("unknown section") == true)
    }

    @Test func statusShowsEachInstanceWithItsLastWord() throws {
        var clustered = status
        clustered.cluster = [
            InstanceView(name: "alpha", host: "h1", pid: 7, startedAt: now.addingTimeInterval(-600), lastSeen: now.addingTimeInterval(-3), stoppedAt: nil, isSelf: true, grants: 12),
            InstanceView(name: "beta", host: "h2", pid: 9, startedAt: now.addingTimeInterval(-900), lastSeen: now.addingTimeInterval(-60), stoppedAt: now.addingTimeInterval(-60), isSelf: false),
        ]
        let text = ReplyRenderer(json: false, now: now).status(clustered)
        #expect(text.contains("instance:      alpha (this one) on h1, pid 7, started 2027-01-15T07:50:00Z, seen 3s ago, holds 12 grants\n"))
        #expect(text.contains("instance:      beta on h2, pid 9, started 2027-01-15T07:45:00Z, stopped 2027-01-15T07:59:00Z\n"))
        let doc = try object(ReplyRenderer(json: true, now: now).status(clustered))
        let instances = try #require((doc["cluster"] as? [String: Any])?["instances"] as? [[String: Any]])
        #expect(instances.map { $0["name"] as? String } == ["alpha", "beta"])
        #expect(Set(instances[0].keys) == ["name", "host", "pid", "started_at", "last_seen", "stopped_at", "self", "grants"])
        #expect(instances[0]["grants"] as? Int == 12 && instances[1]["grants"] as? Int == 0)
        #expect(instances[0]["last_seen"] as? String == "2027-01-15T07:59:57Z" && instances[0]["stopped_at"] is NSNull)
        #expect(instances[1]["self"] as? Bool == false && instances[1]["stopped_at"] as? String == "2027-01-15T07:59:00Z")
    }

    @Test func grantsTableAndJSON() throws {
        let grants = [
            GrantView(user: "u-1", state: .active, externalID: "ext-1", tokenExpiresAt: now.addingTimeInterval(3_600), updatedAt: now, reason: nil),
            GrantView(user: "u-22", state: .noKey, externalID: nil, tokenExpiresAt: nil, updatedAt: nil, reason: "no key appeared"),
        ]
        let text = ReplyRenderer(json: false, now: now).grants(grants)
        let lines = text.split(separator: "\n")
        #expect(lines[0] == "USER  STATE   EXTERNAL ID  TOKEN EXPIRES IN  UPDATED")
        #expect(lines[1] == "u-1   active  ext-1        1h0m              2027-01-15T08:00:00Z")
        #expect(lines[2] == "u-22  no_key  -            -                 -")
        let doc = try object(ReplyRenderer(json: true, now: now).grants(grants))
        let rows = try #require(doc["grants"] as? [[String: Any]])
        for key in ["user", "state", "external_id", "token_expires_at", "updated_at", "reason"] {
            #expect(rows.allSatisfy { $0.keys.contains(key) }, "missing \(key)")
        }
        #expect(rows[1]["external_id"] is NSNull)
        #expect(rows[0]["token_expires_at"] as? String == "2027-01-15T09:00:00Z")
    }

    @Test func auditDetailIsAnObjectInJSON() throws {
        let row = AuditRowView(seq: 3, at: "2027-01-15T08:00:00.000Z", event: "key_revoked", user: "u-1", externalID: "e", actor: "uid:0", detail: #"{"result":"deleted"}"#)
        let doc = try object(ReplyRenderer(json: true, now: now).audit([row]))
        let rows = try #require(doc["audit"] as? [[String: Any]])
        #expect(Set(rows[0].keys) == ["seq", "at", "event", "user", "external_id", "actor", "detail"])
        #expect((rows[0]["detail"] as? [String: String]) == ["result": "deleted"])
    }

    @Test func errorsAreOneLine() throws {
        #expect(ReplyRenderer(json: false, now: now).error("bad\nthing") == "error: bad thing\n")
        let doc = try object(ReplyRenderer(json: true, now: now).error("bad"))
        #expect((doc["error"] as? [String: String]) == ["message": "bad"])
    }

    @Test func onlyTheSecretReplyRevealsTheSecret() throws {
        let view = SecretView(user: "u-1", externalID: "ext-1", apiKey: "ext-1", apiSecret: Sensitive("s3cr3t-value"))
        let doc = try object(ReplyRenderer(json: true, now: now).secret(view))
        #expect(doc["api_secret"] as? String == "s3cr3t-value")
        #expect(Set(doc.keys) == ["user", "external_id", "api_key", "api_secret"])
        #expect(ReplyRenderer(json: false, now: now).secret(view).contains("api secret:  s3cr3t-value"))
    }

    @Test func accountReadsKeepWhiteBITsJSONAndShowATable() throws {
        let whitebit = #"{"BTC":{"available":"0.5","freeze":"0"},"ETH":{"available":"12.25","freeze":"1"}}"#
        let view = AccountReadView(user: "u-1", field: "balance", route: .v4, whitebitJSON: whitebit)
        let json = ReplyRenderer(json: true, now: now).accountRead(view)
        #expect(json == #"{"balance":"# + whitebit + #","route":"v4","user":"u-1"}"# + "\n")
        #expect(try object(json)["route"] as? String == "v4")
        #expect(ReplyRenderer(json: false, now: now).accountRead(view) == """
            user: u-1
            route: v4

            TICKER  AVAILABLE  FREEZE
            BTC     0.5        0
            ETH     12.25      1

            """)
        let one = AccountReadView(user: "u-1", field: "balance", route: .bearer, whitebitJSON: #"{"main_balance":"3"}"#)
        #expect(ReplyRenderer(json: false, now: now).accountRead(one) == "user: u-1\nroute: bearer\nmain_balance: 3\n")
    }

    @Test func signedRequestsNameTheFourHeaders() throws {
        let view = SignedRequestView(
            url: "https://whitebit.com/api/v4/trade-account/balance", body: #"{"request":"/api/v4/trade-account/balance","nonce":1}"#,
            headers: [("Content-Type", "application/json"), ("X-TXC-APIKEY", "k"), ("X-TXC-PAYLOAD", "cA=="), ("X-TXC-SIGNATURE", "ab")])
        let document = try object(ReplyRenderer(json: true, now: now).signedRequest(view))
        #expect(document["url"] as? String == view.url && document["body"] as? String == view.body)
        #expect(document["headers"] as? [String: String] == ["Content-Type": "application/json", "X-TXC-APIKEY": "k", "X-TXC-PAYLOAD": "cA==", "X-TXC-SIGNATURE": "ab"])
        let text = ReplyRenderer(json: false, now: now).signedRequest(view)
        #expect(text.hasPrefix("url:             https://whitebit.com/api/v4/trade-account/balance\nbody:            {"), "\(text)")
        #expect(text.hasSuffix("X-TXC-SIGNATURE: ab\n"))
    }
}
