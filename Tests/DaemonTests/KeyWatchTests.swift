import Foundation
import PKCE
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// The key in use (docs/design.md §12): a signed read right after the secret is sealed
/// proves the pair and settles which identity signs (docs/whitebit-api.md §3.6); once the
/// token has ended, probes find a key disabled or gone, or leave a healthy one dormant.
@Suite struct KeyWatchTests {
    static let watching: [String: TOMLValue] = ["keys.verify_key": .bool(true), "keys.probe_interval": "1s"]
    /// Tokens of a few seconds: keys turn dormant soon after they are secured.
    static let shortTokens = DaemonFixture.Options(
        simArguments: ["--token-lifetime", "3s"], config: watching.merging(["keys.expiry_margin": "1s"]) { $1 })

    @Test func aSecuredKeyIsVerifiedWithItsExternalID() async throws {
        try await withDaemon(DaemonFixture.Options(config: Self.watching)) { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-v")
            let verified = try await daemon.awaitEvent("key_verified", user: "u-v")
            #expect(verified.value("identity") == "external_id")
            #expect(verified.value("external_id") == externalID)
            #expect(try await daemon.auditEvents(user: "u-v").suffix(2) == ["secret_secured", "key_verified"])

            let row = try #require(try await daemon.grantRow("u-v"))
            #expect(row["key_identity"] == "external_id" && row["key_check"] == "ok" && row["key_used_at"] != nil)
            #expect(row["probe_at"] == nil, "a token watches the key: no probe is planned")
            // The simulator saw one signed read under the external id, and accepted it.
            let requests = try await daemon.admin.requestLog(externalID: externalID)
            #expect(requests.map(\.status) == [200] && requests.first?.path == "/api/v4/main-account/balance")

            let shown = try await daemon.control("show u-v")
            #expect(shown.contains("key check:") && shown.contains("ok at") && shown.contains("X-TXC-APIKEY: external_id"), "\(shown)")
        }
    }

    /// Under the `main` reading the callback's `api_key` is the value to send; the
    /// verification tries the external id, is refused, and settles on the `api_key`,
    /// which `secret` then answers.
    @Test func underTheAPIKeyReadingVerificationSettlesOnTheCallbacksKey() async throws {
        try await withDaemon(DaemonFixture.Options(config: Self.watching)) { daemon in
            _ = try await daemon.admin.updateSettings(SimAdminSettings(apiKeyHeader: "api_key"))
            let pair = PKCEPair.generate()
            let consent = try await daemon.admin.consent(user: "u-ak", codeChallenge: pair.challenge, key: .now)
            let apiKey = try #require(consent.apiKey)
            try daemon.submitAuthorization(user: "u-ak", code: consent.code, verifier: pair.verifier, apiKey: apiKey)
            let verified = try await daemon.awaitEvent("key_verified", user: "u-ak")
            #expect(verified.value("identity") == "api_key")

            let row = try #require(try await daemon.grantRow("u-ak"))
            #expect(row["key_identity"] == "api_key" && row["key_check"] == "ok")
            let secret = try await daemon.control("secret u-ak json")
            #expect(secret.contains("\"api_key\":\"\(apiKey)\""), "secret answers the identity that worked")
            #expect(!secret.contains("\"api_key\":\"\(consent.externalID ?? "-")\""))
        }
    }

    /// Neither reading works (here: the simulator answers every signed read with 500):
    /// the failure is audited with WhiteBIT's words and the key stays active, as the
    /// live token's `/info` is the truth about it.
    @Test func aFailedVerificationIsAuditedAndTheGrantStaysActive() async throws {
        try await withDaemon(DaemonFixture.Options(config: Self.watching)) { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .signed, kind: .status(500), count: 0, user: "u-vf"))
            try await daemon.activeGrant("u-vf")
            let failed = try await daemon.awaitEvent("key_verification_failed", user: "u-vf")
            #expect(failed.value("outcome") == "failed")
            let audited = try #require(try await daemon.auditRows("key_verification_failed", user: "u-vf").first)
            #expect(audited.detail.contains("500 server error") && audited.detail.contains("Server error."), "\(audited.detail)")
            #expect(try await daemon.grantState("u-vf") == "active")
            let row = try #require(try await daemon.grantRow("u-vf"))
            #expect(row["key_check"] == "failed" && row["key_used_at"] == nil)
        }
    }

    @Test func aHealthyDormantKeyIsProbedAndStaysDormant() async throws {
        try await withDaemon(Self.shortTokens) { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-h")
            try await daemon.awaitEvent("token_expired", user: "u-h")
            let probed = try await daemon.awaitEvent("key_probed", user: "u-h")
            #expect(probed.value("outcome") == "ok")
            #expect(try await daemon.grantState("u-h") == "dormant")
            let row = try #require(try await daemon.grantRow("u-h"))
            #expect(row["has_secret"] == "1" && row["probe_at"] != nil, "the next probe is planned")
            let accepted = try await daemon.admin.requestLog(externalID: externalID).filter { $0.status == 200 }
            #expect(accepted.count >= 2, "the verification and at least one probe")
        }
    }

    @Test func aDormantKeyDisabledUpstreamIsFoundDisabled() async throws {
        try await withDaemon(Self.shortTokens) { daemon in
            try await daemon.activeGrant("u-dis")
            try await daemon.awaitEvent("token_expired", user: "u-dis")
            try await daemon.admin.disableKey(user: "u-dis")
            let disabled = try await daemon.awaitEvent("key_disabled", user: "u-dis")
            #expect(disabled.value("seen") == "probe")
            #expect(try await daemon.grantState("u-dis") == "disabled")
            let probes = try await daemon.auditRows("key_probed", user: "u-dis")
            #expect(probes.contains { $0.detail.contains("\"outcome\":\"disabled\"") })
        }
    }

    /// What a deleted key answers a signed request is not documented (docs/whitebit-api.md
    /// §7); under 401 and under 404 "Key not found." it is gone.
    @Test(arguments: ["401", "404"]) func aDormantKeyDeletedUpstreamIsFoundGone(answer: String) async throws {
        try await withDaemon(Self.shortTokens) { daemon in
            _ = try await daemon.admin.updateSettings(SimAdminSettings(deletedKey: answer))
            try await daemon.activeGrant("u-g")
            try await daemon.awaitEvent("token_expired", user: "u-g")
            try await daemon.admin.deleteKey(user: "u-g")
            let gone = try await daemon.awaitEvent("key_gone", user: "u-g")
            #expect(gone.value("seen") == "probe")
            #expect(try await daemon.grantState("u-g") == "gone")
            let row = try #require(try await daemon.grantRow("u-g"))
            #expect(row["has_secret"] == "0" && row["probe_at"] == nil, "a gone key's secret is wiped and no longer probed")
        }
    }

    /// Under the 403 reading a deleted key answers with WhiteBIT's words for a disabled
    /// one ("Enable your key"): nothing tells the two apart, so the grant is `disabled`
    /// (only the user can act on it either way) and its probes go on.
    @Test func underThe403ReadingADeletedKeyLooksDisabled() async throws {
        try await withDaemon(Self.shortTokens) { daemon in
            _ = try await daemon.admin.updateSettings(SimAdminSettings(deletedKey: "403"))
            try await daemon.activeGrant("u-403")
            try await daemon.awaitEvent("token_expired", user: "u-403")
            try await daemon.admin.deleteKey(user: "u-403")
            let disabled = try await daemon.awaitEvent("key_disabled", user: "u-403")
            #expect(disabled.value("seen") == "probe")
            #expect(try await daemon.grantState("u-403") == "disabled")
            let probe = try #require(try await daemon.auditRows("key_probed", user: "u-403").last)
            #expect(probe.detail.contains("Enable your key"), "\(probe.detail)")
            let row = try #require(try await daemon.grantRow("u-403"))
            #expect(row["has_secret"] == "1" && row["probe_at"] != nil)
        }
    }

    @Test func withProbesOffADormantKeyIsLeftAlone() async throws {
        var options = Self.shortTokens
        options.config["keys.probe_interval"] = "off"
        try await withDaemon(options) { daemon in
            try await daemon.activeGrant("u-off")
            try await daemon.awaitEvent("key_verified", user: "u-off")
            try await daemon.awaitEvent("token_expired", user: "u-off")
            #expect(try await daemon.grantState("u-off") == "dormant")
            let row = try #require(try await daemon.grantRow("u-off"))
            #expect(row["probe_at"] == nil, "nothing planned")
            let shown = try await daemon.control("show u-off json")
            #expect(shown.contains("\"next_key_check_at\":null"), "\(shown)")
        }
    }
}
