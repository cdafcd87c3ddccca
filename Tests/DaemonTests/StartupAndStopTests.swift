import Foundation
import Spool
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// Start-up and stop as systemd sees them (docs/design.md §8): READY=1 only once the spool is
/// recovered, SIGTERM a clean exit, a bad config or an exposed credential a refusal.
@Suite struct StartupAndStopTests {
    @Test func readyComesOnlyAfterTheFilesLeftInClaimedAreProcessed() async throws {
        try await withPreparedDaemon { daemon in
            let consent = try await daemon.admin.authorize(user: "u-1", key: .now)
            try daemon.placeClaimed(
                try SpoolSubmission.authorization(user: "u-1", code: consent.code, codeVerifier: consent.verifier), as: "left-over.json")
            try daemon.placeClaimed(Array(#"{"user":"u-2"}"#.utf8), as: "left-over-bad.json")

            let process = try await daemon.start()
            // Checked at the moment READY=1 arrived, before anything else is awaited.
            #expect(daemon.paths.names(in: daemon.paths.spoolClaimed).isEmpty, "claimed/ still holds files at READY")
            #expect(daemon.rejectedFiles == ["left-over-bad.json"])
            #expect(daemon.rejectionReason(of: "left-over-bad.json") == "code is missing")
            let received = try await daemon.auditRows("authorization_received", user: "u-1")
            #expect(received.map { $0.detailValue("file") } == ["left-over.json"])
            #expect(process.notifications.contains { $0.split(separator: "\n").contains("READY=1") })

            try await daemon.awaitEvent("secret_secured", user: "u-1")
            #expect(try await daemon.grantState("u-1") == "active")
        }
    }

    @Test func sigtermStopsCleanlyAndIsAudited() async throws {
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-1")
            let status = try await daemon.control("status json")
            #expect(status.contains(#""phase":"ready""#), "\(status)")

            let termination = try await daemon.terminate()
            #expect(termination.isCleanExit, "\(termination)")
            let process = try daemon.process
            #expect(process.notifications.contains { $0.split(separator: "\n").contains("STOPPING=1") })
            #expect(process.lines.contains { $0.isEvent("daemon_stopped") })
            let rows = try await daemon.auditRows()
            #expect(rows.last?.event == "daemon_stopped" && rows.last?.actor == "wbkeyd")
            #expect(rows.filter { $0.event == "daemon_started" }.count == 1)

            // The same store serves a second run: the grant is still there.
            try await daemon.restart()
            #expect(try await daemon.grantState("u-1") == "active")
            #expect(try await daemon.terminate().isCleanExit)
            #expect(try await daemon.auditEvents().filter { $0 == "daemon_started" }.count == 2)
        }
    }

    /// SIGTERM while the secret is on its way: wbkeyd lets the call finish and commits
    /// the secret before it records the stop.
    @Test func sigtermLetsASecretInFlightLandBeforeStopping() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .latency(milliseconds: 2000), user: "u-t"))
            try await daemon.consentAndSubmit(user: "u-t", key: .now)
            let detected = try await daemon.awaitEvent("key_detected", user: "u-t")
            let externalID = try #require(detected.value("external_id"))
            #expect(try await eventually { try await daemon.simKey(externalID)?.retrievalInFlight == true })

            #expect(try await daemon.terminate().isCleanExit)
            let events = try await daemon.auditRows().map { "\($0.event) \($0.user ?? "")" }
            #expect(events.suffix(2) == ["secret_secured u-t", "daemon_stopped "], "\(events)")
            #expect(try await daemon.grantState(afterCrash: "u-t") == "active")
            #expect(try await daemon.grantRow("u-t")?["has_secret"] == "1")
        }
    }

    /// SIGTERM while a DELETE is held longer than wbkeyd waits for calls in flight: it
    /// abandons the call safely (exit 0, audited stop), and the next run finishes the job.
    @Test func sigtermAbandonsACallThatOutlastsTheGraceAndTheNextRunFinishesIt() async throws {
        try await withDaemon(DaemonFixture.Options(config: ["whitebit.request_timeout": "60s"])) { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-slow")
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .delete, kind: .latency(milliseconds: 30_000), user: "u-slow"))
            try daemon.submitRevocation(user: "u-slow")
            try await daemon.awaitEvent("revoke_requested", user: "u-slow")
            #expect(try await eventually { try await daemon.simKey(externalID)?.deleted == true })

            let termination = try await daemon.terminate()
            let lastLines = try daemon.process.recentLines.suffix(5)
            #expect(termination.isCleanExit, "\(termination); \(lastLines)")
            #expect(try await daemon.auditRows().last?.event == "daemon_stopped")
            #expect(try await daemon.grantState(afterCrash: "u-slow") == "revoking")

            try await daemon.restart()
            let revoked = try await daemon.awaitEvent("key_revoked", user: "u-slow")
            #expect(revoked.value("external_id") == externalID)
            #expect(try await daemon.grantState("u-slow") == "revoked")
        }
    }

    @Test(arguments: [
        ("keys.info_poll_interval", TOMLValue.string("soon")),
        ("keys.info_pol_interval", TOMLValue.string("1s")),
        ("whitebit.max_concurrency", TOMLValue.integer(0)),
        ("spool.directory", TOMLValue.string("relative/spool")),
    ])
    func aBadConfigIsRefusedNamingTheKey(key: String, value: TOMLValue) async throws {
        try await withPreparedDaemon(DaemonFixture.Options(config: [key: value])) { daemon in
            let process = try await daemon.start(awaitReady: false)
            let termination = await process.termination
            // 78 = EX_CONFIG: the unit's RestartPreventExitStatus= stops a restart loop on it.
            #expect(termination == ProcessTermination(code: 78, bySignal: false), "\(termination)")
            let output = String(decoding: process.outputBytes, as: UTF8.self)
            #expect(output.contains(key), "\(output)")
            #expect(!process.notifications.contains { $0.split(separator: "\n").contains("READY=1") })
            #expect(!FileManager.default.fileExists(atPath: daemon.paths.store), "nothing is created before the config is sound")

            let check = try await daemon.wbkeyd(["check-config", "--config", daemon.paths.configFile])
            #expect(check.exitStatus == 78)
            #expect(check.standardError.contains(key), "\(check.standardError)")
        }
    }

    @Test(arguments: [("store.master_key_file", true), ("whitebit.client_secret_file", false)])
    func aCredentialFileOthersCanReadIsRefused(key: String, isMasterKey: Bool) async throws {
        let options = DaemonFixture.Options(clientSecretMode: isMasterKey ? 0o600 : 0o644, masterKeyMode: isMasterKey ? 0o644 : 0o600)
        try await withPreparedDaemon(options) { daemon in
            let process = try await daemon.start(awaitReady: false)
            let termination = await process.termination
            // 78 = EX_CONFIG: the unit's RestartPreventExitStatus= stops a restart loop on it.
            #expect(termination == ProcessTermination(code: 78, bySignal: false), "\(termination)")
            let output = String(decoding: process.outputBytes, as: UTF8.self)
            let path = isMasterKey ? daemon.paths.masterKeyFile : daemon.paths.clientSecretFile
            #expect(output.contains(key) && output.contains(path) && output.contains("readable"), "\(output)")
            #expect(!process.notifications.contains { $0.split(separator: "\n").contains("READY=1") })
        }
    }
}
