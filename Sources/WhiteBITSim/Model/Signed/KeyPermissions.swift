/// What a key's `/info` permission groups allow. WhiteBIT lists every group it offers, each
/// URL with `enable` (`docs/whitebit-api.md` §3.4); an endpoint is refused when a group
/// lists it and none enables it. An endpoint no group lists is not gated: the API doc's
/// example group (the consent default) names only `/v2/order`.
public enum KeyPermissions {
    /// The groups the simulator offers at consent, by name: title and URLs.
    static let offered: [(name: String, title: String, urls: [String])] = [
        ("balances", "Balances", [AccountEndpoint.mainBalance.signedPath, AccountEndpoint.tradeBalance.signedPath]),
        ("history", "History", [
            AccountEndpoint.mainHistory.signedPath, AccountEndpoint.convertHistory.signedPath,
            AccountEndpoint.orderHistory.signedPath, AccountEndpoint.executedHistory.signedPath,
        ]),
        ("trading", "Trading", ["/api/v4/order/new", "/api/v4/order/cancel", "/v2/order"]),
    ]

    /// `read-only` (balances and history), `trade` (everything), `none` (every group listed,
    /// nothing enabled: "the user granted nothing").
    public static func preset(_ name: String) -> [JSONValue]? {
        let enabled: Set<String>
        switch name {
        case "read-only": enabled = ["balances", "history"]
        case "trade": enabled = ["balances", "history", "trading"]
        case "none": enabled = []
        default: return nil
        }
        return offered.map { group in
            [
                "name": .string(group.name), "title": .string(group.title),
                "urls": .array(group.urls.map { ["url": .string($0), "enable": .bool(enabled.contains(group.name))] }),
            ]
        }
    }

    public static func permits(_ groups: [JSONValue], path: String) -> Bool {
        var listed = false
        for group in groups {
            for url in group["urls"]?.arrayValue ?? [] where url["url"]?.stringValue == path {
                if url["enable"]?.boolValue == true { return true }
                listed = true
            }
        }
        return !listed
    }
}
