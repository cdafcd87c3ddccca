import Foundation
import Testing
import WBKeydHarness

/// `wbkeyd audit-verify` on the real log of a scenario, before and after an attacker
/// with the file (and the `sqlite3` CLI) changes one byte of one row.
@Suite struct AuditVerifyTests {
    @Test func auditVerifyAcceptsARealLogAndNamesTheRowChangedBehindItsBack() async throws {
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-1")
            _ = try await daemon.control("revoke u-1 audit test")
            _ = try await daemon.control("secret u-1")
            #expect(try await daemon.terminate().isCleanExit)

            let sound = try await daemon.auditVerify()
            #expect(sound.exitStatus == 0, "\(sound.standardError)")
            #expect(sound.standardOutput.contains("audit chain sound"), "\(sound.standardOutput)")

            let rows = try await daemon.auditRows()
            #expect(rows.first?.event == "daemon_started" && rows.last?.event == "daemon_stopped")
            let target = try #require(rows.first { $0.event == "token_exchanged" && $0.user == "u-1" })
            #expect(target.detail.contains("14400"), "\(target.detail)")
            // The triggers refuse the change, so the attacker drops them first.
            await #expect(throws: HarnessError.self) {
                try await daemon.sqlite("UPDATE audit SET detail = replace(detail, '14400', '14401') WHERE seq = \(target.seq)")
            }
            try await daemon.sqlite("""
                DROP TRIGGER audit_refuses_update;
                UPDATE audit SET detail = replace(detail, '14400', '14401') WHERE seq = \(target.seq);
                """)
            let changed = try await daemon.auditRows().first { $0.seq == target.seq }
            #expect(changed?.detail.contains("14401") == true && changed?.detail.count == target.detail.count, "one byte changed")

            let broken = try await daemon.auditVerify()
            #expect(broken.exitStatus == 1)
            #expect(broken.standardError.contains("seq \(target.seq)"), "\(broken.standardError)")
        }
    }
}
