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
}
