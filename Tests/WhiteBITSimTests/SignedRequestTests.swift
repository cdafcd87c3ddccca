import Foundation
import Testing
@testable import WhiteBITSim

@Suite struct SignedRequestTests {
    @Test func aSignedBalanceReadIsAnsweredFromTheUsersData() async throws {
        let sim = SimFixture()
        let key = try await SignedKey.of(sim)
        let answer = await sim.world.signedRequest(key.request(mainBalance, nonce: nonceBase))
        #expect(answer.status == 200)
        let data = AccountData(user: key.user, now: sim.clock.now)
        let btc = try #require(data.balances.first { $0.ticker == "BTC" })
        #expect(answer.json?["BTC"] == ["main_balance": .string(btc.main)])
        #expect(answer.json?.objectValue?.count == AccountData.tickers.count)
    }

    @Test func payloadAndBodyErrorsAreTheDocumentedOnes() async throws {
        let sim = SimFixture()
        let key = try await SignedKey.of(sim)
        var request = key.request(mainBalance, nonce: nonceBase)
        func expect(_ request: SignedRequest, _ status: Int, _ code: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) async {
            let answer = await sim.world.signedRequest(request)
            #expect(answer.status == status, sourceLocation: sourceLocation)
            #expect(answer.json == ["code": .integer(code), "message": .string(message)], sourceLocation: sourceLocation)
        }
        request.payload = nil
        await expect(request, 400, 9, "Payload not provided.")
        request = key.request(mainBalance, nonce: nonceBase)
        request.body = Array(#"{"nonce":1800000000000,"request":"/api/v4/main-account/balance","ticker":"BTC"}"#.utf8)
        await expect(request, 400, 9, "Invalid payload")
        let spaced = Array(#"{"request": "/api/v4/main-account/balance", "nonce": 1800000000000}"#.utf8)
        await expect(SignedKey.signed(mainBalance, body: spaced, key: key.externalID, secret: key.secret), 400, 9, "Invalid payload.")
        let noRequest = Array(#"{"nonce":1800000000000}"#.utf8)
        await expect(SignedKey.signed(mainBalance, body: noRequest, key: key.externalID, secret: key.secret), 400, 9, "Request not provided.")
        let noNonce = Array(#"{"request":"/api/v4/main-account/balance"}"#.utf8)
        await expect(SignedKey.signed(mainBalance, body: noNonce, key: key.externalID, secret: key.secret), 400, 9, "Nonce not provided.")
        let badWindow = Array(#"{"nonce":1800000000000,"nonceWindow":"yes","request":"/api/v4/main-account/balance"}"#.utf8)
        await expect(SignedKey.signed(mainBalance, body: badWindow, key: key.externalID, secret: key.secret), 400, 9, "Invalid nonceWindow.")
        let otherPath = key.request(AccountEndpoint.tradeBalance.signedPath, nonce: nonceBase)
        await expect(SignedRequest(path: mainBalance, apiKey: otherPath.apiKey, payload: otherPath.payload, signature: otherPath.signature, body: otherPath.body), 400, 9, "Invalid payload")
        await expect(key.request(mainBalance, nonce: nonceBase, secret: "0123456789abcdef0123456789abcdef"), 401, 0, "Unauthorized request.")
        await expect(key.request(mainBalance, nonce: nonceBase, header: "no-such-key"), 401, 0, "Unauthorized request.")
        // None of these spent the nonce: it is still good.
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: nonceBase)).status == 200)
    }

    @Test func noncesMustIncreaseOrFitTheWindowOnce() async throws {
        let sim = SimFixture()
        let key = try await SignedKey.of(sim)
        let clock = Int(sim.clock.now.timeIntervalSince1970 * 1000)
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 5)).status == 200)
        for stale in [5, 4] {
            let answer = await sim.world.signedRequest(key.request(mainBalance, nonce: stale))
            #expect(answer.status == 429)
            #expect(answer.json == ["code": 0, "message": "Too many requests."])
        }
        // In the window, order does not matter, but each nonce counts once.
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: clock + 2_000, window: true)).status == 200)
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: clock - 2_000, window: true)).status == 200)
        let repeated = await sim.world.signedRequest(key.request(mainBalance, nonce: clock - 2_000, window: true))
        #expect(repeated.status == 429)
        #expect(repeated.v4Message == "Too many requests.")
        for outside in [clock - 5_001, clock + 5_001] {
            let answer = await sim.world.signedRequest(key.request(mainBalance, nonce: outside, window: true))
            #expect(answer.status == 400)
            #expect(answer.json == ["code": 9, "message": "Your nonce is more than 5 seconds lesser than the current nonce"])
        }
        // A plain nonce must now exceed the highest windowed one.
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: clock + 1_000)).status == 429)
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: clock + 2_001)).status == 200)
        // The nonce may come quoted, as the docs' own table writes it.
        let quoted = SignedKey.signed(mainBalance, body: Array(#"{"nonce":"\#(clock + 3_000)","request":"\#(mainBalance)"}"#.utf8), key: key.externalID, secret: key.secret)
        #expect(await sim.world.signedRequest(quoted).status == 200)
    }

    @Test func everySignedRequestLandsInTheKeysLog() async throws {
        let sim = SimFixture()
        let key = try await SignedKey.of(sim)
        #expect(try await sim.world.requestLog(of: key.externalID).isEmpty)
        _ = await sim.world.signedRequest(key.request(mainBalance, nonce: 10))
        _ = await sim.world.signedRequest(key.request(mainBalance, nonce: 10))
        _ = await sim.world.signedRequest(key.request(mainBalance, nonce: 11, secret: "wrong"))
        let log = try await sim.world.requestLog(of: key.externalID)
        #expect(log.map(\.status) == [200, 429, 401])
        #expect(log.map(\.nonce) == [10, 10, 11])
        #expect(log.map(\.message) == [nil, "Too many requests.", "Unauthorized request."])
        #expect(log.allSatisfy { $0.path == mainBalance })
    }
}
