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
}
