import Foundation
import Glibc
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// `backup PATH`: an online copy of the store taken while a spool burst is being worked
/// through, which `wbkeyd audit-verify` accepts and a daemon restored from it serves.
@Suite struct BackupTests {
    static let settled = (1...3).map { "kept-\($0)" }
    /// Issue 13: a backup taken during a 2,000-file burst restores and verifies.
    static let burst = (1...2_000).map { "during-\($0)" }

    @Test func aBackupTakenDuringABurstVerifiesAndRestores() async throws {
        let options = DaemonFixture.Options(config: ["whitebit.rate_limit": 1000, "whitebit.max_concurrency": 16])
        try await withDaemon(options) { daemon in
            for user in Self.settled {
                try await daemon.consentAndSubmit(user: user)
                try await daemon.awaitEvent("secret_secured", user: user)
            }
            let copy = daemon.paths.directory + "/backup/copy.sqlite3"
            try FileManager.default.createDirectory(atPath: daemon.paths.directory + "/backup", withIntermediateDirectories: false)

            // Refused before anything is written, each with its reason.
            #expect(try await daemon.control("backup backup/copy.sqlite3") == "error: the backup path must be absolute (and at most 1024 bytes)\n")
            #expect(try await daemon.control("backup \(daemon.paths.store)") == "error: \(daemon.paths.store) exists; a backup never replaces a file\n")
            #expect(try await daemon.control("backup \(daemon.paths.directory)/none/copy") == "error: \(daemon.paths.directory)/none is not a directory\n")

            // Token exchanges held back 20 ms each (16 at a time): with 2,000 files the
            // burst lasts seconds however fast the machine is.
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .latency(milliseconds: 20), count: 0))
            // The consents first, sixteen at a time, then every delivery at once: the burst
            // is in the spool before the daemon has worked through the first of it.
            let consents = try await withThrowingTaskGroup(of: (String, SimAuthorization).self) { group in
                var results: [(String, SimAuthorization)] = []
                for (index, user) in Self.burst.enumerated() {
                    if index >= 16, let done = try await group.next() { results.append(done) }
                    group.addTask { (user, try await daemon.admin.authorize(user: user, key: .now)) }
                }
                for try await done in group { results.append(done) }
                return results
            }
            for (user, consent) in consents {
                _ = try daemon.submitAuthorization(user: user, code: consent.code, verifier: consent.verifier)
            }
            var next = 0
            for _ in 1...5 {
                next = try await daemon.process.awaitLine(since: next, describedAs: "authorization_received") {
                    $0.isEvent("authorization_received")
                }.index + 1
            }
            let answer = try await daemon.control("backup \(copy) wait json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], "\(answer)")
            #expect(object["finished"] as? Bool == true && object["path"] as? String == copy, "\(answer)")
            let seq = try #require(object["audit_seq"] as? Int)
            var info = stat()
            #expect(stat(copy, &info) == 0 && info.st_mode & 0o7777 == 0o600)
            #expect(!FileManager.default.fileExists(atPath: copy + "-wal"), "the copy is one self-contained file")
            let row = try #require(try await daemon.auditRows().last { $0.event == "store_backed_up" })
            #expect(row.detailValue("path") == copy && row.detailValue("audit_seq") == String(seq) && row.actor == "uid:\(getuid())")

            let verified = try await daemon.wbkeyd(["audit-verify", "--store", copy, "--master-key-file", daemon.paths.masterKeyFile])
            #expect(verified.exitStatus == 0 && verified.standardOutput.contains("audit chain sound: \(seq) rows"), "\(verified.standardOutput)\(verified.standardError)")
            #expect(try await daemon.control("backup \(copy)") == "error: \(copy) exists; a backup never replaces a file\n")
            // The burst went on writing after the snapshot: the copy was taken under load.
            let settled = try await eventually(within: .seconds(300)) {
                try await daemon.sqlite("SELECT COUNT(*) FROM grants WHERE state = 'active'").trimmingCharacters(in: .whitespacesAndNewlines)
                    == String(Self.settled.count + Self.burst.count)
            }
            #expect(settled)
            let head = try #require(try await daemon.auditRows().last?.seq)
            #expect(head > seq + 1, "the audit grew by \(head - seq) rows after the backup")

            // The runbook's restore: stop, put the copy in place, move the witness of the
            // newer head aside (the copy's chain ends earlier, on purpose), start.
            try await daemon.terminate()
            for suffix in ["", "-wal", "-shm"] { unlink(daemon.paths.store + suffix) }
            try FileManager.default.copyItem(atPath: copy, toPath: daemon.paths.store)
            chmod(daemon.paths.store, 0o600)
            try? FileManager.default.moveItem(atPath: daemon.paths.store + ".witness", toPath: daemon.paths.directory + "/witness.before-restore")
            _ = try await daemon.start()
            for user in Self.settled {
                let shown = try await daemon.control("show \(user)")
                #expect(shown.contains("state:          active\n"), "\(shown)")
                let secret = try await daemon.control("secret \(user) json")
                #expect(secret.contains(#""api_secret":""#), "no secret served for \(user)")
            }
            #expect(try await daemon.auditRows().contains { $0.event == "audit_witness_mismatch" } == false)
            let restored = try await daemon.auditVerify()
            #expect(restored.exitStatus == 0, "\(restored.standardError)")
        }
    }
}
