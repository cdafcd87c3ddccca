import Foundation
import Testing
@testable import WhiteBITSim

@Suite struct AccountReadTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func dataDependsOnlyOnTheUserAndTheDay() {
        #expect(AccountData(user: "u-1", now: Self.now) == AccountData(user: "u-1", now: Self.now.addingTimeInterval(3_000)))
        #expect(AccountData(user: "u-1", now: Self.now) != AccountData(user: "u-2", now: Self.now))
        let data = AccountData(user: "u-1", now: Self.now)
        #expect(data.transactions.count == 40 && data.converts.count == 25 && data.orders.count == 30 && data.deals.count == 30)
        let times = data.transactions.compactMap { $0["createdAt"]?.intValue }
        #expect(times == times.sorted(by: >))
        #expect(times.allSatisfy { $0 < 1_800_000_000 && $0 >= 1_800_000_000 - 91 * 86_400 })
    }

    @Test func decimalsAreWrittenPlainly() {
        #expect(AccountData.decimal(0, scale: 8) == "0")
        #expect(AccountData.decimal(5, scale: 8) == "0.00000005")
        #expect(AccountData.decimal(150_000_000, scale: 8) == "1.5")
        #expect(AccountData.decimal(1234, scale: 2) == "12.34")
    }

    func answer(_ endpoint: AccountEndpoint, _ body: [String: JSONValue], user: String = "u-1") -> Result<JSONValue, ValidationFailure> {
        AccountQuery.answer(endpoint, body: body, data: AccountData(user: user, now: Self.now), now: Self.now)
    }

    @Test func balancesTakeAnOptionalTicker() throws {
        let data = AccountData(user: "u-1", now: Self.now)
        let eth = try #require(data.balances.first { $0.ticker == "ETH" })
        #expect(try answer(.tradeBalance, ["ticker": "ETH"]).get() == ["available": .string(eth.available), "freeze": .string(eth.freeze)])
        #expect(try answer(.mainBalance, ["ticker": "ETH"]).get() == ["main_balance": .string(eth.main)])
        #expect(try answer(.tradeBalance, [:]).get()["ETH"] == ["available": .string(eth.available), "freeze": .string(eth.freeze)])
        #expect(throws: ValidationFailure(errors: ["ticker": "The selected ticker is invalid."])) { try answer(.mainBalance, ["ticker": "DOGE"]).get() }
        #expect(throws: ValidationFailure(errors: ["ticker": "The ticker must be a non-empty string."])) { try answer(.mainBalance, ["ticker": 5]).get() }
    }

    @Test func mainHistoryPagesAndFilters() throws {
        let data = AccountData(user: "u-1", now: Self.now)
        let page = try answer(.mainHistory, ["limit": 5, "offset": 3]).get()
        #expect(page["limit"] == 5 && page["offset"] == 3 && page["total"] == 40)
        #expect(page["records"] == .array(Array(data.transactions[3..<8])))
        let deposits = try answer(.mainHistory, ["transactionMethod": 1, "limit": 500]).get()
        let expected = data.transactions.filter { $0["method"] == 1 }
        #expect(deposits["records"] == .array(expected))
        #expect(try answer(.mainHistory, [:]).get()["limit"] == 50)
        let one = try #require(data.transactions.first)
        let byTicker = try answer(.mainHistory, ["ticker": one["ticker"]!, "status": [one["status"]!]]).get()
        #expect(byTicker["records"]?.arrayValue?.first == one)
    }

    static let badFields: [(AccountEndpoint, [String: JSONValue], String, String)] = [
        (.mainHistory, ["limit": 0], "limit", "The limit must be between 1 and 500."),
        (.mainHistory, ["limit": 501], "limit", "The limit must be between 1 and 500."),
        (.mainHistory, ["offset": -1], "offset", "The offset must be between 0 and 10000."),
        (.mainHistory, ["transactionMethod": 3], "transactionMethod", "The transactionMethod must be between 1 and 2."),
        (.mainHistory, ["limit": "ten"], "limit", "The limit must be an integer."),
        (.mainHistory, ["status": "3"], "status", "The status must be an array of integers."),
        (.convertHistory, ["limit": 101], "limit", "The limit must be between 1 and 100."),
        (.convertHistory, ["from": .integer(1_800_000_000 - 31 * 86_400), "to": 1_800_000_000], "to", "The period between from and to must not exceed 30 days."),
        (.convertHistory, ["from": .integer(1_800_000_000 - 200 * 86_400), "to": .integer(1_800_000_000 - 190 * 86_400)], "from", "The from must not be older than 6 months."),
        (.orderHistory, ["limit": 501], "limit", "The limit must be between 1 and 500."),
        (.orderHistory, ["market": "DOGE_USDT"], "market", "The selected market is invalid."),
        (.executedHistory, ["orderId": 5], "orderId", "The orderId field is not accepted by this endpoint."),
        (.mainBalance, ["limit": 5], "limit", "The limit field is not accepted by this endpoint."),
    ]

    @Test(arguments: badFields)
    func badFieldsAreNamed(endpoint: AccountEndpoint, body: [String: JSONValue], field: String, rule: String) {
        #expect(throws: ValidationFailure(errors: [field: rule])) { try answer(endpoint, body).get() }
    }

    @Test func convertHistoryKeepsToItsWindow() throws {
        let data = AccountData(user: "u-1", now: Self.now)
        let from = 1_800_000_000 - 30 * 86_400
        let window = try answer(.convertHistory, ["from": .integer(from), "to": 1_800_000_000]).get()
        let expected = data.converts.filter { ($0["date"]?.intValue ?? 0) >= from }
        #expect(window["records"] == .array(expected))
        #expect(window["limit"] == 100)
    }

    @Test func ordersAndDealsAreGroupedByMarket() throws {
        let data = AccountData(user: "u-1", now: Self.now)
        let orders = try answer(.orderHistory, ["market": "BTC_USDT", "limit": 500]).get()
        #expect(orders["BTC_USDT"] == .array(data.orders.filter { $0.market == "BTC_USDT" }.map(\.record)))
        let deals = try answer(.executedHistory, ["limit": 3]).get()
        #expect(deals.objectValue?.values.reduce(0) { $0 + ($1.arrayValue?.count ?? 0) } == 3)
        let first = try #require(data.orders.first)
        let byID = try answer(.orderHistory, ["orderId": first.record["id"]!]).get()
        #expect(byID == [first.market: [first.record]])
    }
}
