import Foundation
import Glibc
import Store
import Testing
import WBKeydHarness

/// `spool.max_code_age`, `spool.rescan_interval` and `store.audit_retention` on SIGHUP.
@Suite struct ReloadSpoolAndStoreTests {
    @Test func maxCodeAgeDecidesWhichCodesAreTooOld() async throws {
        try await withDaemon(.init(config: ["spool.max_code_age": "1h"])) { daemon in
            let fiveMinutesAgo = Date().addingTimeInterval(-300)
            let first = try await daemon.admin.authorize(user: "u-1", key: .now)
            let mark = daemon.logMark
            try daemon.submitAuthorization(user: "u-1", code: first.code, verifier: first.verifier, receivedAt: fiveMinutesAgo)
            try await daemon.awaitEvent("secret_secured", user: "u-1", since: mark)

            try await daemon.reload(["spool.max_code_age": "1m"])
            let second = try await daemon.admin.authorize(user: "u-2", key: .now)
            let file = try daemon.submitAuthorization(
                user: "u-2", code: second.code, verifier: second.verifier, receivedAt: fiveMinutesAgo)
            try await daemon.awaitLine { $0.isEvent("authorization_rejected") && $0.value("file") == file }
            #expect(try await eventually { daemon.rejectionReason(of: file) != nil })
            let reason = daemon.rejectionReason(of: file) ?? ""
            #expect(reason.contains("old, more than max_code_age 60s"), "\(reason)")
            #expect(try await daemon.grantState("u-2") == nil)
            #expect(try await daemon.simRequests("token") == 1, "a call was made for a code too old")
        }
    }

    @Test func rescanIntervalFindsWhatInotifyMissedSoonAfterTheReload() async throws {
        try await withDaemon(.init(config: ["spool.rescan_interval": "1h"])) { daemon in
            // A hard link into new/ makes neither IN_MOVED_TO nor IN_CLOSE_WRITE there:
            // only a rescan finds it. Its content is refused, which the log says.
            let name = "linked-\(UUID().uuidString)"
            let staged = daemon.paths.spoolTmp + "/" + name
            try Data("{}".utf8).write(to: URL(fileURLWithPath: staged))
            guard link(staged, daemon.paths.spoolNew + "/" + name) == 0 else {
                throw HarnessError.setupFailed(what: "link into new/", path: staged, errno: errno)
            }
            unlink(staged)
            // A window to show the premise: the next rescan is an hour away.
            try await Task.sleep(for: .seconds(2))
            #expect(daemon.paths.names(in: daemon.paths.spoolNew).contains(name), "inotify saw the link; this test shows nothing")

            try await daemon.reload(["spool.rescan_interval": "1s"])
            try await daemon.awaitLine(timeout: .seconds(30), describedAs: "the rejection of \(name)") {
                $0.isEvent("authorization_rejected") && $0.value("file") == name
            }
        }
    }

    /// Housekeeping runs a minute after start, then hourly, with the retention in force
    /// then: this test waits for that minute.
    @Test func auditRetentionPrunesAtTheNextHousekeeping() async throws {
        try await withPreparedDaemon(.init(config: ["store.audit_retention": "3650d"])) { daemon in
            // A row from ten days ago, appended by the store's own log with its clock set back.
            let store = try StoreDatabase.open(path: daemon.paths.store)
            let keyring = try StoreKeyring.unlock(masterKey: Data(daemon.masterKey), store: store)
            let log = AuditLog(chainKey: keyring.chainKey, clock: { Date().addingTimeInterval(-10 * 86_400) })
            try await store.pool.write { db in
                _ = try log.append(AuditEntry(.daemonStopped, detail: ["version": "0.0.0"]), in: db)
            }
            try store.close()
            try await daemon.start()

            try await daemon.reload(["store.audit_retention": "1d"])
            let pruned = try await eventually(within: .seconds(150)) {
                try await daemon.auditEvents().contains("audit_pruned")
            }
            #expect(pruned, "no audit_pruned row within 150 s of start")
            let rows = try await daemon.auditRows()
            #expect(rows.first?.seq == 2, "\(rows.prefix(2))")
            #expect(rows.first { $0.event == "audit_pruned" }?.detailValue("through_seq") == "1")
            let verified = try await daemon.auditVerify()
            #expect(verified.exitStatus == 0, "\(verified.standardOutput) \(verified.standardError)")
        }
    }
}
