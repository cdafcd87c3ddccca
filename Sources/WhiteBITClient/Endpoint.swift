/// The WhiteBIT calls wbkeyd makes: the Fast API Key flow (docs/whitebit-api.md §3.1,
/// §3.4), the signed V4 account reads (§5.2) and their Bearer twins (§4). The raw values
/// are the names the counters, the logs and whitebit-sim's fault injection use.
public enum Endpoint: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case token
    case info
    case secret
    case delete
    // Signed V4 (X-TXC-* headers).
    case mainBalance = "main_balance"
    case tradeBalance = "trade_balance"
    case mainHistory = "main_history"
    case convertHistory = "convert_history"
    case orderHistory = "order_history"
    case executedHistory = "executed_history"
    // Bearer `/api/v4/accounts/*`.
    case accountsMainBalance = "accounts_main_balance"
    case accountsSpotBalance = "accounts_spot_balance"
    case accountsTransactions = "accounts_transactions"
    case accountsConverts = "accounts_converts"
    case accountsOrders = "accounts_orders"
    case accountsDeals = "accounts_deals"

    public var method: String {
        switch self {
        case .info, .secret: "GET"
        case .delete: "DELETE"
        default: "POST"
        }
    }

    /// The path as documented, with `{externalId}` as a placeholder: safe to show in any
    /// message, and stable for grouping.
    public var pathTemplate: String {
        switch self {
        case .token: "/oauth2/token"
        case .info: "/oauth2/api-key/info"
        case .secret: "/oauth2/api-key/{externalId}/secret"
        case .delete: "/oauth2/api-key/{externalId}"
        case .mainBalance: "/api/v4/main-account/balance"
        case .tradeBalance: "/api/v4/trade-account/balance"
        case .mainHistory: "/api/v4/main-account/history"
        case .convertHistory: "/api/v4/convert/history"
        case .orderHistory: "/api/v4/trade-account/order/history"
        case .executedHistory: "/api/v4/trade-account/executed-history"
        case .accountsMainBalance: "/api/v4/accounts/balances/main"
        case .accountsSpotBalance: "/api/v4/accounts/balances/spot"
        case .accountsTransactions: "/api/v4/accounts/transactions"
        case .accountsConverts: "/api/v4/accounts/converts"
        case .accountsOrders: "/api/v4/accounts/orders"
        case .accountsDeals: "/api/v4/accounts/deals"
        }
    }

    /// Signed with the API key (X-TXC-APIKEY, X-TXC-PAYLOAD, X-TXC-SIGNATURE).
    public var isSignedV4: Bool {
        switch self {
        case .mainBalance, .tradeBalance, .mainHistory, .convertHistory, .orderHistory, .executedHistory: true
        default: false
        }
    }

    /// A `/api/v4/…` endpoint, signed or Bearer: its errors have the V4 shapes (§5.3).
    public var isV4: Bool { pathTemplate.hasPrefix("/api/v4/") }

    public var description: String { "\(method) \(pathTemplate)" }

    /// The path with `segment` (already escaped, or sanitized for display) as the externalId.
    func path(segment: String) -> String {
        switch self {
        case .secret: "/oauth2/api-key/\(segment)/secret"
        case .delete: "/oauth2/api-key/\(segment)"
        default: pathTemplate
        }
    }
}

/// The six account reads, each reachable two ways: signed with the issued key (V4), or
/// with the OAuth access token on the Bearer `/api/v4/accounts/*` twin (docs/whitebit-api.md
/// §4). The raw values are the words of the control commands (docs/design.md §12).
public enum AccountRead: String, Sendable, Hashable, CaseIterable {
    case mainBalance = "main"
    case spotBalance = "spot"
    case transactions
    case converts
    case orders
    case deals

    public var signedEndpoint: Endpoint {
        switch self {
        case .mainBalance: .mainBalance
        case .spotBalance: .tradeBalance
        case .transactions: .mainHistory
        case .converts: .convertHistory
        case .orders: .orderHistory
        case .deals: .executedHistory
        }
    }

    public var bearerEndpoint: Endpoint {
        switch self {
        case .mainBalance: .accountsMainBalance
        case .spotBalance: .accountsSpotBalance
        case .transactions: .accountsTransactions
        case .converts: .accountsConverts
        case .orders: .accountsOrders
        case .deals: .accountsDeals
        }
    }
}

/// An externalId checked and escaped for use as one path segment. WhiteBIT documents it
/// as a UUID, but it comes from a response, and the stage docs say it doubles as the
/// public API key, so its format is not something to trust: every byte outside the
/// unreserved set is percent-escaped (a `/` cannot add a segment), and a segment that
/// is empty or only dots (which servers resolve as `.` or `..`) is refused outright.
struct PathSegment: Sendable, Equatable {
    static let maximumLength = 256

    let escaped: String

    init?(_ raw: String) {
        guard !raw.isEmpty, raw.utf8.count <= Self.maximumLength,
              raw.contains(where: { $0 != "." })
        else { return nil }
        escaped = PercentEncoding.escape(raw)
    }
}

enum PercentEncoding {
    /// RFC 3986 unreserved characters pass; every other UTF-8 byte becomes `%XX`. Used for
    /// path segments and for form values (a space becomes `%20`, which form decoders accept).
    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%"
                out += hexDigit(byte >> 4)
                out += hexDigit(byte & 0x0F)
            }
        }
        return out
    }

    /// `application/x-www-form-urlencoded` body from ordered fields.
    static func form(_ fields: [(name: String, value: String)]) -> String {
        fields.map { "\(escape($0.name))=\(escape($0.value))" }.joined(separator: "&")
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> String {
        String(Unicode.Scalar(nibble < 10 ? nibble + 48 : nibble + 55))
    }
}
