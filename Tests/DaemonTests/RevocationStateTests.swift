import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// Deleting keys end to end: on request (spool file or control socket), while WhiteBIT
/// fails, when WhiteBIT refuses for good, and after a secret was lost.
@Suite struct RevocationStateTests {
    @Test func aRevocationFileDeletesTheKey() async throws {
        try await withDaemon { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-1")
            let file = try daemon.submitRevocation(user: "u-1", reason: "user disconnected")
            let revoked = try await daemon.awaitEvent("key_revoked", user: "u-1")

            #expect(revoked.value("external_id") == externalID)
            #expect(try await daemon.grantState("u-1") == "revoked")
            #expect(try await daemon.simKey(externalID)?.deleted == true)
            let requested = try #require(try await daemon.auditRows("revoke_requested", user: "u-1").first)
            #expect(requested.detailValue("reason") == "user disconnected" && requested.detailValue("outcome") == "deleting")
            #expect(requested.actor == "wbkeyd")
            #expect(try await daemon.auditRows("key_revoked", user: "u-1").first?.detailValue("result") == "deleted")
            #expect(try await daemon.auditEvents(user: "u-1").suffix(2) == ["revoke_requested", "key_revoked"])
            #expect(try await daemon.grantRow("u-1")?["has_secret"] == "0", "a deleted key's secret is wiped")
            #expect(try await eventually { daemon.paths.names(in: daemon.paths.spoolClaimed).isEmpty })
            daemon.expectSpoolDrained()
            #expect(!daemon.rejectedFiles.contains(file))
        }
    }

    @Test func aControlRevokeAnswersWithTheResultingState() async throws {
        try await withDaemon { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-2")
            let answer = try await daemon.control("revoke u-2 operator request json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], "\(answer)")
            #expect(object["state"] as? String == "revoked", "\(answer)")

            #expect(try await daemon.simKey(externalID)?.deleted == true)
            let requested = try #require(try await daemon.auditRows("revoke_requested", user: "u-2").first)
            #expect(requested.actor == "uid:\(getuid())" && requested.detailValue("reason") == "operator request")
            #expect(try await daemon.auditRows("key_revoked", user: "u-2").count == 1)
            // A second revoke has nothing left to delete.
            let again = try await daemon.control("revoke u-2")
            #expect(again.contains("revoked"), "\(again)")
            #expect(try await daemon.auditRows("revoke_requested", user: "u-2").last?.detailValue("outcome") == "nothing to delete")
        }
    }

    /// The user disconnects while the token exchange is still under way: the revocation
    /// waits for the token (revoke_pending), then finds the key and deletes it; its secret
    /// is never fetched.
    @Test func aRevocationBeforeTheTokenDeletesTheKeyWithoutFetchingItsSecret() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .latency(milliseconds: 3000), user: "u-q"))
            try await daemon.consentAndSubmit(user: "u-q", key: .now)
            try await daemon.awaitEvent("authorization_received", user: "u-q")
            try daemon.submitRevocation(user: "u-q", reason: "changed my mind")
            try await daemon.awaitEvent("revoke_requested", user: "u-q")
            #expect(try await daemon.grantState("u-q") == "revoke_pending")
            #expect(
                try await daemon.auditRows("revoke_requested", user: "u-q").first?.detailValue("outcome")
                    == "postponed until the pending authorization yields a token")

            let revoked = try await daemon.awaitEvent("key_revoked", user: "u-q")
            let externalID = try #require(revoked.value("external_id"))
            #expect(try await daemon.grantState("u-q") == "revoked")
            let key = try #require(try await daemon.simKey(externalID))
            #expect(key.deleted && key.secretFetches == 0, "deleted, its secret never fetched")
            #expect(try await daemon.auditRows("secret_secured", user: "u-q").isEmpty)
        }
    }

    /// The same while the user is still creating the key: wbkeyd keeps looking for it as
    /// often as it would for a key to secure, and deletes it once it appears.
    @Test func aRevocationBeforeTheTokenDeletesAKeyThatAppearsLater() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .latency(milliseconds: 2000), user: "u-l"))
            try await daemon.consentAndSubmit(user: "u-l", key: .after(milliseconds: 4000))
            try await daemon.awaitEvent("authorization_received", user: "u-l")
            try daemon.submitRevocation(user: "u-l")
            try await daemon.awaitEvent("revoke_requested", user: "u-l")
            try await daemon.awaitEvent("token_exchanged", user: "u-l")
            #expect(try await daemon.admin.state().keys(of: "u-l").allSatisfy { !$0.visible }, "the key is not there yet")

            let revoked = try await daemon.awaitEvent("key_revoked", user: "u-l", timeout: .seconds(30))
            #expect(try await daemon.grantState("u-l") == "revoked")
            let key = try #require(try await daemon.simKey(revoked.value("external_id") ?? ""))
            #expect(key.deleted && key.secretFetches == 0)
        }
    }

    @Test func aGrantStaysRevokingWhileWhiteBITFailsAndIsRevokedOnceItRecovers() async throws {
        try await withDaemon { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-3")
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .delete, kind: .status(503), count: 0, user: "u-3"))

            let answer = try await daemon.control("revoke u-3")
            #expect(answer.contains("revoking"), "\(answer)")
            #expect(try await daemon.grantState("u-3") == "revoking")
            let failed = try #require(try await daemon.auditRows("key_revoke_failed", user: "u-3").first)
            #expect(failed.detailValue("permanent") == "false" && failed.detailValue("attempt") == "1")
            #expect(try await daemon.simKey(externalID)?.deleted == false)

            let mark = daemon.logMark
            try await daemon.admin.clearFaults()
            try await daemon.awaitEvent("key_revoked", user: "u-3", since: mark)
            #expect(try await daemon.grantState("u-3") == "revoked")
            #expect(try await daemon.simKey(externalID)?.deleted == true)
        }
    }

    @Test func aDeletionWhiteBITRefusesMakesTheGrantIrrevocable() async throws {
        try await withDaemon { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-4")
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .delete, kind: .status(403), user: "u-4"))

            let answer = try await daemon.control("revoke u-4")
            #expect(answer.contains("irrevocable"), "\(answer)")
            #expect(try await daemon.grantState("u-4") == "irrevocable")
            let failed = try #require(try await daemon.auditRows("key_revoke_failed", user: "u-4").first)
            #expect(failed.detailValue("status") == "403" && failed.detailValue("permanent") == "true")
            #expect(failed.externalID == externalID)
            #expect(try await daemon.simKey(externalID)?.deleted == false, "WhiteBIT kept the key")
            #expect(try await daemon.auditEvents(user: "u-4").suffix(2) == ["revoke_requested", "key_revoke_failed"])
        }
    }

    /// The secret's answer is lost after WhiteBIT marked it retrieved: the retry gets 409,
    /// the secret can never be had, and the key is deleted while the token lives.
    @Test func aLostSecretMakesTheGrantLostAndDeletesTheKey() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .lostSecret, user: "u-5"))
            try await daemon.consentAndSubmit(user: "u-5", key: .now)
            let lost = try await daemon.awaitEvent("secret_lost", user: "u-5")
            let externalID = try #require(lost.value("external_id"))
            try await daemon.awaitEvent("key_revoked", user: "u-5")

            #expect(try await daemon.grantState("u-5") == "lost")
            let row = try #require(try await daemon.grantRow("u-5"))
            #expect(row["reason"] == "secret_lost" && row["has_secret"] == "0")
            let key = try #require(try await daemon.simKey(externalID))
            #expect(key.deleted, "the key whose secret was lost is deleted")
            #expect(key.secretFetches == 2, "the lost answer and the 409")
            #expect(
                try await daemon.auditEvents(user: "u-5")
                    == ["authorization_received", "token_exchanged", "key_detected", "secret_lost", "key_revoked"])
            #expect(try await daemon.auditRows("secret_lost", user: "u-5").first?.detailValue("reason")?.contains("409") == true)
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }
}
