import Foundation
import Spool
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// `kill -9` of wbkeyd at each step of a grant, then a restart on the same store and
/// spool: the grant converges to the state docs/design.md §5 asks for, no spool file is lost
/// or taken twice, and no key whose secret left WhiteBIT is without either its sealed
/// secret or a deletion.
@Suite struct CrashSafetyTests {
    /// Two crashes around a claim: one after the commit but before the file was removed
    /// from `claimed/` (it must count as a duplicate), one before the commit (it must be
    /// taken up as new).
    @Test func filesLeftInClaimedAreTakenUpOnceAfterACrash() async throws {
        try await withDaemon { daemon in
            // Until the crash WhiteBIT answers u-c1's exchange with a 503 (the code stays
            // unspent): otherwise the kill races the first run's exchange, and a code spent
            // before it fails the retry for good (the case of the next test, not this one).
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .status(503), count: 0, user: "u-c1"))
            let committed = try await daemon.consentAndSubmit(user: "u-c1", key: .now)
            try await daemon.awaitEvent("authorization_received", user: "u-c1")
            // The first run removes the committed file from claimed/ right after the commit;
            // the crash is staged below with a copy of it.
            #expect(try await eventually { daemon.paths.names(in: daemon.paths.spoolClaimed).isEmpty })
            try await daemon.kill9()
            try await daemon.admin.clearFaults()

            // What the crashed run left behind: u-c1's file (committed, not yet removed) and
            // u-c2's (claimed, never committed).
            let c1 = committed.authorization
            try daemon.placeClaimed(
                try SpoolSubmission.authorization(user: "u-c1", code: c1.code, codeVerifier: c1.verifier), as: "committed-before-crash.json")
            let c2 = try await daemon.admin.authorize(user: "u-c2", key: .now)
            try daemon.placeClaimed(
                try SpoolSubmission.authorization(user: "u-c2", code: c2.code, codeVerifier: c2.verifier), as: "claimed-before-crash.json")

            try await daemon.restart()
            #expect(daemon.paths.names(in: daemon.paths.spoolClaimed).isEmpty, "claimed/ is taken up before READY")
            try await daemon.awaitEvent("secret_secured", user: "u-c1")
            try await daemon.awaitEvent("secret_secured", user: "u-c2")

            let c1Rows = try await daemon.auditRows(user: "u-c1")
            #expect(c1Rows.filter { $0.event == "authorization_received" }.map { $0.detailValue("file") } == [committed.file])
            #expect(c1Rows.filter { $0.event == "authorization_duplicate" }.map { $0.detailValue("file") } == ["committed-before-crash.json"])
            #expect(c1Rows.filter { $0.event == "token_exchanged" }.count == 1)
            let c2Rows = try await daemon.auditRows(user: "u-c2")
            #expect(c2Rows.filter { $0.event == "authorization_received" }.map { $0.detailValue("file") } == ["claimed-before-crash.json"])
            #expect(try await daemon.grantState("u-c1") == "active")
            #expect(try await daemon.grantState("u-c2") == "active")
            for key in try await daemon.admin.state().keys { #expect(key.secretFetches == 1) }
            daemon.expectSpoolDrained()
            #expect(daemon.rejectedFiles.isEmpty)
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }

    /// A refusal is audited before the file moves to rejected/; a crash in between leaves
    /// the file in claimed/. Taken up again at start, it is moved, not audited twice.
    @Test func aRefusalAuditedJustBeforeACrashIsNotAuditedAgain() async throws {
        try await withDaemon { daemon in
            // A second link to the delivery, to put the very file back later (rejected/ gets
            // a blanked copy, not the file itself).
            let paths = daemon.paths
            let staging = paths.spoolTmp + "/refused.json"
            let kept = paths.directory + "/refused.json.kept"
            #expect(FileManager.default.createFile(atPath: staging, contents: Data(#"{"user":"u-1"}"#.utf8)))
            #expect(link(staging, kept) == 0 && rename(staging, paths.spoolNew + "/refused.json") == 0)
            try await daemon.awaitLine { $0.isEvent("authorization_rejected") && $0.value("file") == "refused.json" }
            // The reason is written first, then the file moved: wait for both.
            #expect(try await eventually {
                daemon.rejectionReason(of: "refused.json") != nil
                    && FileManager.default.fileExists(atPath: paths.spoolRejected + "/refused.json")
            })
            try await daemon.kill9()
            // The state of a crash after the audit commit, before the reason and the move:
            // the same file (inode, mtime) back in claimed/.
            #expect(unlink(paths.spoolRejected + "/refused.json") == 0)
            #expect(link(kept, paths.spoolClaimed + "/refused.json") == 0 && unlink(kept) == 0)
            #expect(unlink(paths.spoolRejected + "/refused.json.reason") == 0)
            // A new delivery under the same name is another file: it is audited.
            try daemon.deliver(Array(#"{"user":"u-2"}"#.utf8), as: "refused.json")

            try await daemon.restart()
            #expect(daemon.paths.names(in: paths.spoolClaimed).isEmpty && daemon.paths.names(in: paths.spoolNew).isEmpty)
            #expect(daemon.rejectedFiles == ["refused.json", "refused.json.2"])
            #expect(daemon.rejectionReason(of: "refused.json") == "code is missing")
            let refusals = try await daemon.auditRows().filter { $0.event == "authorization_rejected" }
            #expect(refusals.map { "\($0.user ?? "-") \($0.detailValue("file") ?? "-")" } == ["u-1 refused.json", "u-2 refused.json"])
            #expect(try daemon.process.lines.contains { $0.text.contains("its refusal was audited then") && $0.value("file") == "refused.json" })
        }
    }

    /// Killed while the token request is at WhiteBIT: the code is spent there, so the
    /// retried exchange fails for good; the user's next consent secures the key.
    @Test func aCrashDuringTheTokenExchangeFailsThatCodeAndTheNextConsentRecovers() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .latency(milliseconds: 10_000), user: "u-t"))
            try await daemon.consentAndSubmit(user: "u-t", key: .now)
            try await daemon.awaitEvent("authorization_received", user: "u-t")
            #expect(try await eventually { try await daemon.admin.state().requests["token"] == 1 })
            try await daemon.kill9()

            try await daemon.restart()
            try await daemon.awaitEvent("token_exchange_failed", user: "u-t")
            #expect(try await daemon.grantState("u-t") == "failed")
            #expect(try await daemon.admin.state().keys(of: "u-t").allSatisfy { $0.secretFetches == 0 })

            let mark = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-t", key: .now)
            try await daemon.awaitEvent("secret_secured", user: "u-t", since: mark)
            #expect(try await daemon.grantState("u-t") == "active")
            let keys = try await daemon.admin.state().keys(of: "u-t")
            #expect(keys.count == 1 && keys.first?.secretFetches == 1, "the key of the first consent is the one secured")
            daemon.expectSpoolDrained()
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }

    @Test func aCrashWhilePollingForTheKeyResumesThePolling() async throws {
        try await withDaemon { daemon in
            try await daemon.consentAndSubmit(user: "u-w", key: .after(milliseconds: 3000))
            try await daemon.awaitEvent("token_exchanged", user: "u-w")
            try await daemon.kill9()

            try await daemon.restart()
            let secured = try await daemon.awaitEvent("secret_secured", user: "u-w")
            #expect(try await daemon.grantState("u-w") == "active")
            #expect(try await daemon.simKey(secured.value("external_id") ?? "")?.secretFetches == 1)
            let events = try await daemon.auditEvents(user: "u-w")
            #expect(events == ["authorization_received", "token_exchanged", "key_detected", "secret_secured"])
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }

    /// Killed after WhiteBIT handed out the secret but before wbkeyd could commit it: the
    /// secret is gone for good (409), so the grant is lost and the key deleted.
    @Test func aCrashBetweenTheSecretFetchAndItsCommitLosesTheSecretAndDeletesTheKey() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .latency(milliseconds: 4000), user: "u-f"))
            try await daemon.consentAndSubmit(user: "u-f", key: .now)
            let detected = try await daemon.awaitEvent("key_detected", user: "u-f")
            let externalID = try #require(detected.value("external_id"))
            #expect(try await eventually { try await daemon.simKey(externalID)?.secretRetrieved == true })
            try await daemon.kill9()
            #expect(try await daemon.grantState(afterCrash: "u-f") == "securing", "the intent was committed before the call")

            try await daemon.restart()
            try await daemon.awaitEvent("key_revoked", user: "u-f")
            #expect(try await daemon.grantState("u-f") == "lost")
            let key = try #require(try await daemon.simKey(externalID))
            #expect(key.deleted)
            let lost = try #require(try await daemon.auditRows("secret_lost", user: "u-f").first)
            #expect(lost.externalID == externalID)
            #expect(try await daemon.auditRows("secret_secured", user: "u-f").isEmpty)
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }

    /// Killed between the last two commits of an authorization: the secret is sealed
    /// (`secret_secured`) and the verification read is at WhiteBIT. The restart finds the
    /// check still due, verifies once, and never fetches the secret again. With the three
    /// tests above, a kill -9 falls between every pair of commits of the flow (ingest →
    /// token → key → secret → verification).
    @Test func aCrashDuringTheVerificationReadVerifiesAfterTheRestart() async throws {
        try await withDaemon(DaemonFixture.Options(config: ["keys.verify_key": .bool(true)])) { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .signed, kind: .latency(milliseconds: 10_000), user: "u-k"))
            try await daemon.consentAndSubmit(user: "u-k", key: .now)
            let secured = try await daemon.awaitEvent("secret_secured", user: "u-k")
            let externalID = try #require(secured.value("external_id"))
            #expect(try await eventually { try await daemon.admin.state().accountRequests["signed"] == 1 })
            try await daemon.kill9()
            let row = try #require(try await daemon.grantRow("u-k"))
            #expect(row["state"] == "active" && row["key_check"] == nil, "the secret is sealed, the check not yet recorded")

            try await daemon.admin.clearFaults()
            try await daemon.restart()
            let verified = try await daemon.awaitEvent("key_verified", user: "u-k")
            #expect(verified.value("external_id") == externalID)
            #expect(try await daemon.auditEvents(user: "u-k") == [
                "authorization_received", "token_exchanged", "key_detected", "secret_secured", "key_verified",
            ])
            #expect(try await daemon.simKey(externalID)?.secretFetches == 1)
            // The read after the restart was accepted (the one cut off by the kill may be
            // answered later, to nobody).
            let requests = try await daemon.admin.requestLog(externalID: externalID)
            #expect(requests.contains { $0.status == 200 })
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }

    /// Killed while the DELETE is at WhiteBIT (which did delete the key): the retry after
    /// the restart gets 404, which counts as done.
    @Test func aCrashDuringARevocationFinishesItAfterTheRestart() async throws {
        try await withDaemon { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-r")
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .delete, kind: .latency(milliseconds: 10_000), user: "u-r"))
            try daemon.submitRevocation(user: "u-r", reason: "closing the account")
            try await daemon.awaitEvent("revoke_requested", user: "u-r")
            #expect(try await eventually { try await daemon.simKey(externalID)?.deleted == true })
            #expect(try await eventually { daemon.paths.names(in: daemon.paths.spoolClaimed).isEmpty })
            try await daemon.kill9()

            try await daemon.restart()
            let revoked = try await daemon.awaitEvent("key_revoked", user: "u-r")
            #expect(revoked.value("external_id") == externalID)
            #expect(try await daemon.grantState("u-r") == "revoked")
            #expect(try await daemon.auditRows("key_revoked", user: "u-r").first?.detailValue("result") == "already gone (404)")
            #expect(try await daemon.auditRows("revoke_requested", user: "u-r").count == 1, "the revocation file was taken once")
            daemon.expectSpoolDrained()
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }
}

extension DaemonFixture {
    /// The state in the store while wbkeyd is down (the control socket is gone).
    func grantState(afterCrash user: String) async throws -> String? {
        try await grantRow(user)?["state"]
    }
}
