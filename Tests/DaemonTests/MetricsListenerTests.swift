import Foundation
import Glibc
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// The `[metrics]` listener (docs/design.md §8) of a real wbkeyd, scraped over real TCP
/// with curl and checked with Prometheus's own `promtool`: the exposition, its zero-valued
/// series before any traffic, the histogram after a grant's flow, the paths it refuses,
/// the listener off by default, a bad or busy address refused naming the key, a changed
/// address kept until the restart, and no secret in what it serves.
@Suite struct MetricsListenerTests {
    /// Port 0: the kernel picks a free one and the daemon logs it, so tests never race
    /// for a fixed port.
    static let listening: DaemonFixture.Options = DaemonFixture.Options(config: ["metrics.listen": "127.0.0.1:0"])

    @Test func aScrapeServesTheExpositionWithZerosBeforeAnyTrafficAndCountsAGrantsFlow() async throws {
        try await withDaemon(Self.listening) { daemon in
            let port = try await daemon.metricsPort()
            let ports = try listeningTCPPorts(of: daemon.process.pid)
            #expect(ports == [port], "wbkeyd listens on TCP \(ports), not only \(port)")

            let first = try await scrape(port: port)
            #expect(first.status == 200)
            #expect(first.contentType == "text/plain; version=0.0.4; charset=utf-8")
            try await expectPromtoolAccepts(first.body)
            let before = Samples(first.body)
            for state in Self.grantStates { #expect(before["wbkeyd_grants{state=\"\(state)\"}"] == 0, "\(state)") }
            for endpoint in Self.endpoints {
                #expect(before["wbkeyd_whitebit_requests_total{endpoint=\"\(endpoint)\"}"] == 0, "\(endpoint)")
                #expect(before["wbkeyd_whitebit_request_duration_seconds_count{endpoint=\"\(endpoint)\"}"] == 0, "\(endpoint)")
                #expect(before["wbkeyd_whitebit_request_duration_seconds_bucket{endpoint=\"\(endpoint)\",le=\"+Inf\"}"] == 0)
                #expect(before["wbkeyd_whitebit_request_duration_seconds_bucket{endpoint=\"\(endpoint)\",le=\"0.025\"}"] == 0)
            }
            let events = before.labelValues("wbkeyd_audit_events_total", "event")
            #expect(events.isSuperset(of: Self.auditEvents), "\(events)")
            for event in events where event != "daemon_started" {
                #expect(before["wbkeyd_audit_events_total{event=\"\(event)\"}"] == 0, "\(event)")
            }
            #expect(before["wbkeyd_audit_events_total{event=\"daemon_started\"}"] == 1)
            #expect(before["wbkeyd_build_info{version=\"\(try await daemon.version())\"}"] == 1)
            let started = try #require(before["process_start_time_seconds"])
            #expect(abs(started - Date().timeIntervalSince1970) < 300, "process_start_time_seconds \(started)")
            // No grant: no time to tell, so no series (never a 0 meaning none).
            #expect(!first.body.contains("_timestamp_seconds"), "\(first.body)")

            // The control socket's `metrics` is the same exposition: the same series.
            let overSocket = Samples(try await daemon.control("metrics"))
            #expect(overSocket.keys == before.keys)

            // One grant's flow: token, info, secret, each timed and counted at commit.
            try await daemon.consentAndSubmit(user: "u-1", key: .now)
            try await daemon.awaitEvent("secret_secured", user: "u-1")
            let afterScrape = try await scrape(port: port)
            try await expectPromtoolAccepts(afterScrape.body)
            let after = Samples(afterScrape.body)
            for endpoint in ["token", "info", "secret"] {
                let sent = try #require(after["wbkeyd_whitebit_requests_total{endpoint=\"\(endpoint)\"}"])
                #expect(sent >= 1, "\(endpoint)")
                #expect(after["wbkeyd_whitebit_request_duration_seconds_count{endpoint=\"\(endpoint)\"}"] == sent, "\(endpoint)")
                #expect(after["wbkeyd_whitebit_request_duration_seconds_bucket{endpoint=\"\(endpoint)\",le=\"+Inf\"}"] == sent)
                #expect((after["wbkeyd_whitebit_request_duration_seconds_sum{endpoint=\"\(endpoint)\"}"] ?? 0) > 0, "\(endpoint)")
            }
            #expect(after["wbkeyd_whitebit_request_duration_seconds_count{endpoint=\"delete\"}"] == 0)
            for event in ["authorization_received", "token_exchanged", "key_detected", "secret_secured"] {
                #expect(after["wbkeyd_audit_events_total{event=\"\(event)\"}"] == 1, "\(event)")
            }
            #expect(after["wbkeyd_grants{state=\"active\"}"] == 1)
            let audited = try await daemon.auditRows().filter { Self.flowEvents.contains($0.event) }.count
            let counted = Self.flowEvents.compactMap { after["wbkeyd_audit_events_total{event=\"\($0)\"}"] }.reduce(0, +)
            #expect(Double(audited) == counted, "audit rows \(audited), counters \(counted)")
            let expiry = try #require(after["wbkeyd_next_token_expiry_timestamp_seconds"])
            #expect(expiry > Date().timeIntervalSince1970)
        }
    }

    @Test func otherPathsAndMethodsAreRefused() async throws {
        try await withDaemon(Self.listening) { daemon in
            let port = try await daemon.metricsPort()
            for path in ["/", "/metrics/", "/metricsx", "/status", "/../metrics"] {
                #expect(try await scrape(port: port, path: path).status == 404, "\(path)")
            }
            #expect(try await scrape(port: port, path: "/metrics?name[]=wbkeyd_up").status == 200)
            #expect(try await scrape(port: port, method: "POST").status == 405)
            let head = try await scrape(port: port, method: "HEAD")
            #expect(head.status == 200 && head.body.isEmpty)
            // Not HTTP at all: a 400 and the connection closed, never a crash.
            let garbage = try TCPConnection(port: port)
            garbage.send("\u{1}\u{2} not a request line\r\n\r\n")
            // Blocking reads run off the Swift pool (two threads here), as every test's must.
            let refusal = try await offPool { garbage.read(atLeast: 1 << 20) }
            garbage.close()
            #expect(refusal.hasPrefix("HTTP/1.1 400"), "\(refusal)")
            // Still serving after the refusals.
            #expect(try await scrape(port: port).status == 200)
        }
    }

    /// A scraper keeps its connection open between scrapes (HTTP keep-alive); SIGTERM
    /// still stops the daemon cleanly, and the port is closed after.
    @Test func aKeptAliveConnectionDoesNotHoldUpTheStop() async throws {
        try await withDaemon(Self.listening) { daemon in
            let port = try await daemon.metricsPort()
            let connection = try TCPConnection(port: port)
            defer { connection.close() }
            connection.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let head = try await offPool { connection.read(atLeast: 12) }
            #expect(head.hasPrefix("HTTP/1.1 200"), "\(head)")
            let started = ContinuousClock.now
            let stopped = try await daemon.terminate()
            #expect(stopped.isCleanExit, "\(stopped)")
            #expect(started.duration(to: .now) < .seconds(20), "the stop waited for the idle connection")
            #expect(try await scrapeFails(port: port), "something still answers on \(port)")
        }
    }

    @Test func theListenerIsOffByDefault() async throws {
        try await withDaemon { daemon in
            let process = try daemon.process
            let ports = try listeningTCPPorts(of: process.pid)
            #expect(ports == [], "wbkeyd listens on TCP \(ports)")
            #expect(!process.lines.contains { $0.text.contains("metrics listening") })
            // The control socket's `metrics` answers all the same.
            #expect(try await daemon.control("metrics").contains("# TYPE wbkeyd_whitebit_request_duration_seconds histogram"))
        }
    }

    @Test(arguments: ["0.0.0.0:9867", "127.0.0.1", "prometheus.internal:9867", "127.0.0.1:70000"])
    func aBadListenValueIsRefusedNamingTheKey(value: String) async throws {
        try await withPreparedDaemon(DaemonFixture.Options(config: ["metrics.listen": .string(value)])) { daemon in
            let process = try await daemon.start(awaitReady: false)
            #expect(await process.termination == ProcessTermination(code: 78, bySignal: false))
            let output = String(decoding: process.outputBytes, as: UTF8.self)
            #expect(output.contains("metrics.listen"), "\(output)")
            #expect(!process.notifications.contains { $0.split(separator: "\n").contains("READY=1") })
        }
    }

    @Test func aBusyAddressStopsTheStartBeforeReady() async throws {
        let holder = try TCPListener()
        try await withPreparedDaemon(DaemonFixture.Options(config: ["metrics.listen": .string("127.0.0.1:\(holder.port)")])) { daemon in
            let process = try await daemon.start(awaitReady: false)
            #expect(await process.termination == ProcessTermination(code: 1, bySignal: false))
            let output = String(decoding: process.outputBytes, as: UTF8.self)
            #expect(output.contains("metrics.listen \"127.0.0.1:\(holder.port)\": cannot listen"), "\(output)")
            #expect(!process.notifications.contains { $0.split(separator: "\n").contains("READY=1") })
        }
        holder.close()
    }

    @Test func aChangedAddressWaitsForTheRestartAndTheOldOneKeepsServing() async throws {
        try await withDaemon(Self.listening) { daemon in
            let port = try await daemon.metricsPort()
            let mark = daemon.logMark
            try await daemon.reload(["metrics.listen": "127.0.0.2:0"])
            try await daemon.awaitLine(since: mark, describedAs: "the restart warning") {
                $0.text.contains("metrics.listen changed; it takes effect at the next restart")
            }
            #expect(try await scrape(port: port).status == 200)
            let ports = try listeningTCPPorts(of: daemon.process.pid)
            #expect(ports == [port], "wbkeyd listens on TCP \(ports), not only \(port)")
            try await daemon.terminate()
            try await daemon.restart()
            let moved = try await daemon.process.awaitLine(since: 0, timeout: .seconds(30), describedAs: "metrics listening") {
                $0.text.contains("metrics listening")
            }
            #expect(moved.value("address")?.hasPrefix("127.0.0.2:") == true, "\(moved)")
        }
    }

    @Test func theExpositionCarriesNoSecret() async throws {
        try await withDaemon(Self.listening) { daemon in
            let port = try await daemon.metricsPort()
            let active = try await daemon.activeGrant("u-1")
            _ = try await daemon.control("revoke u-1 leak check")
            try await daemon.awaitEvent("key_revoked", user: "u-1")
            let served = try await scrape(port: port).body + (try await daemon.control("metrics json"))
            let state = try await daemon.admin.state()
            var secrets = state.tokens.map(\.accessToken) + state.codes.map(\.code) + state.keys.map(\.apiSecret)
            secrets += [active.consent.authorization.verifier.revealed, SimDefaults.clientSecret.revealed]
            secrets.append(daemon.masterKey.map { String(format: "%02x", $0) }.joined())
            #expect(!state.keys.isEmpty && !state.tokens.isEmpty, "the scenario ran as planned")
            for secret in secrets { #expect(!served.contains(secret), "a secret appears in the exposition") }
            #expect(!served.contains("u-1") && !served.contains(active.externalID), "no series per user or key")
        }
    }

    /// The shipped alert rules parse and type-check, and fire (or stay quiet) on the
    /// series of tests/prometheus/wbkeyd-alerts.test.yml.
    @Test func theExampleAlertRulesPassPromtool() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let promtool = try CommandRunner.onPath("promtool")
        let check = try await CommandRunner.run(promtool, ["check", "rules", root.appendingPathComponent("etc/wbkeyd-alerts.yml").path])
        #expect(check.exitStatus == 0, "\(check.standardOutput)\(check.standardError)")
        #expect(check.standardOutput.contains("SUCCESS"), "\(check.standardOutput)")
        let test = try await CommandRunner.run(
            promtool, ["test", "rules", root.appendingPathComponent("tests/prometheus/wbkeyd-alerts.test.yml").path])
        #expect(test.exitStatus == 0, "\(test.standardOutput)\(test.standardError)")
    }

    static let grantStates = [
        "pending", "awaiting_key", "securing", "active", "dormant", "revoking", "revoke_pending", "revoked", "gone", "disabled",
        "no_key", "lost", "failed", "irrevocable",
    ]
    static let endpoints = [
        "token", "info", "secret", "delete", "main_balance", "trade_balance", "main_history", "convert_history", "order_history",
        "executed_history", "accounts_main_balance", "accounts_spot_balance", "accounts_transactions", "accounts_converts",
        "accounts_orders", "accounts_deals",
    ]
    /// docs/design.md §6 (more may be added; these must be there).
    static let auditEvents: Set<String> = [
        "daemon_started", "daemon_stopped", "config_reloaded", "authorization_received", "authorization_rejected",
        "authorization_duplicate", "token_exchanged", "token_exchange_failed", "key_detected", "key_not_created", "secret_secured",
        "secret_lost", "secret_read", "key_disabled", "key_gone", "reconcile_drift", "revoke_requested", "key_revoked",
        "key_revoke_failed", "token_expired", "audit_pruned", "authorize_url_issued", "command_refused", "audit_keyed",
        "audit_witness_mismatch", "master_key_rewrapped",
    ]
    static let flowEvents = ["authorization_received", "token_exchanged", "key_detected", "secret_secured"]

    func expectPromtoolAccepts(_ exposition: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wbkeyd-metrics-\(UUID().uuidString).prom").path
        try Data(exposition.utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let promtool = try CommandRunner.onPath("promtool")
        let result = try await CommandRunner.run("/bin/sh", ["-c", "exec \"$0\" check metrics < \"$1\"", promtool, file])
        // promtool prints each lint problem and exits non-zero; a clean exposition prints nothing.
        #expect(result.exitStatus == 0, "\(result.standardOutput)\(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.standardOutput.isEmpty && result.standardError.isEmpty, "\(result.standardError)", sourceLocation: sourceLocation)
    }
}
