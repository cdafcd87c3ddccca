import Testing
@testable import WhiteBITSim

/// The per-IP rate limit of `docs/whitebit-api.md` §5.4 on the model, with a manual clock.
@Suite struct RateLimitTests {
    static func sim(_ limits: JSONValue) async throws -> SimFixture {
        let sim = SimFixture()
        _ = try await sim.world.updateSettings(["rate_limit": limits])
        return sim
    }

    @Test func eachAddressHasItsOwnBudgetAndEachScopeItsOwnBucket() async throws {
        let sim = try await Self.sim(["main_account": 2])
        let world = sim.world
        #expect(await world.limitRate(source: "127.0.0.2", path: mainBalance, apiKey: nil) == nil)
        #expect(await world.limitRate(source: "127.0.0.2", path: mainBalance, apiKey: nil) == nil)
        let refused = await world.limitRate(source: "127.0.0.2", path: mainBalance, apiKey: nil)
        #expect(refused == .json(429, ["code": 0, "message": "Too many requests."]))
        #expect(await world.limitRate(source: "127.0.0.3", path: mainBalance, apiKey: nil) == nil)
        #expect(await world.limitRate(source: "127.0.0.2", path: "/api/v4/trade-account/balance", apiKey: nil) == nil)
        #expect(await world.counters()["sources"] == [
            "127.0.0.2": ["requests": 4, "rate_limited": 1], "127.0.0.3": ["requests": 1, "rate_limited": 0],
        ])
    }

    @Test func theWindowSlides() async throws {
        let sim = try await Self.sim(["default": 2, "window_ms": 10_000])
        func status() async -> Int? { await sim.world.limitRate(source: "127.0.0.2", path: "/oauth2/token", apiKey: nil)?.status }
        #expect(await status() == nil)
        sim.clock.advance(milliseconds: 6_000)
        #expect(await status() == nil)
        sim.clock.advance(milliseconds: 3_990)
        #expect(await status() == 429)
        // 10.01 s: the first request has left the window; the second (4.01 s old) has not.
        sim.clock.advance(milliseconds: 20)
        #expect(await status() == nil)
        #expect(await status() == 429)
        // 15.01 s: a fixed window from 10 s would admit two more here; the sliding one still
        // holds the requests of 6 s and 10.01 s, until the first of them leaves at 16 s.
        sim.clock.advance(milliseconds: 5_000)
        #expect(await status() == 429)
        sim.clock.advance(milliseconds: 1_010)
        #expect(await status() == nil)
        #expect(await status() == 429)
    }

    @Test func oauthEndpointsShareTheDefaultBudgetAndAnswerInTheOAuthShape() async throws {
        let sim = try await Self.sim(["default": 2])
        let world = sim.world
        #expect(await world.limitRate(source: "127.0.0.2", path: "/api/v4/convert/history", apiKey: nil) == nil)
        #expect(await world.limitRate(source: "127.0.0.2", path: "/oauth2/api-key/info", apiKey: nil) == nil)
        let token = await world.limitRate(source: "127.0.0.2", path: "/oauth2/token", apiKey: nil)
        #expect(token == .json(429, ["data": ["message": ["Too many requests."]]]))
        let convert = await world.limitRate(source: "127.0.0.2", path: "/api/v4/convert/history", apiKey: nil)
        #expect(convert == .json(429, ["code": 0, "message": "Too many requests."]))
        #expect(await world.limitRate(source: "127.0.0.2", path: "/api/v4/public/ticker", apiKey: nil) == nil)
    }

    @Test func aRefusedSignedRequestLandsInItsKeysLog() async throws {
        let sim = try await Self.sim(["main_account": 1])
        let key = try await SignedKey.of(sim)
        #expect(await sim.world.limitRate(source: "127.0.0.2", path: mainBalance, apiKey: key.externalID) == nil)
        #expect(await sim.world.limitRate(source: "127.0.0.2", path: mainBalance, apiKey: key.externalID)?.status == 429)
        let log = try await sim.world.requestLog(of: key.externalID)
        #expect(log.map(\.status) == [429] && log.first?.source == "127.0.0.2" && log.first?.nonce == nil)
    }

    @Test func aDisabledLimitAdmitsEverythingAndStillCountsAddresses() async throws {
        let sim = try await Self.sim(["enabled": false, "default": 0])
        for _ in 0..<5 { #expect(await sim.world.limitRate(source: "::1", path: "/oauth2/token", apiKey: nil) == nil) }
        #expect(await sim.world.counters()["sources"] == ["::1": ["requests": 5, "rate_limited": 0]])
        await sim.world.reset()
        #expect(await sim.world.counters()["sources"] == [:])
    }
}
