import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// While a token lives, `/info` is the truth: what the user does in the dashboard moves
/// the grant at the next reconcile (here asked for on the control socket).
@Suite struct ReconcileStateTests {
    @Test func aKeyTheUserDeletedIsGoneAfterAReconcile() async throws {
        try await withDaemon { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-g")
            try await daemon.admin.deleteKey(user: "u-g")

            let preview = try await daemon.control("reconcile u-g dry-run")
            #expect(preview.contains("would move from active to gone"), "\(preview)")
            #expect(try await daemon.grantState("u-g") == "active", "a dry run changes nothing")

            let answer = try await daemon.control("reconcile u-g")
            #expect(answer.contains("moved from active to gone"), "\(answer)")
            #expect(try await daemon.grantState("u-g") == "gone")
            let events = try await daemon.auditEvents(user: "u-g")
            #expect(events.suffix(2) == ["key_gone", "reconcile_drift"])
            #expect(try await daemon.auditRows("key_gone", user: "u-g").first?.externalID == externalID)
            #expect(try await daemon.auditRows("reconcile_drift", user: "u-g").first?.detailValue("to") == "gone")
            #expect(try await daemon.grantRow("u-g")?["has_secret"] == "0")
        }
    }

    /// The user replaced the key (deleted it, consented again) without a spool file
    /// reaching wbkeyd: the old key is gone, the new one is secured like a fresh one.
    @Test func anotherKeyFoundOnReconcileIsSecuredAndTheOldOneIsGone() async throws {
        try await withDaemon { daemon in
            let (_, oldKey) = try await daemon.activeGrant("u-n")
            try await daemon.admin.deleteKey(user: "u-n")
            let newKey = try #require(try await daemon.admin.authorize(user: "u-n", key: .now).externalID)

            let mark = daemon.logMark
            let answer = try await daemon.control("reconcile u-n")
            // The answer says what changed, though the grant ends in the state it began in.
            #expect(answer.contains("u-n: active, key \(oldKey) replaced by \(newKey)"), "\(answer)")
            #expect(answer.contains("reconcile_drift") && answer.contains("key_gone") && answer.contains("secret_secured"), "\(answer)")
            let secured = try await daemon.awaitEvent("secret_secured", user: "u-n", since: mark)
            #expect(secured.value("external_id") == newKey)
            #expect(try await daemon.grantState("u-n") == "active")
            let drift = try #require(try await daemon.auditRows("reconcile_drift", user: "u-n").first)
            #expect(drift.detailValue("new_external_id") == newKey)
            #expect(try await daemon.auditRows("key_gone", user: "u-n").first?.externalID == oldKey)
            let row = try #require(try await daemon.grantRow("u-n"))
            #expect(row["external_id"] == newKey && row["secret_external_id"] == newKey && row["has_secret"] == "1")
            #expect(try await daemon.simKey(newKey)?.secretFetches == 1)
            try await daemon.expectNoKeyWithoutSecretOrDeletion()
        }
    }

    @Test func aKeyWhiteBITDisabledIsDisabledAfterAReconcile() async throws {
        try await withDaemon { daemon in
            let (_, externalID) = try await daemon.activeGrant("u-x")
            try await daemon.admin.disableKey(user: "u-x")

            let answer = try await daemon.control("reconcile u-x")
            #expect(answer.contains("moved from active to disabled"), "\(answer)")
            #expect(try await daemon.grantState("u-x") == "disabled")
            #expect(try await daemon.auditEvents(user: "u-x").suffix(2) == ["key_disabled", "reconcile_drift"])
            #expect(try await daemon.auditRows("key_disabled", user: "u-x").first?.externalID == externalID)
            // Disabled: only the user can delete it, so a revoke is refused and nothing is called.
            let deletes = try await daemon.admin.state().requests["delete"] ?? 0
            let revoke = try await daemon.control("revoke u-x")
            #expect(revoke.contains("disabled"), "\(revoke)")
            #expect(try await daemon.admin.state().requests["delete"] ?? 0 == deletes)
        }
    }
}
