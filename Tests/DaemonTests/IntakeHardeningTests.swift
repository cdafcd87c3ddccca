import Foundation
import Sensitive
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// Issue 12: what a spool file may change, and what it must leave alone.
@Suite struct IntakeHardeningTests {
    /// Item 12: a code that ages out (WhiteBIT unreachable the whole time) leaves no sealed
    /// code or verifier behind; they go in the commit that fails the grant.
    @Test func aCodeThatAgesOutLeavesNoSealedCodeOrVerifier() async throws {
        try await withDaemon(DaemonFixture.Options(config: ["spool.max_code_age": "10s"])) { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .status(503), count: 0, user: "u-age"))
            let consent = try await daemon.admin.authorize(user: "u-age", key: .now)
            try daemon.submitAuthorization(
                user: "u-age", code: consent.code, verifier: consent.verifier, receivedAt: Date().addingTimeInterval(-4))
            #expect(try await daemon.awaitState("failed", user: "u-age", deadline: .seconds(30)) == "failed")
            let row = try #require(try await daemon.grantRow("u-age"))
            #expect(row["has_code"] == "0" && row["has_verifier"] == "0", "\(row)")
        }
    }

    /// Item 14b: two partner users whose consents land on one WhiteBIT account see the same
    /// key. The second once fetched its secret (409), went `lost` and DELETEd the first
    /// user's key; now it fails before any call on that key, and the first keeps it.
    @Test func aSecondPartnerUserOnTheSameWhiteBITAccountFailsWithoutTouchingTheFirstsKey() async throws {
        try await withDaemon { daemon in
            let first = try await daemon.admin.authorize(user: "w-shared", key: .now)
            try daemon.submitAuthorization(user: "u-first", code: first.code, verifier: first.verifier)
            let secured = try await daemon.awaitEvent("secret_secured", user: "u-first")
            let key = try #require(secured.value("external_id"))

            let mark = daemon.logMark
            let second = try await daemon.admin.authorize(user: "w-shared", key: .now)
            try daemon.submitAuthorization(user: "u-second", code: second.code, verifier: second.verifier)
            #expect(try await daemon.awaitState("failed", user: "u-second", deadline: .seconds(30)) == "failed")
            let detected = try await daemon.awaitEvent("key_detected", user: "u-second", since: mark)
            #expect(detected.value("external_id") == key)
            #expect(detected.value("held_by_grant_of") == "u-first")

            let row = try #require(try await daemon.grantRow("u-second"))
            #expect(row["reason"]?.hasPrefix("key_held_by_another_grant") == true, "\(row)")
            #expect(row["has_secret"] == "0" && row["has_token"] == "0", "\(row)")
            let audit = try await daemon.auditEvents(user: "u-second")
            #expect(!audit.contains("secret_lost") && !audit.contains("key_revoked"), "\(audit)")

            // The first user's key lives, and only its own grant ever asked for the secret.
            let simKey = try #require(try await daemon.simKey(key))
            #expect(!simKey.deleted)
            #expect(try await daemon.admin.state().requests["secret"] == 1)
            #expect(try await daemon.admin.state().requests["delete"] ?? 0 == 0)
            #expect(try await daemon.grantState("u-first") == "active")
            let firstRow = try #require(try await daemon.grantRow("u-first"))
            #expect(firstRow["secret_external_id"] == key && firstRow["has_secret"] == "1")
        }
    }

    /// Item 10: a later spool file's `api_key` once replaced the one `secret` answers for an
    /// active grant.
    @Test func aLaterFileCannotReplaceTheApiKeyOfAnActiveGrant() async throws {
        try await withDaemon { daemon in
            let first = try await daemon.admin.authorize(user: "u-key", key: .now)
            try daemon.submitAuthorization(user: "u-key", code: first.code, verifier: first.verifier, apiKey: "pub-genuine")
            try await daemon.awaitEvent("secret_secured", user: "u-key")

            let mark = daemon.logMark
            let later = try await daemon.admin.authorize(user: "u-key", key: .now)
            let file = try daemon.submitAuthorization(user: "u-key", code: later.code, verifier: later.verifier, apiKey: "pub-forged")
            try await daemon.awaitLine(since: mark) { $0.isEvent("authorization_received", user: "u-key") && $0.value("file") == file }
            try await daemon.awaitEvent("token_exchanged", user: "u-key", since: mark)
            #expect(try await daemon.awaitState("active", user: "u-key") == "active")
            let rows = try await daemon.sqliteRows("SELECT api_key FROM grants WHERE \"user\" = 'u-key'")
            #expect(rows.first?["api_key"] == "pub-genuine", "\(rows)")
        }
    }

    /// Item 9: the delivery's fingerprint was taken from its escaped name, which names no
    /// file: two deliveries under a name with escaped bytes looked like one, and the second
    /// was refused without an audit row.
    @Test func aRedeliveryUnderANameWithEscapedBytesIsAuditedAgain() async throws {
        try await withDaemon { daemon in
            let name = "bad name\u{7F}ü"
            let escaped = "bad%20name%7F%C3%BC"
            for round in 1...2 {
                let mark = daemon.logMark
                try daemon.deliver(Array("{\"type\": \"nonsense\"}".utf8), as: name)
                try await daemon.awaitLine(since: mark, describedAs: "rejection \(round)") {
                    $0.isEvent("authorization_rejected") && $0.value("file") == escaped
                }
                #expect(try await eventually { daemon.rejectedFiles.count == round })
            }
            let rows = try await daemon.auditRows().filter { $0.event == "authorization_rejected" }
            #expect(rows.count == 2, "\(rows)")
            #expect(rows.allSatisfy { $0.detailValue("file") == escaped })
        }
    }
}
