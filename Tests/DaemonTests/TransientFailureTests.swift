import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// WhiteBIT answers that are not final (docs/design.md §5): 5xx and dropped connections are
/// retried, 423 on a secret backs off 5 s, 404 on a secret sends the grant back to `/info`.
@Suite struct TransientFailureTests {
    @Test func aTokenExchangeThatFailsTransientlyIsRetried() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .status(503), user: "u-1"))
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .drop, user: "u-1"))
            try await daemon.consentAndSubmit(user: "u-1", key: .now)
            try await daemon.awaitEvent("secret_secured", user: "u-1")

            #expect(try await daemon.auditEvents(user: "u-1") == ["authorization_received", "token_exchanged", "key_detected", "secret_secured"])
            let state = try await daemon.admin.state()
            #expect(state.responses["token 503"] == 1 && state.responses["token dropped"] == 1 && state.responses["token 200"] == 1)
        }
    }

    @Test func aLockedSecretIsFetchedAgainAfterFiveSeconds() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .status(423), user: "u-2"))
            try await daemon.consentAndSubmit(user: "u-2", key: .now)
            let secured = try await daemon.awaitEvent("secret_secured", user: "u-2")

            let rows = try await daemon.auditRows(user: "u-2")
            #expect(rows.map(\.event) == ["authorization_received", "token_exchanged", "key_detected", "secret_secured"])
            let detected = try #require(rows.first { $0.event == "key_detected" })
            let done = try #require(rows.first { $0.event == "secret_secured" })
            let waited = try #require(Self.seconds(between: detected.at, and: done.at))
            #expect(waited >= 5, "the 423 ladder starts at 5 s; waited \(waited) s")
            let state = try await daemon.admin.state()
            #expect(state.responses["secret 423"] == 1 && state.responses["secret 200"] == 1)
            #expect(state.key(secured.value("external_id") ?? "")?.secretFetches == 1, "the injected 423 served nothing")
        }
    }

    @Test func aSecretAnswered404SendsTheGrantBackToInfo() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .status(404), user: "u-3"))
            try await daemon.consentAndSubmit(user: "u-3", key: .now)
            let secured = try await daemon.awaitEvent("secret_secured", user: "u-3")

            #expect(
                try await daemon.auditEvents(user: "u-3")
                    == ["authorization_received", "token_exchanged", "key_detected", "key_detected", "secret_secured"])
            let state = try await daemon.admin.state()
            #expect((state.requests["info"] ?? 0) >= 2, "back to /info after the 404")
            #expect(state.key(secured.value("external_id") ?? "")?.secretFetches == 1, "a 404 is not a retrieval")
        }
    }

    static func seconds(between start: String, and end: String) -> Double? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let a = formatter.date(from: start), let b = formatter.date(from: end) else { return nil }
        return b.timeIntervalSince(a)
    }
}
