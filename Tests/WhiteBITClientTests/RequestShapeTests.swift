import Sensitive
import Testing
@testable import WhiteBITClient

@Suite struct PathSegmentTests {
    @Test func aUUIDPassesUnchanged() throws {
        let segment = try #require(PathSegment("550e8400-e29b-41d4-a716-446655440000"))
        #expect(Endpoint.secret.path(segment: segment.escaped) == "/oauth2/api-key/550e8400-e29b-41d4-a716-446655440000/secret")
        #expect(Endpoint.delete.path(segment: segment.escaped) == "/oauth2/api-key/550e8400-e29b-41d4-a716-446655440000")
    }

    @Test(arguments: [
        ("a/b", "a%2Fb"),
        ("../info", "..%2Finfo"),
        ("../../oauth2/token", "..%2F..%2Foauth2%2Ftoken"),
        ("x?y#z", "x%3Fy%23z"),
        ("a b%2F", "a%20b%252F"),
        ("é", "%C3%A9"),
        ("a\r\nHost: evil", "a%0D%0AHost%3A%20evil"),
        ("k.v_1~-", "k.v_1~-"),
    ])
    func everythingOutsideUnreservedIsEscapedSoTheSegmentStaysOne(raw: String, escaped: String) throws {
        let segment = try #require(PathSegment(raw))
        #expect(segment.escaped == escaped)
        let path = Endpoint.secret.path(segment: segment.escaped)
        #expect(path.split(separator: "/").count == 4, "still /oauth2/api-key/SEGMENT/secret: \(path)")
    }

    @Test(arguments: ["", ".", "..", "...", String(repeating: "a", count: PathSegment.maximumLength + 1)])
    func emptyDotOnlyOrOverlongSegmentsAreRefused(raw: String) {
        #expect(PathSegment(raw) == nil)
    }
}

@Suite struct FormEncodingTests {
    @Test func valuesAreEscapedAndJoinedInOrder() {
        let form = PercentEncoding.form([
            ("client_id", "wbkeyd-demo"), ("code", "a b&c=d+e"), ("redirect_uri", "https://p.example/cb?x=1"),
        ])
        #expect(form == "client_id=wbkeyd-demo&code=a%20b%26c%3Dd%2Be&redirect_uri=https%3A%2F%2Fp.example%2Fcb%3Fx%3D1")
    }
}

@Suite struct EndpointTests {
    @Test func methodsAndTemplatesAreTheDocumentedOnes() {
        #expect(Endpoint.allCases.map(\.description) == [
            "POST /oauth2/token", "GET /oauth2/api-key/info",
            "GET /oauth2/api-key/{externalId}/secret", "DELETE /oauth2/api-key/{externalId}",
            "POST /api/v4/main-account/balance", "POST /api/v4/trade-account/balance",
            "POST /api/v4/main-account/history", "POST /api/v4/convert/history",
            "POST /api/v4/trade-account/order/history", "POST /api/v4/trade-account/executed-history",
            "POST /api/v4/accounts/balances/main", "POST /api/v4/accounts/balances/spot",
            "POST /api/v4/accounts/transactions", "POST /api/v4/accounts/converts",
            "POST /api/v4/accounts/orders", "POST /api/v4/accounts/deals",
        ])
        #expect(Endpoint.allCases.map(\.rawValue) == [
            "token", "info", "secret", "delete",
            "main_balance", "trade_balance", "main_history", "convert_history", "order_history", "executed_history",
            "accounts_main_balance", "accounts_spot_balance", "accounts_transactions", "accounts_converts",
            "accounts_orders", "accounts_deals",
        ])
        #expect(Endpoint.allCases.filter(\.isSignedV4) == AccountRead.allCases.map(\.signedEndpoint))
        #expect(Endpoint.allCases.filter { $0.isV4 && !$0.isSignedV4 } == AccountRead.allCases.map(\.bearerEndpoint))
    }
}

@Suite struct ConfigurationTests {
    private func configuration(
        baseURL: String = "https://whitebit.com/", timeout: Duration = .seconds(10),
        concurrency: Int = 8, rate: Double = 10, secret: String = "client-secret-xyz"
    ) -> WhiteBITClient.Configuration {
        .init(baseURL: baseURL, clientID: "wbkeyd", clientSecret: Sensitive(secret),
              requestTimeout: timeout, maxConcurrency: concurrency, rateLimit: rate)
    }

    @Test func aGoodConfigurationLosesItsTrailingSlash() throws {
        #expect(try configuration().validatedBaseURL() == "https://whitebit.com")
        #expect(try configuration(baseURL: "http://127.0.0.1:8080").validatedBaseURL() == "http://127.0.0.1:8080")
    }

    @Test func unusableSettingsAreNamed() {
        let cases: [(WhiteBITClient.Configuration, String)] = [
            (configuration(baseURL: "ftp://whitebit.com"), "base_url"),
            (configuration(baseURL: "whitebit.com"), "base_url"),
            (configuration(baseURL: "https://whitebit.com/?x=1"), "base_url"),
            (configuration(timeout: .zero), "request_timeout"),
            (configuration(concurrency: 0), "max_concurrency"),
            (configuration(rate: 0), "rate_limit"),
            (configuration(rate: .infinity), "rate_limit"),
            (configuration(secret: ""), "client_secret"),
        ]
        for (configuration, setting) in cases {
            #expect(throws: WhiteBITClient.ConfigurationError.self) { _ = try configuration.validatedBaseURL() }
            do {
                _ = try configuration.validatedBaseURL()
            } catch {
                #expect(error.setting == setting)
                #expect(error.description.hasPrefix("[whitebit] \(setting):"))
            }
        }
    }

    @Test func theDescriptionHidesTheClientSecret() {
        let text = "\(configuration()) \(String(reflecting: configuration()))"
        #expect(!text.contains("client-secret-xyz"))
        #expect(text.contains("<redacted>"))
    }
}
