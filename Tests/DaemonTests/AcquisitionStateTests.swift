import Foundation
import PKCE
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// The states on the way to a secured key (docs/design.md §5), each reached end to end: real
/// wbkeyd, real whitebit-sim, real spool files, real SQLite.
@Suite struct AcquisitionStateTests {
    @Test func aConsentBecomesAnActiveGrantWithItsSecretSealed() async throws {
        try await withDaemon { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-1")

            #expect(try await daemon.grantState("u-1") == "active")
            #expect(try await daemon.auditEvents(user: "u-1") == ["authorization_received", "token_exchanged", "key_detected", "secret_secured"])
            let secured = try #require(try await daemon.auditRows("secret_secured", user: "u-1").first)
            #expect(secured.externalID == externalID && secured.actor == "wbkeyd")
            let row = try #require(try await daemon.grantRow("u-1"))
            #expect(row["state"] == "active" && row["external_id"] == externalID && row["secret_external_id"] == externalID)
            #expect(row["has_secret"] == "1" && row["has_token"] == "1")
            #expect(row["has_code"] == "0" && row["has_verifier"] == "0", "the spent code and verifier are wiped")
            let key = try #require(try await daemon.simKey(externalID))
            #expect(key.secretFetches == 1 && key.secretRetrieved && !key.deleted)
            daemon.expectSpoolDrained()

            // The sealed secret opens to the one WhiteBIT handed out, and reading it is audited.
            let answer = try await daemon.control("secret u-1 json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
            #expect(same(object["api_secret"] as? String, key.apiSecret), "the secret read back is not the one WhiteBIT gave")
            #expect(object["external_id"] as? String == externalID)
            #expect(try await daemon.auditRows("secret_read", user: "u-1").first?.actor == "uid:\(getuid())")
        }
    }

    @Test func aGrantIsPendingWhileTheTokenExchangeIsUnderWay() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .latency(milliseconds: 5000), user: "u-p"))
            try await daemon.consentAndSubmit(user: "u-p", key: .now)
            try await daemon.awaitEvent("authorization_received", user: "u-p")

            #expect(try await daemon.grantState("u-p") == "pending")
            let row = try #require(try await daemon.grantRow("u-p"))
            #expect(row["has_code"] == "1" && row["has_verifier"] == "1" && row["has_token"] == "0")

            try await daemon.awaitEvent("secret_secured", user: "u-p")
            #expect(try await daemon.grantState("u-p") == "active")
            #expect(try await daemon.auditEvents(user: "u-p") == ["authorization_received", "token_exchanged", "key_detected", "secret_secured"])
        }
    }

    @Test func aGrantAwaitsAKeyThatAppearsLate() async throws {
        try await withDaemon { daemon in
            try await daemon.consentAndSubmit(user: "u-late", key: .after(milliseconds: 6000))
            try await daemon.awaitEvent("token_exchanged", user: "u-late")

            #expect(try await daemon.grantState("u-late") == "awaiting_key")
            #expect(try await daemon.grantRow("u-late")?["has_token"] == "1")

            let secured = try await daemon.awaitEvent("secret_secured", user: "u-late")
            #expect(try await daemon.grantState("u-late") == "active")
            #expect(try await daemon.auditEvents(user: "u-late") == ["authorization_received", "token_exchanged", "key_detected", "secret_secured"])
            let state = try await daemon.admin.state()
            #expect((state.requests["info"] ?? 0) >= 2, "/info was polled while the key was missing")
            #expect(state.key(secured.value("external_id") ?? "")?.secretFetches == 1)
        }
    }

    @Test func aGrantIsSecuringWhileTheSecretIsBeingFetched() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .latency(milliseconds: 5000), user: "u-s"))
            try await daemon.consentAndSubmit(user: "u-s", key: .now)
            let detected = try await daemon.awaitEvent("key_detected", user: "u-s")
            let externalID = try #require(detected.value("external_id"))

            #expect(try await daemon.grantState("u-s") == "securing")
            #expect(try await daemon.grantRow("u-s")?["has_secret"] == "0")

            try await daemon.awaitEvent("secret_secured", user: "u-s")
            #expect(try await daemon.grantState("u-s") == "active")
            #expect(try await daemon.simKey(externalID)?.secretFetches == 1, "one retrieval, however long it took")
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }

    @Test func aWrongVerifierFailsTheGrant() async throws {
        try await withDaemon { daemon in
            let authorization = try await daemon.admin.authorize(user: "u-bad", key: .never)
            try daemon.submitAuthorization(user: "u-bad", code: authorization.code, verifier: PKCEPair.generate().verifier)
            let failed = try await daemon.awaitEvent("token_exchange_failed", user: "u-bad")

            #expect(try await daemon.grantState("u-bad") == "failed")
            #expect(try await daemon.auditEvents(user: "u-bad") == ["authorization_received", "token_exchange_failed"])
            let row = try #require(try await daemon.grantRow("u-bad"))
            #expect(row["reason"]?.contains("refused the token exchange") == true, "reason: \(row["reason"] ?? "none")")
            #expect(row["has_code"] == "0" && row["has_verifier"] == "0" && row["has_token"] == "0")
            #expect(failed.level == "warning")
        }
    }

    @Test func aReusedCodeFailsTheGrantAndTheSameFileTwiceIsADuplicate() async throws {
        try await withDaemon { daemon in
            let (consent, _) = try await daemon.activeGrant("u-a")
            let code = consent.authorization.code
            let verifier = consent.authorization.verifier

            // The same user and code again: recorded once, as a duplicate, no call made.
            let tokenRequests = try await daemon.admin.state().requests["token"]
            let again = try daemon.submitAuthorization(user: "u-a", code: code, verifier: verifier)
            let duplicate = try await daemon.awaitEvent("authorization_duplicate", user: "u-a")
            #expect(duplicate.value("file") == again)
            #expect(try await daemon.auditRows("authorization_duplicate", user: "u-a").first?.detailValue("file") == again)

            // The spent code for another user: WhiteBIT refuses it.
            try daemon.submitAuthorization(user: "u-b", code: code, verifier: verifier)
            try await daemon.awaitEvent("token_exchange_failed", user: "u-b")
            #expect(try await daemon.grantState("u-b") == "failed")
            #expect(try await daemon.grantState("u-a") == "active")
            #expect(try await daemon.admin.state().requests["token"] == (tokenRequests ?? 0) + 1, "only u-b's file reached WhiteBIT")
            daemon.expectSpoolDrained()
        }
    }
}
