import Foundation
import Testing
@testable import WhiteBITSim

@Suite struct BearerAccountTests {
    static let readScopes = ["users.transactions.read", "users.converts.read", "users.balances.read", "users.orders.read", "users.deals.read"]

    func sim(scopes: [String]? = readScopes, body: SimSettings.AccountsBody = .plain) -> SimFixture {
        var settings = SimSettings()
        settings.grantedScopes = scopes
        settings.accountsBody = body
        return SimFixture(settings: settings)
    }

    @Test func aTokenWithTheScopeReadsTheSameDataAsTheSignedPath() async throws {
        let sim = sim()
        let bearer = try await sim.bearer("u-1")
        let key = try await SignedKey.of(sim, user: "u-1")
        for (index, endpoint) in AccountEndpoint.allCases.enumerated() {
            let fields: [String: JSONValue] = [.mainBalance, .tradeBalance].contains(endpoint) ? [:] : ["limit": 5]
            let body = fields.isEmpty ? [] : Array(JSONValue.object(fields).encoded())
            let viaBearer = await sim.world.accountRead(path: endpoint.bearerPath, authorization: bearer, body: body)
            let viaKey = await sim.world.signedRequest(key.request(endpoint.signedPath, nonce: index + 1, fields: fields))
            #expect(viaBearer.status == 200, "\(endpoint)")
            #expect(viaBearer.json == viaKey.json, "\(endpoint)")
        }
    }

    @Test func withoutTheScopeTheAnswerIsUnauthorized() async throws {
        let sim = sim(scopes: ["users.balances.read"])
        let bearer = try await sim.bearer("u-1")
        #expect(await sim.world.accountRead(path: "/api/v4/accounts/balances/main", authorization: bearer, body: []).status == 200)
        let refused = await sim.world.accountRead(path: "/api/v4/accounts/transactions", authorization: bearer, body: [])
        #expect(refused.status == 401)
        #expect(refused.message == "Unauthorized.")
        #expect(await sim.world.accountRead(path: "/api/v4/accounts/balances/main", authorization: nil, body: []).status == 401)
    }

    @Test func theDefaultTokenScopesStayTheFastAPIKeyOnes() async throws {
        let sim = sim(scopes: nil)
        let bearer = try await sim.bearer("u-1")
        #expect(await sim.world.accountRead(path: "/api/v4/accounts/balances/spot", authorization: bearer, body: []).status == 401)
        let token = await sim.world.stateJSON()["tokens"]?.arrayValue?.first
        #expect(token?["scopes"] == .array(SimClient.fastAPIKeyScopes.map(JSONValue.string)))
    }

    @Test func theRequestNonceSwitchDemandsASignedStyleBody() async throws {
        let sim = sim(body: .signed)
        let bearer = try await sim.bearer("u-1")
        let path = "/api/v4/accounts/balances/main"
        let bare = await sim.world.accountRead(path: path, authorization: bearer, body: [])
        #expect(bare.status == 400)
        #expect(bare.json == ["code": 9, "message": "Request not provided."])
        let noNonce = await sim.world.accountRead(path: path, authorization: bearer, body: Array(#"{"request":"\#(path)"}"#.utf8))
        #expect(noNonce.json == ["code": 9, "message": "Nonce not provided."])
        let full = await sim.world.accountRead(path: path, authorization: bearer, body: Array(#"{"request":"\#(path)","nonce":1}"#.utf8))
        #expect(full.status == 200)
    }

    @Test func badFieldsAre422WithTheFieldNamed() async throws {
        let sim = sim()
        let bearer = try await sim.bearer("u-1")
        let answer = await sim.world.accountRead(path: "/api/v4/accounts/deals", authorization: bearer, body: Array(#"{"limit":1000}"#.utf8))
        #expect(answer.status == 422)
        #expect(answer.json == ["code": 0, "message": "Validation failed", "errors": ["limit": ["The limit must be between 1 and 500."]]])
    }

    @Test func theRateLimitCountsPerSourceAddress() async throws {
        var settings = SimSettings()
        settings.rateLimit.limits[.mainAccount] = 2
        let sim = SimFixture(settings: settings)
        let key = try await SignedKey.of(sim)
        func read(_ nonce: Int, from source: String) async -> Int {
            var request = key.request(mainBalance, nonce: nonce)
            request.source = source
            return await sim.world.signedRequest(request).status
        }
        #expect(await read(1, from: "127.0.0.2") == 200)
        #expect(await read(2, from: "127.0.0.2") == 200)
        #expect(await read(3, from: "127.0.0.2") == 429)
        #expect(await read(4, from: "127.0.0.3") == 200)
        // Trade-account reads have their own bucket.
        var trade = key.request(AccountEndpoint.tradeBalance.signedPath, nonce: 5)
        trade.source = "127.0.0.2"
        #expect(await sim.world.signedRequest(trade).status == 200)
        sim.clock.advance(milliseconds: 10_000)
        #expect(await read(6, from: "127.0.0.2") == 200)
        _ = try await sim.world.updateSettings(["rate_limit": ["enabled": false]])
        for nonce in 7...10 { #expect(await read(nonce, from: "127.0.0.2") == 200) }
    }
}
