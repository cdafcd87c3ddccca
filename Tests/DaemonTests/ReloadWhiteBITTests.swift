import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// The `[whitebit]` keys a reload applies: the client is rebuilt with them, and the next
/// calls show it at the simulator.
@Suite struct ReloadWhiteBITTests {
    @Test func redirectURIReachesAuthorizeURLAndTheTokenExchange() async throws {
        try await withDaemon { daemon in
            // This WhiteBIT insists on redirect_uri in the token request.
            try await daemon.admin.updateSettings(SimAdminSettings(tokenRedirectURI: "required"))
            #expect(try await redirectURI(daemon) == SimDefaults.redirectURI)
            try await daemon.activeGrant("u-1")

            try await daemon.reload(["whitebit.redirect_uri": "https://partner.example/elsewhere"])
            #expect(try await redirectURI(daemon) == "https://partner.example/elsewhere")

            try await daemon.reload(["whitebit.redirect_uri": ""])
            #expect(try await daemon.control("authorize-url u-9") == "error: whitebit.redirect_uri is not set; authorize-url needs it\n")
            // The rebuilt client sends none, which this WhiteBIT refuses.
            let mark = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-2", key: .now)
            try await daemon.awaitEvent("token_exchange_failed", user: "u-2", since: mark)
            #expect(try await daemon.admin.state().responses["token 422"] == 1)
            #expect(try await daemon.grantState("u-2") == "failed")
        }
    }

    @Test func requestTimeoutBoundsTheNextCalls() async throws {
        try await withDaemon(.init(config: ["whitebit.request_timeout": "1m"])) { daemon in
            // Three seconds is nothing against a minute.
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .info, kind: .latency(milliseconds: 3000), user: "u-1"))
            let mark = daemon.logMark
            try await daemon.activeGrant("u-1")
            #expect(try !daemon.process.lines[mark.line...].contains { $0.isEvent("whitebit_request_failed") })

            try await daemon.reload(["whitebit.request_timeout": "1s"])
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .info, kind: .latency(milliseconds: 3000), user: "u-2"))
            let after = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-2", key: .now)
            let failed = try await daemon.awaitEvent("whitebit_request_failed", since: after)
            #expect(failed.text.contains("endpoint=GET /oauth2/api-key/info "), "\(failed)")
            #expect(failed.text.hasSuffix("no complete answer within the request timeout"), "\(failed)")
            // The retry finds no fault left: the daemon carries on.
            try await daemon.awaitEvent("secret_secured", user: "u-2", since: after)
        }
    }

    @Test func rateLimitSpacesTheNextCalls() async throws {
        try await withDaemon(.init(config: ["whitebit.rate_limit": 1000])) { daemon in
            try await daemon.activeGrant("u-1")
            try await daemon.reload(["whitebit.rate_limit": .raw("0.2")])
            // Token, /info and secret at one request per 5 s (a bucket of one): at least 10 s.
            // A lower bound, so load can only make it hold more surely.
            let started = ContinuousClock.now
            try await daemon.activeGrant("u-2")
            let elapsed = started.duration(to: .now)
            #expect(elapsed >= .seconds(9), "u-2 was secured \(elapsed) after its consent")
            let requests = try await daemon.admin.state().requests
            #expect(requests["token"] == 2 && requests["info"] == 2 && requests["secret"] == 2, "\(requests)")
            // The rebuilt client counts on from the old one's six requests.
            let status = try JSONSerialization.jsonObject(with: Data(try await daemon.control("status json").utf8)) as? [String: Any]
            #expect((status?["whitebit"] as? [String: Any])?["requests"] as? Int == 6, "\(status ?? [:])")
        }
    }

    /// Every call leaves from `whitebit.source_address` (what WhiteBIT's per-IP limits
    /// count); a reload moves the next connections to the new address.
    @Test func sourceAddressIsWhereTheCallsComeFromAndAReloadMovesIt() async throws {
        // verify_key: a signed read per key, which the simulator's key log shows with its source.
        try await withDaemon(.init(config: ["whitebit.source_address": "127.0.0.2", "keys.verify_key": .bool(true)])) { daemon in
            let first = try await daemon.activeGrant("u-1")
            try await daemon.awaitEvent("key_verified", user: "u-1")
            #expect(try await daemon.admin.requestLog(externalID: first.externalID).map(\.source) == ["127.0.0.2"])
            let before = try await daemon.admin.counts().sources
            // Token, /info, secret and the verifying signed read, all from the one address.
            #expect(Set(before.keys) == ["127.0.0.2"] && (before["127.0.0.2"]?.requests ?? 0) >= 4, "\(before)")

            try await daemon.reload(["whitebit.source_address": "127.0.0.3"])
            let second = try await daemon.activeGrant("u-2")
            try await daemon.awaitEvent("key_verified", user: "u-2")
            #expect(try await daemon.admin.requestLog(externalID: second.externalID).map(\.source) == ["127.0.0.3"])
            let after = try await daemon.admin.counts().sources
            #expect(after["127.0.0.2"] == before["127.0.0.2"], "the old address sent nothing more: \(after)")
            #expect(Set(after.keys) == ["127.0.0.2", "127.0.0.3"] && (after["127.0.0.3"]?.requests ?? 0) >= 4, "\(after)")
        }
    }

    /// Calls wait for a slot without a deadline, so one held answer blocks every call
    /// behind it at a limit of one.
    @Test func maxConcurrencyLetsMoreCallsOutAtOnce() async throws {
        let options = DaemonFixture.Options(config: ["whitebit.max_concurrency": 1, "whitebit.request_timeout": "5m"])
        try await withDaemon(options) { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .info, kind: .latency(milliseconds: 240_000), user: "u-held"))
            try await daemon.consentAndSubmit(user: "u-held", key: .now)
            #expect(try await eventually { try await daemon.simRequests("info") == 1 })

            let mark = daemon.logMark
            try await daemon.consentAndSubmit(user: "u-2", key: .now)
            try await daemon.awaitEvent("authorization_received", user: "u-2", since: mark)
            // A window against an answer held for four minutes: u-2's exchange stays queued.
            try await Task.sleep(for: .seconds(2))
            #expect(try await daemon.simRequests("token") == 1, "u-2's exchange went out beside the held call at max_concurrency 1")

            try await daemon.reload(["whitebit.max_concurrency": 4])
            // The rebuilt client has slots of its own: u-3 goes through while u-held waits.
            try await daemon.activeGrant("u-3")
            #expect(try await daemon.grantState("u-held") == "awaiting_key")
            #expect(try await daemon.admin.state().responses["info 200"] == 1, "only u-3's /info was answered")
            // A graceful stop would wait for the held call.
            try await daemon.kill9()
        }
    }
}
