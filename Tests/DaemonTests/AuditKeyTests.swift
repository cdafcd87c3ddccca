import Foundation
import Glibc
import Store
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// The master key as the running daemon sees it: checked at start and by check-config,
/// rotated by `wbkeyd rewrap`; and the witnessed head that shows a cut tail.
@Suite struct AuditKeyTests {
    /// Rewrites a credential file in place, keeping its 0600 mode.
    func overwrite(_ path: String, with bytes: [UInt8]) throws {
        let descriptor = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(descriptor) }
        #expect(write(descriptor, bytes, bytes.count) == bytes.count)
    }

    func randomKey() -> [UInt8] { (0..<32).map { _ in UInt8.random(in: 0...255) } }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func aWrongMasterKeyIsRefusedAtStartAndByCheckConfig() async throws {
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-1")
            #expect(try await daemon.terminate().isCleanExit)
            let wrong = randomKey()
            let expectedID = MasterKeyID(masterKey: Data(daemon.masterKey)).text
            let givenID = MasterKeyID(masterKey: Data(wrong)).text
            try overwrite(daemon.paths.masterKeyFile, with: wrong)

            let process = try await daemon.start(awaitReady: false)
            let termination = await process.termination
            #expect(termination == ProcessTermination(code: 78, bySignal: false), "\(termination)")
            let output = String(decoding: process.outputBytes, as: UTF8.self)
            #expect(output.contains(expectedID) && output.contains(givenID), "\(output)")
            #expect(!process.notifications.contains { $0.split(separator: "\n").contains("READY=1") })

            let check = try await daemon.wbkeyd(["check-config", "--config", daemon.paths.configFile])
            #expect(check.exitStatus == 78)
            #expect(check.standardError.contains("store.master_key_file") && check.standardError.contains(expectedID),
                "\(check.standardError)")
            for text in [output, check.standardOutput, check.standardError] {
                #expect(!text.contains(hex(wrong)) && !text.contains(hex(daemon.masterKey)))
            }

            try overwrite(daemon.paths.masterKeyFile, with: daemon.masterKey)
            let good = try await daemon.wbkeyd(["check-config", "--config", daemon.paths.configFile])
            #expect(good.exitStatus == 0, "\(good.standardError)")
        }
    }

    /// The head is witnessed at stop (journal line and the witness file). Cutting rows off
    /// the end leaves a shorter chain that verifies on its own, but not against the witness:
    /// `--expect` fails naming the seq, and the next start reports it loudly and audits it.
    @Test func aCutTailIsFoundAgainstTheWitness() async throws {
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-1")
            _ = try await daemon.control("secret u-1")
            let run = try daemon.process
            #expect(try await daemon.terminate().isCleanExit)
            let stored = try String(contentsOfFile: daemon.paths.store + ".witness", encoding: .utf8)
            let parts = stored.split(separator: " ").map(String.init)
            let seq = try #require(Int(parts[0]))
            let hash = parts[1]
            let rows = try await daemon.auditRows()
            #expect(rows.last?.seq == seq && rows.last?.event == "daemon_stopped")
            #expect(run.lines.last { $0.isEvent("audit_head") }?.value("seq") == "\(seq)", "witnessed at stop")

            let secretRead = try #require(rows.last { $0.event == "secret_read" })
            try await daemon.sqlite("DROP TRIGGER audit_refuses_delete; DELETE FROM audit WHERE seq >= \(secretRead.seq);")
            let alone = try await daemon.auditVerify()
            #expect(alone.exitStatus == 0, "a cut chain is still a sound chain: \(alone.standardError)")
            let expected = try await daemon.auditVerify(["--expect", "\(seq):\(hash)"])
            #expect(expected.exitStatus == 1)
            #expect(expected.standardError.contains("seq \(seq)") && expected.standardError.contains("tail cut"), "\(expected.standardError)")

            let mark = daemon.logMark
            try await daemon.start()
            let alarm = try await daemon.awaitEvent("audit_witness_mismatch", since: mark)
            #expect(alarm.level == "critical", "\(alarm)")
            #expect(try await daemon.auditEvents().contains("audit_witness_mismatch"))
        }
    }

    /// After commits the head is witnessed within the 10 s bound, not only every 10 minutes.
    @Test func theHeadIsWitnessedSoonAfterItMoves() async throws {
        try await withDaemon { daemon in
            let mark = daemon.logMark
            try await daemon.activeGrant("u-1")
            let head = try #require(try await daemon.auditRows().last)
            let line = try await daemon.awaitLine(since: mark, timeout: .seconds(25), describedAs: "audit_head of seq \(head.seq)") {
                $0.isEvent("audit_head") && ($0.value("seq").flatMap { Int($0) } ?? 0) >= head.seq
            }
            let seq = try #require(line.value("seq").flatMap { Int($0) })
            let stored = try String(contentsOfFile: daemon.paths.store + ".witness", encoding: .utf8)
            #expect((stored.split(separator: " ").first.flatMap { Int($0) } ?? 0) >= seq, "\(stored)")
        }
    }

    /// Rotation on a store with a live sealed secret: rewrap offline, start with the new
    /// key, and the secret reads back the same; the chain still verifies, under the new key.
    @Test func rewrapKeepsLiveSecretsReadable() async throws {
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-1")
            let before = try await daemon.control("secret u-1 json")
            #expect(before.contains("api_secret"), "\(before)")
            #expect(try await daemon.terminate().isCleanExit)

            let newKey = randomKey()
            let newKeyFile = daemon.paths.directory + "/new-master-key"
            try overwrite(newKeyFile, with: newKey)
            let rewrap = try await daemon.wbkeyd([
                "rewrap", "--store", daemon.paths.store, "--old-key-file", daemon.paths.masterKeyFile, "--new-key-file", newKeyFile,
            ])
            #expect(rewrap.exitStatus == 0, "\(rewrap.standardError)")
            #expect(rewrap.standardOutput.contains(MasterKeyID(masterKey: Data(newKey)).text), "\(rewrap.standardOutput)")

            // The old key no longer fits; the new one does.
            let stale = try await daemon.start(awaitReady: false)
            #expect(await stale.termination == ProcessTermination(code: 78, bySignal: false))
            try overwrite(daemon.paths.masterKeyFile, with: newKey)
            try await daemon.start()
            let after = try await daemon.control("secret u-1 json")
            #expect(after == before)
            #expect(try await daemon.auditEvents().contains("master_key_rewrapped"))
            #expect(try await daemon.terminate().isCleanExit)
            let verified = try await daemon.auditVerify()
            #expect(verified.exitStatus == 0, "\(verified.standardError)")
            let all = String(decoding: daemon.allOutput, as: UTF8.self) + rewrap.standardOutput + rewrap.standardError
            #expect(!all.contains(hex(newKey)) && !all.contains(hex(daemon.masterKey)))
        }
    }
}
