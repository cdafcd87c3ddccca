import Foundation

/// One user's account as the simulator invents it: balances, deposits and withdrawals,
/// converts, orders and deals. Derived only from the user's name and the day, so a test (or
/// a second simulator process) can predict every answer; `/sim/users/{user}/account` shows it.
public struct AccountData: Sendable, Equatable {
    public struct Balance: Sendable, Equatable {
        public let ticker: String
        public let main: String
        public let available: String
        public let freeze: String
    }

    public let balances: [Balance]
    /// `main-account/history` records, newest first.
    public let transactions: [JSONValue]
    /// `convert/history` records, newest first.
    public let converts: [JSONValue]
    /// `trade-account/order/history` records with their market, newest first.
    public let orders: [(market: String, record: JSONValue)]
    /// `trade-account/executed-history` records with their market, newest first.
    public let deals: [(market: String, record: JSONValue)]

    public static let tickers = ["BTC", "ETH", "USDT", "UAH", "XRP", "TRX"]
    public static let markets = ["BTC_USDT", "ETH_USDT", "XRP_USDT"]
    static let currencyNames = [
        "BTC": "Bitcoin", "ETH": "Ethereum", "USDT": "Tether US", "UAH": "Hryvnia", "XRP": "Ripple", "TRX": "Tron",
    ]
    static let day = 86_400

    /// The data of `user` as seen at `now`: records lie in the 90 days before the start of
    /// `now`'s UTC day, so they stay put for the whole day.
    public init(user: String, now: Date) {
        var random = SimRandom(seed: Self.fnv1a(user))
        let dayStart = Int(now.timeIntervalSince1970) / Self.day * Self.day
        balances = Self.tickers.map { ticker in
            Balance(
                ticker: ticker, main: Self.decimal(random.below(500_000_000), scale: 8),
                available: Self.decimal(random.below(300_000_000), scale: 8),
                freeze: Self.decimal(random.below(4) == 0 ? random.below(10_000_000) : 0, scale: 8))
        }
        func times(_ count: Int) -> [Int] {
            (0..<count).map { _ in dayStart - 1 - random.below(90 * Self.day) }.sorted(by: >)
        }
        transactions = times(40).map { Self.transaction(at: $0, random: &random) }
        converts = times(25).map { Self.convert(at: $0, random: &random) }
        orders = times(30).map { Self.order(at: $0, random: &random) }
        deals = times(30).map { Self.deal(at: $0, random: &random) }
    }

    public static func == (left: AccountData, right: AccountData) -> Bool {
        left.balances == right.balances && left.transactions == right.transactions && left.converts == right.converts
            && left.orders.map(\.record) == right.orders.map(\.record) && left.deals.map(\.record) == right.deals.map(\.record)
    }

    /// Everything, for `/sim/users/{user}/account`.
    public var json: JSONValue {
        [
            "balances": .array(balances.map { ["ticker": .string($0.ticker), "main_balance": .string($0.main),
                "available": .string($0.available), "freeze": .string($0.freeze)] }),
            "transactions": .array(transactions), "converts": .array(converts),
            "orders": .array(orders.map { ["market": .string($0.market), "record": $0.record] }),
            "deals": .array(deals.map { ["market": .string($0.market), "record": $0.record] }),
        ]
    }

    private static func transaction(at time: Int, random: inout SimRandom) -> JSONValue {
        let ticker = tickers[random.below(tickers.count)]
        let method = 1 + random.below(2)
        let statuses = method == 1 ? [3, 7, 15] : [3, 4, 15]
        return [
            "address": .string("addr-" + random.hex(bytes: 10)), "uniqueId": method == 2 ? .string(random.hex(bytes: 6)) : .null,
            "createdAt": .integer(time), "currency": .string(currencyNames[ticker] ?? ticker), "ticker": .string(ticker),
            "method": .integer(method), "amount": .string(decimal(1 + random.below(100_000_000), scale: 8)),
            "description": "", "memo": ticker == "XRP" ? .string(String(random.below(1_000_000))) : "",
            "fee": .string(method == 2 ? decimal(random.below(100_000), scale: 8) : "0"),
            "status": .integer(statuses[random.below(statuses.count)]), "network": .null,
            "transactionHash": .string(random.hex(bytes: 32)), "transactionId": .string(random.uuid()),
            "details": [:], "confirmations": ["actual": .integer(2), "required": .integer(2)],
        ]
    }

    private static func convert(at time: Int, random: inout SimRandom) -> JSONValue {
        let from = tickers[random.below(tickers.count)]
        let others = tickers.filter { $0 != from }
        let to = others[random.below(others.count)]
        let rate = 1 + random.below(9_999_999)
        let amount = 1 + random.below(10_000_000)
        return [
            "id": .string(random.uuid()), "date": .integer(time), "fromTicker": .string(from), "toTicker": .string(to),
            "fromAmount": .string(decimal(amount, scale: 8)), "toAmount": .string(decimal(amount * rate / 10_000, scale: 8)),
            "rate": .string(decimal(rate, scale: 4)), "quoteId": .string(random.uuid()),
        ]
    }

    private static func order(at time: Int, random: inout SimRandom) -> (market: String, record: JSONValue) {
        let market = markets[random.below(markets.count)]
        let amount = 1 + random.below(10_000_000)
        let price = 1 + random.below(10_000_000)
        let filled = random.below(3) > 0
        let record: JSONValue = [
            "id": .integer(4_000_000_000 + random.below(1_000_000_000)), "clientOrderId": .string(random.below(2) == 0 ? "" : "c-" + random.hex(bytes: 4)),
            "market": .string(market), "side": .string(random.below(2) == 0 ? "buy" : "sell"), "type": "limit",
            "amount": .string(decimal(amount, scale: 8)), "price": .string(decimal(price, scale: 2)),
            "ctime": .number(Double(time)), "ftime": .number(Double(time + random.below(600))),
            "dealStock": .string(filled ? decimal(amount, scale: 8) : "0"),
            "dealMoney": .string(filled ? decimal(amount * price / 100, scale: 8) : "0"),
            "dealFee": .string(filled ? decimal(amount * price / 100_000, scale: 8) : "0"),
            "takerFee": "0.001", "makerFee": "0.001", "postOnly": false, "ioc": false,
            "status": .string(filled ? "FILLED" : "CANCELED"),
        ]
        return (market, record)
    }

    private static func deal(at time: Int, random: inout SimRandom) -> (market: String, record: JSONValue) {
        let market = markets[random.below(markets.count)]
        let amount = 1 + random.below(10_000_000)
        let price = 1 + random.below(10_000_000)
        let record: JSONValue = [
            "id": .integer(100_000_000 + random.below(100_000_000)), "clientOrderId": .string(random.below(2) == 0 ? "" : "c-" + random.hex(bytes: 4)),
            "time": .number(Double(time)), "side": .string(random.below(2) == 0 ? "buy" : "sell"), "role": .integer(1 + random.below(2)),
            "amount": .string(decimal(amount, scale: 8)), "price": .string(decimal(price, scale: 2)),
            "deal": .string(decimal(amount * price / 100, scale: 8)), "fee": .string(decimal(amount * price / 100_000, scale: 8)),
            "orderId": .integer(4_000_000_000 + random.below(1_000_000_000)), "feeAsset": "USDT",
        ]
        return (market, record)
    }

    /// `units` × 10^-scale, written as WhiteBIT writes amounts: a plain decimal string.
    static func decimal(_ units: Int, scale: Int) -> String {
        var digits = String(units)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        let whole = digits.dropLast(scale)
        var fraction = String(digits.suffix(scale))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
    }

    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}

extension SimRandom {
    /// A whole number in 0..<bound.
    mutating func below(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &self) }

    mutating func hex(bytes count: Int) -> String {
        bytes(count).map { String(format: "%02x", $0) }.joined()
    }
}
