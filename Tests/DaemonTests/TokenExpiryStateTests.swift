import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// States that follow from the end of a token (no refresh, docs/whitebit-api.md §3.1): tokens
/// of a few seconds, the final reconcile one second before expiry.
@Suite struct TokenExpiryStateTests {
    static let shortTokens = DaemonFixture.Options(
        simArguments: ["--token-lifetime", "4s"], config: ["keys.expiry_margin": "1s"])

    @Test func aKeyThatNeverAppearsEndsAsNoKey() async throws {
        try await withDaemon(Self.shortTokens) { daemon in
            try await daemon.consentAndSubmit(user: "u-none", key: .never)
            try await daemon.awaitEvent("token_exchanged", user: "u-none")
            #expect(try await daemon.grantState("u-none") == "awaiting_key")
            try await daemon.awaitEvent("key_not_created", user: "u-none")

            #expect(try await daemon.grantState("u-none") == "no_key")
            let events = try await daemon.auditEvents(user: "u-none")
            #expect(events == ["authorization_received", "token_exchanged", "token_expired", "key_not_created"])
            let row = try #require(try await daemon.grantRow("u-none"))
            #expect(row["has_token"] == "0" && row["token_expires_at"] == nil, "the token is wiped when it ends")
            #expect((try await daemon.admin.state().requests["info"] ?? 0) >= 2)
        }
    }

    @Test func anActiveGrantWhoseTokenEndsIsDormantAndKeepsItsSecret() async throws {
        try await withDaemon(Self.shortTokens) { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-d")
            let expired = try await daemon.awaitEvent("token_expired", user: "u-d")

            #expect(try await daemon.grantState("u-d") == "dormant")
            #expect(expired.value("external_id") == externalID)
            let row = try #require(try await daemon.grantRow("u-d"))
            #expect(row["has_token"] == "0" && row["has_secret"] == "1" && row["secret_external_id"] == externalID)
            #expect(try await daemon.auditEvents(user: "u-d").suffix(2) == ["secret_secured", "token_expired"])
            #expect(try await daemon.simKey(externalID)?.deleted == false)
            // Dormant: nothing can be asked of WhiteBIT.
            let answer = try await daemon.control("reconcile u-d")
            #expect(answer.contains("nothing to reconcile"), "\(answer)")
        }
    }

    /// The token ends while the secret is still locked (423): the secret can no longer be
    /// had, so the key must go with the user's next token (revoke_pending, secret_lost).
    @Test func aTokenEndingWhileSecuringLeavesTheKeyToBeDeletedWithTheNextToken() async throws {
        try await withDaemon(Self.shortTokens) { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .status(423), count: 0, user: "u-sl"))
            try await daemon.consentAndSubmit(user: "u-sl", key: .now)
            let detected = try await daemon.awaitEvent("key_detected", user: "u-sl")
            let externalID = try #require(detected.value("external_id"))
            let lost = try await daemon.awaitEvent("secret_lost", user: "u-sl")
            #expect(lost.value("external_id") == externalID)

            #expect(try await daemon.grantState("u-sl") == "revoke_pending")
            let row = try #require(try await daemon.grantRow("u-sl"))
            #expect(row["reason"] == "secret_lost" && row["doomed_key"] == externalID && row["has_token"] == "0")
            #expect(try await daemon.auditEvents(user: "u-sl").suffix(2) == ["token_expired", "secret_lost"])

            try await daemon.admin.clearFaults()
            try await daemon.admin.updateSettings(SimAdminSettings(tokenLifetimeMilliseconds: 3_600_000))
            let mark = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-sl", key: .now)
            try await daemon.awaitEvent("key_revoked", user: "u-sl", since: mark)
            #expect(try await daemon.simKey(externalID)?.deleted == true)
            #expect(try await daemon.simKey(externalID)?.secretRetrieved == false, "its secret never left WhiteBIT")
            #expect(try await daemon.grantState("u-sl") == "awaiting_key")
        }
    }

    /// A 401 on a token believed valid ends it early (docs/design.md §5).
    @Test func aTokenWhiteBITRejectsEndsEarlyAndTheGrantIsDormant() async throws {
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-401")
            try await daemon.admin.expireTokens(user: "u-401")
            let mark = daemon.logMark
            _ = try await daemon.control("reconcile u-401")
            let expired = try await daemon.awaitEvent("token_expired", user: "u-401", since: mark)
            #expect(expired.value("reason") == "rejected")
            #expect(try await daemon.grantState("u-401") == "dormant")
            #expect(try await daemon.auditRows("token_expired", user: "u-401").first?.detailValue("reason") == "rejected")
            #expect(try await daemon.grantRow("u-401")?["has_token"] == "0")
        }
    }

    /// A revoke while dormant waits for the user's next token; with it the old key goes
    /// first, and a key made by a later consent is secured as usual.
    @Test func aRevokeWhileDormantRunsWithTheNextTokenBeforeTheNewKeyIsSecured() async throws {
        try await withDaemon(Self.shortTokens) { daemon in
            let (_, oldKey) = try await daemon.activeGrant("u-rp")
            try await daemon.awaitEvent("token_expired", user: "u-rp")
            #expect(try await daemon.grantState("u-rp") == "dormant")
            // Later tokens live long enough for the rest of the scenario.
            try await daemon.admin.updateSettings(SimAdminSettings(tokenLifetimeMilliseconds: 3_600_000))

            let answer = try await daemon.control("revoke u-rp leaving the platform")
            #expect(answer.contains("revoke_pending"), "\(answer)")
            #expect(try await daemon.grantState("u-rp") == "revoke_pending")
            let requested = try #require(try await daemon.auditRows("revoke_requested", user: "u-rp").first)
            #expect(requested.detailValue("outcome") == "postponed until the user's next token")
            #expect(requested.externalID == oldKey && requested.actor == "uid:\(getuid())")
            #expect(try await daemon.simKey(oldKey)?.deleted == false)

            // The user comes back: WhiteBIT makes no second key while the old one lives, but
            // the new token lets wbkeyd delete the old key.
            let mark = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-rp", key: .now)
            let revoked = try await daemon.awaitEvent("key_revoked", user: "u-rp", since: mark)
            #expect(revoked.value("external_id") == oldKey)
            #expect(try await daemon.simKey(oldKey)?.deleted == true)
            #expect(try await daemon.grantState("u-rp") == "awaiting_key")

            // The next consent makes a new key, which is secured.
            let beforeThird = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-rp", key: .now)
            let secured = try await daemon.awaitEvent("secret_secured", user: "u-rp", since: beforeThird)
            let newKey = try #require(secured.value("external_id"))
            #expect(newKey != oldKey)
            #expect(try await daemon.grantState("u-rp") == "active")
            let rows = try await daemon.auditRows(user: "u-rp")
            let revokedAt = try #require(rows.firstIndex { $0.event == "key_revoked" && $0.externalID == oldKey })
            let securedAt = try #require(rows.firstIndex { $0.event == "secret_secured" && $0.externalID == newKey })
            #expect(revokedAt < securedAt, "the old key is deleted before the new one is secured")
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }
}
