import Foundation
import Spool
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// Start-up and stop as systemd sees them (DESIGN.md §8): READY=1 only once the spool is
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
            #expect(termination == ProcessTermination(code: 1, bySignal: false), "\(termination)")
            let output = String(decoding: process.outputBytes, as: UTF8.self)
            #expect(output.contains(key), "\(output)")
            #expect(!process.notifications.contains { $0.split(separator: "\n").contains("READY=1") })
            #expect(!FileManager.default.fileExists(atPath: daemon.paths.store), "nothing is created before the config is sound")

            let check = try await daemon.wbkeyd(["check-config", "--config", daemon.paths.configFile])
            #expect(check.exitStatus == 1)
            #expect(check.standardError.contains(key), "\(check.standardError)")
        }
    }

    @Test(arguments: [("store.master_key_file", true), ("whitebit.client_secret_file", false)])
    func aCredentialFileOthersCanReadIsRefused(key: String, isMasterKey: Bool) async throws {
        let options = DaemonFixture.Options(clientSecretMode: isMasterKey ? 0o600 : 0o644, masterKeyMode: isMasterKey ? 0o644 : 0o600)
        try await withPreparedDaemon(options) { daemon in
            let process = try await daemon.start(awaitReady: false)
            let termination = await process.termination
            #expect(termination == ProcessTermination(code: 1, bySignal: false), "\(termination)")
            let output = String(decoding: process.outputBytes, as: UTF8.self)
            let path = isMasterKey ? daemon.paths.masterKeyFile : daemon.paths.clientSecretFile
            #expect(output.contains(key) && output.contains(path) && output.contains("readable"), "\(output)")
            #expect(!process.notifications.contains { $0.split(separator: "\n").contains("READY=1") })
        }
    }
}
