import Testing
@testable import WhiteBITSim

@Suite struct AccountSwitchTests {
    @Test func newSwitchesHaveTheirDefaultsAndAreSettable() throws {
        var settings = SimSettings()
        #expect(settings.json["api_key_header"] == "external_id")
        #expect(settings.json["deleted_key"] == "401")
        #expect(settings.json["accounts_body"] == "plain")
        #expect(settings.json["granted_scopes"] == .null)
        #expect(settings.json["key_inactivity_ms"] == .integer(14 * 86_400_000))
        #expect(settings.json["rate_limit"] == [
            "enabled": true, "window_ms": 10_000, "default": 10_000, "public": 20_000, "main_account": 1_000,
            "main_account_history": 200, "trade_account": 12_000,
        ])
        try settings.apply([
            "api_key_header": "api_key", "deleted_key": 404, "accounts_body": "request_nonce",
            "granted_scopes": ["users.balances.read"], "key_inactivity_ms": 1_000,
            "rate_limit": ["main_account_history": 3, "window_ms": 500],
        ])
        #expect(settings.apiKeyHeader == .apiKey && settings.deletedKey == .notFound && settings.accountsBody == .signed)
        #expect(settings.grantedScopes == ["users.balances.read"] && settings.keyInactivityMilliseconds == 1_000)
        #expect(settings.rateLimit.limits[.mainAccountHistory] == 3 && settings.rateLimit.windowMilliseconds == 500)
        #expect(settings.rateLimit.limits[.mainAccount] == 1_000)
        try settings.apply(["granted_scopes": nil])
        #expect(settings.grantedScopes == nil)
    }

    static let badValues: [(JSONValue, String)] = [
        (["api_key_header": "public"], "setting \"api_key_header\" must be one of external_id, api_key"),
        (["deleted_key": 500], "setting \"deleted_key\" must be one of 401, 403, 404"),
        (["granted_scopes": "users.balances.read"], "setting \"granted_scopes\" must be null or an array of scope names"),
        (["rate_limit": ["burst": 5]], "unknown rate_limit field \"burst\" (known: enabled, window_ms, default, public, main_account, main_account_history, trade_account)"),
        (["rate_limit": ["window_ms": 0]], "rate_limit \"window_ms\" must be a whole number of milliseconds, 1 or more"),
    ]

    @Test(arguments: badValues)
    func badValuesAreRefusedAndChangeNothing(body: JSONValue, message: String) {
        var settings = SimSettings()
        #expect(throws: SimRequestError(message)) { try settings.apply(body) }
        #expect(settings == SimSettings())
    }

    @Test func theRateLimitBucketIsTheMostSpecificScope() {
        #expect(RateLimitSettings.Scope.of(path: "/api/v4/main-account/history") == .mainAccountHistory)
        #expect(RateLimitSettings.Scope.of(path: "/api/v4/main-account/balance") == .mainAccount)
        #expect(RateLimitSettings.Scope.of(path: "/api/v4/trade-account/order/history") == .tradeAccount)
        #expect(RateLimitSettings.Scope.of(path: "/api/v4/convert/history") == .default)
        #expect(RateLimitSettings.Scope.of(path: "/api/v4/accounts/transactions") == .default)
        #expect(RateLimitSettings.Scope.of(path: "/api/v4/public/ticker") == .public)
        #expect(RateLimitSettings.Scope.of(path: "/oauth2/token") == .default)
        #expect(RateLimitSettings.Scope.of(path: "/oauth2/api-key/info") == .default)
    }

    @Test func aStatusFaultOnASignedRequestAnswersInTheV4Shape() async {
        let sim = SimFixture()
        _ = await sim.world.addFault(SimFault(target: .signed, kind: .status(503)))
        #expect(await sim.world.admit(.signed, user: nil) == .answer(.json(503, ["code": 0, "message": "Service unavailable."])))
        _ = await sim.world.addFault(SimFault(target: .accounts, kind: .status(503)))
        #expect(await sim.world.admit(.accounts, user: nil) == .answer(.message(503, "Service unavailable.")))
    }
}
