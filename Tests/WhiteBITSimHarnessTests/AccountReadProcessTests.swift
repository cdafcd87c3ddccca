import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import WhiteBITSimHarness

@Suite struct AccountReadProcessTests {
    static let readScopes = ["users.transactions.read", "users.converts.read", "users.balances.read", "users.orders.read", "users.deals.read"]

    func post(_ sim: SimProcess, _ path: String, bearer: String, body: String) async throws -> Partner.Answer {
        var request = HTTPClientRequest(url: sim.url(path))
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Partner.Answer(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
    }

    @Test func bearerReadsNeedTheScopeTheSettingGrants() async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let plain = try await partner.accessToken(user: "u-1")
            let refused = try await post(sim, "/api/v4/accounts/balances/main", bearer: plain, body: "{}")
            #expect(refused.status == 401)
            #expect(refused.message == "Unauthorized.")

            try await sim.admin.updateSettings(SimAdminSettings(grantedScopes: Self.readScopes))
            let scoped = try await partner.accessToken(user: "u-1")
            let balances = try await post(sim, "/api/v4/accounts/balances/main", bearer: scoped, body: #"{"ticker":"BTC"}"#)
            #expect(balances.status == 200)
            let account = try JSONSerialization.jsonObject(with: try await sim.admin.accountData(user: "u-1")) as? [String: Any]
            let btc = (account?["balances"] as? [[String: Any]])?.first { $0["ticker"] as? String == "BTC" }
            #expect(balances.json?["main_balance"] as? String == btc?["main_balance"] as? String)

            let history = try await post(sim, "/api/v4/accounts/transactions", bearer: scoped, body: #"{"limit":2,"offset":1}"#)
            #expect(history.status == 200)
            let expected = Array(((account?["transactions"] as? [Any]) ?? []).dropFirst(1).prefix(2))
            #expect(NSArray(array: history.json?["records"] as? [Any] ?? []) == NSArray(array: expected))

            let bad = try await post(sim, "/api/v4/accounts/converts", bearer: scoped, body: #"{"limit":0}"#)
            #expect(bad.status == 422)
            #expect((bad.json?["errors"] as? [String: [String]])?["limit"] == ["The limit must be between 1 and 100."])

            try await sim.admin.updateSettings(SimAdminSettings(accountsBody: "request_nonce"))
            let unsigned = try await post(sim, "/api/v4/accounts/balances/spot", bearer: scoped, body: "{}")
            #expect(unsigned.status == 400)
            #expect(unsigned.json?["message"] as? String == "Request not provided.")
            let withFields = try await post(
                sim, "/api/v4/accounts/balances/spot", bearer: scoped, body: #"{"request":"/api/v4/accounts/balances/spot","nonce":1}"#)
            #expect(withFields.status == 200)
            #expect(try await sim.admin.state().accountRequests == ["accounts": 6, "signed": 0])
        }
    }

    @Test func theDataIsTheSameInAnotherProcessWithAnotherSeed() async throws {
        let first = try await SimProcess.withRunning(arguments: ["--seed", "1"]) { sim in try await sim.admin.accountData(user: "u-9") }
        let second = try await SimProcess.withRunning(arguments: ["--seed", "2"]) { sim in try await sim.admin.accountData(user: "u-9") }
        #expect(first == second)
        let other = try await SimProcess.withRunning { sim in try await sim.admin.accountData(user: "u-10") }
        #expect(other != first)
    }
}
