import Foundation

/// The body fields of one account read (`docs/whitebit-api.md` §4's table), checked and
/// applied to a user's `AccountData`. A bad field is named in the error with a rule a
/// person can act on; the fields `request`, `nonce` and `nonceWindow` are not this type's.
struct AccountQuery {
    let fields: [String: JSONValue]
    let now: Date
    private(set) var errors: [String: String] = [:]

    static let authFields: Set<String> = ["request", "nonce", "nonceWindow"]
    static let allowed: [AccountEndpoint: Set<String>] = [
        .mainBalance: ["ticker"], .tradeBalance: ["ticker"],
        .mainHistory: ["transactionMethod", "ticker", "address", "memo", "addresses", "unique_id", "limit", "offset", "status"],
        .convertHistory: ["fromTicker", "toTicker", "from", "to", "quoteId", "limit", "offset"],
        .orderHistory: ["market", "clientOrderId", "orderId", "status", "startDate", "endDate", "offset", "limit"],
        .executedHistory: ["market", "clientOrderId", "startDate", "endDate", "offset", "limit"],
    ]

    /// The answer to `endpoint` over `data`, or the fields that were wrong (field → rule).
    static func answer(
        _ endpoint: AccountEndpoint, body: [String: JSONValue], data: AccountData, now: Date
    ) -> Result<JSONValue, ValidationFailure> {
        var query = AccountQuery(fields: body, now: now)
        for name in body.keys where !authFields.contains(name) && !(allowed[endpoint]?.contains(name) ?? false) {
            query.errors[name] = "The \(name) field is not accepted by this endpoint."
        }
        let answer = query.serve(endpoint, data)
        return query.errors.isEmpty ? .success(answer) : .failure(ValidationFailure(errors: query.errors))
    }

    private mutating func serve(_ endpoint: AccountEndpoint, _ data: AccountData) -> JSONValue {
        switch endpoint {
        case .mainBalance, .tradeBalance:
            let ticker = string("ticker")
            if let ticker, !data.balances.contains(where: { $0.ticker == ticker }) {
                errors["ticker"] = "The selected ticker is invalid."
            }
            var result: [String: JSONValue] = [:]
            for balance in data.balances where ticker == nil || balance.ticker == ticker {
                result[balance.ticker] = endpoint == .mainBalance
                    ? ["main_balance": .string(balance.main)]
                    : ["available": .string(balance.available), "freeze": .string(balance.freeze)]
            }
            // A named ticker is answered alone, without the ticker level, as WhiteBIT does.
            if let ticker, let only = result[ticker] { return only }
            return .object(result)
        case .mainHistory: return mainHistory(data)
        case .convertHistory: return convertHistory(data)
        case .orderHistory: return marketHistory(data.orders, withOrderFields: true)
        case .executedHistory: return marketHistory(data.deals, withOrderFields: false)
        }
    }

    private mutating func mainHistory(_ data: AccountData) -> JSONValue {
        let method = integer("transactionMethod", in: 1...2)
        let ticker = string("ticker"), address = string("address"), memo = string("memo"), uniqueID = string("unique_id")
        let addresses = strings("addresses", maxCount: 20)
        let statuses = integers("status")
        let limit = integer("limit", in: 1...500) ?? 50
        let offset = integer("offset", in: 0...10_000) ?? 0
        let matching = data.transactions.filter { record in
            (method == nil || record["method"]?.intValue == method)
                && (ticker == nil || record["ticker"]?.stringValue == ticker)
                && (address == nil || record["address"]?.stringValue == address)
                && (addresses == nil || addresses!.contains(record["address"]?.stringValue ?? ""))
                && (memo == nil || record["memo"]?.stringValue == memo)
                && (uniqueID == nil || record["uniqueId"]?.stringValue == uniqueID)
                && (statuses == nil || statuses!.contains(record["status"]?.intValue ?? -1))
        }
        return page(matching, limit: limit, offset: offset)
    }

    private mutating func convertHistory(_ data: AccountData) -> JSONValue {
        let fromTicker = string("fromTicker"), toTicker = string("toTicker"), quoteID = string("quoteId")
        let nowSeconds = Int(now.timeIntervalSince1970)
        let to = integer("to", in: 0...Int.max) ?? nowSeconds
        let from = integer("from", in: 0...Int.max) ?? (to - 30 * AccountData.day)
        if from > to { errors["from"] = "The from must be a date before or equal to to." }
        if to - from > 30 * AccountData.day { errors["to"] = "The period between from and to must not exceed 30 days." }
        if from < nowSeconds - 183 * AccountData.day { errors["from"] = "The from must not be older than 6 months." }
        let limit = integer("limit", in: 1...100) ?? 100
        let offset = integer("offset", in: 0...10_000) ?? 0
        let matching = data.converts.filter { record in
            let date = record["date"]?.intValue ?? 0
            return (from...max(from, to)).contains(date)
                && (fromTicker == nil || record["fromTicker"]?.stringValue == fromTicker)
                && (toTicker == nil || record["toTicker"]?.stringValue == toTicker)
                && (quoteID == nil || record["quoteId"]?.stringValue == quoteID)
        }
        return page(matching, limit: limit, offset: offset)
    }

    /// Orders and deals are answered grouped by market, `{"BTC_USDT": [...], …}`, as WhiteBIT does.
    private mutating func marketHistory(_ records: [(market: String, record: JSONValue)], withOrderFields: Bool) -> JSONValue {
        let market = string("market"), clientOrderID = string("clientOrderId")
        if let market, !AccountData.markets.contains(market) { errors["market"] = "The selected market is invalid." }
        let orderID = withOrderFields ? integer("orderId", in: 1...Int.max) : nil
        let status = withOrderFields ? string("status") : nil
        if let status, !["FILLED", "CANCELED"].contains(status) { errors["status"] = "The status must be FILLED or CANCELED." }
        let start = integer("startDate", in: 0...Int.max), end = integer("endDate", in: 0...Int.max)
        if let start, let end, start > end { errors["startDate"] = "The startDate must be before or equal to endDate." }
        let limit = integer("limit", in: 1...500) ?? 50
        let offset = integer("offset", in: 0...10_000) ?? 0
        let timeField = withOrderFields ? "ctime" : "time"
        let matching = records.filter { market == nil || $0.market == market }.filter { entry in
            let time = Int(entry.record[timeField]?.numberValue ?? 0)
            return (clientOrderID == nil || entry.record["clientOrderId"]?.stringValue == clientOrderID)
                && (orderID == nil || entry.record["id"]?.intValue == orderID)
                && (status == nil || entry.record["status"]?.stringValue == status)
                && (start == nil || time >= start!) && (end == nil || time <= end!)
        }
        var grouped: [String: JSONValue] = [:]
        for entry in matching.dropFirst(offset).prefix(limit) {
            grouped[entry.market] = .array((grouped[entry.market]?.arrayValue ?? []) + [entry.record])
        }
        return .object(grouped)
    }

    private func page(_ records: [JSONValue], limit: Int, offset: Int) -> JSONValue {
        [
            "limit": .integer(limit), "offset": .integer(offset), "total": .integer(records.count),
            "records": .array(Array(records.dropFirst(offset).prefix(limit))),
        ]
    }

    // MARK: Field readers: a wrong type or range is recorded, and the field then counts as absent.

    private mutating func string(_ name: String) -> String? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let text = value.stringValue, !text.isEmpty else {
            errors[name] = "The \(name) must be a non-empty string."
            return nil
        }
        return text
    }

    private mutating func integer(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = fields[name], !value.isNull else { return nil }
        // WhiteBIT's PHP side takes "50" as well as 50.
        guard let number = value.intValue ?? value.stringValue.flatMap({ Int($0) }) else {
            errors[name] = "The \(name) must be an integer."
            return nil
        }
        guard range.contains(number) else {
            errors[name] = range.upperBound == Int.max
                ? "The \(name) must be at least \(range.lowerBound)."
                : "The \(name) must be between \(range.lowerBound) and \(range.upperBound)."
            return nil
        }
        return number
    }

    private mutating func strings(_ name: String, maxCount: Int) -> [String]? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }), list.count <= maxCount else {
            errors[name] = "The \(name) must be an array of at most \(maxCount) strings."
            return nil
        }
        return list.compactMap(\.stringValue)
    }

    private mutating func integers(_ name: String) -> [Int]? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let list = value.arrayValue, list.allSatisfy({ $0.intValue != nil }) else {
            errors[name] = "The \(name) must be an array of integers."
            return nil
        }
        return list.compactMap(\.intValue)
    }
}

/// Fields of a body that broke their rules: field → what the rule is.
public struct ValidationFailure: Error, Sendable, Equatable {
    public let errors: [String: String]
}
