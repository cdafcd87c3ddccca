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
