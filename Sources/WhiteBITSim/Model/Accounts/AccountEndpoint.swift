/// The account reads the simulator serves twice: HMAC-signed under `/api/v4/…` for an issued
/// key (`docs/whitebit-api.md` §5.2) and with a Bearer token under `/api/v4/accounts/…` (§4).
public enum AccountEndpoint: String, Sendable, CaseIterable {
    case mainBalance, tradeBalance, mainHistory, convertHistory, orderHistory, executedHistory

    /// The signed V4 path, also the value of the body's `request` field.
    public var signedPath: String {
        switch self {
        case .mainBalance: "/api/v4/main-account/balance"
        case .tradeBalance: "/api/v4/trade-account/balance"
        case .mainHistory: "/api/v4/main-account/history"
        case .convertHistory: "/api/v4/convert/history"
        case .orderHistory: "/api/v4/trade-account/order/history"
        case .executedHistory: "/api/v4/trade-account/executed-history"
        }
    }

    /// The classic-flow path of the same read.
    public var bearerPath: String {
        switch self {
        case .mainBalance: "/api/v4/accounts/balances/main"
        case .tradeBalance: "/api/v4/accounts/balances/spot"
        case .mainHistory: "/api/v4/accounts/transactions"
        case .convertHistory: "/api/v4/accounts/converts"
        case .orderHistory: "/api/v4/accounts/orders"
        case .executedHistory: "/api/v4/accounts/deals"
        }
    }

    /// The scope the API doc presumes for the Bearer path (§4 gives no mapping).
    public var bearerScope: String {
        switch self {
        case .mainBalance, .tradeBalance: "users.balances.read"
        case .mainHistory: "users.transactions.read"
        case .convertHistory: "users.converts.read"
        case .orderHistory: "users.orders.read"
        case .executedHistory: "users.deals.read"
        }
    }

    public init?(signedPath: String) {
        guard let endpoint = Self.allCases.first(where: { $0.signedPath == signedPath }) else { return nil }
        self = endpoint
    }

    public init?(bearerPath: String) {
        guard let endpoint = Self.allCases.first(where: { $0.bearerPath == bearerPath }) else { return nil }
        self = endpoint
    }
}
