import Sensitive
import Testing
import WhiteBITSimHarness
@testable import WhiteBITClient

/// `sourceAddress` (`whitebit.source_address`): every connection leaves from that local
/// address, which is what WhiteBIT's per-IP limits count (docs/whitebit-api.md §5.4). The
/// simulator tells apart 127.0.0.1, .2 and .3: Linux routes all of 127.0.0.0/8 to `lo`.
@Suite struct SimSourceAddressTests {
    @Test func everyCallLeavesFromTheConfiguredAddress() async throws {
        try await SimScenario.run(configuration: { $0.sourceAddress = "127.0.0.2" }) { s in
            let (token, _) = try await s.token(user: "u-3001")
            let externalID = try #require(try await s.client.apiKeyInfo(token: token.value).externalID)
            let secret = try await s.client.apiKeySecret(externalID: externalID, token: token.value)
            let credentials = V4Credentials(apiKey: externalID, secret: secret)
            _ = try await s.client.accountRead(.mainBalance, credentials: credentials, nonces: V4NonceSource())

            #expect(try await s.sim.admin.requestLog(externalID: externalID).map(\.source) == ["127.0.0.2"])
            // Token, info, secret and the signed read; the admin calls are not counted.
            #expect(try await s.sim.admin.counts().sources == ["127.0.0.2": SimSourceCount(requests: 4, rateLimited: 0)])

            let unbound = try s.makeClient { $0.sourceAddress = nil }
            _ = try await unbound.apiKeyInfo(token: token.value)
            #expect(try await s.sim.admin.counts().sources["127.0.0.1"] == SimSourceCount(requests: 1, rateLimited: 0))
        }
    }

    /// Two instances on one host, each with its own address, each with its own budget.
    @Test func eachAddressSpendsItsOwnBudget() async throws {
        let arguments = ["--rate-limit", "default=3", "--rate-limit-window", "60s"]
        try await SimScenario.run(simulatorArguments: arguments, configuration: { $0.sourceAddress = "127.0.0.2" }) { s in
            let (token, _) = try await s.token(user: "u-3002")
            _ = try await s.client.apiKeyInfo(token: token.value)
            _ = try await s.client.apiKeyInfo(token: token.value)
            let refused = await s.failure { try await s.client.apiKeyInfo(token: token.value) }
            #expect(refused?.kind == .rateLimited)
            #expect(refused?.httpStatus == 429)
            #expect(refused?.isTransient == true)

            let other = try s.makeClient { $0.sourceAddress = "127.0.0.3" }
            #expect(try await other.apiKeyInfo(token: token.value).exists)
            let counts = try await s.sim.admin.counts()
            #expect(counts.sources["127.0.0.2"] == SimSourceCount(requests: 4, rateLimited: 1))
            #expect(counts.sources["127.0.0.3"] == SimSourceCount(requests: 1, rateLimited: 0))
        }
    }

    @Test func anAddressThisHostDoesNotHoldIsATransportErrorThatSaysSo() async throws {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no interface here holds it.
        try await SimScenario.run(configuration: { $0.sourceAddress = "192.0.2.123" }) { s in
            let failure = await s.failure { try await s.client.apiKeyInfo(token: Sensitive("tok-1")) }
            #expect(failure?.kind == .transport(reason: "local address not available (source address not on this host, or no free port)"))
            #expect(failure?.isTransient == true)
            let sources = try await s.sim.admin.counts().sources
            #expect(sources.isEmpty, "a connection that never was is no request")
        }
    }

    @Test func anAddressThatIsNotALiteralIsRefusedAtConstruction() {
        for text in ["", "localhost", "[::1]", "127.0.0.1:80"] {
            let configuration = WhiteBITClient.Configuration(
                baseURL: "http://127.0.0.1:1", clientID: "c", clientSecret: Sensitive("s"), sourceAddress: text)
            #expect(throws: WhiteBITClient.ConfigurationError(setting: "source_address", reason: "not an IPv4 or IPv6 address")) {
                _ = try WhiteBITClient(configuration: configuration)
            }
        }
    }
}
