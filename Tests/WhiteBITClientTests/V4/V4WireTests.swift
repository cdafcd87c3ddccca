import Crypto
import Foundation
import NIOSSL
import Sensitive
import Testing
@testable import WhiteBITClient

/// The signed V4 reads and their Bearer twins against a real HTTP server on loopback:
/// the exact request the server saw, the answer handed back, the counters.
@Suite struct V4WireTests {
    let credentials = V4Credentials(apiKey: "550e8400-e29b-41d4-a716-446655440000", secret: Sensitive("api-secret-9f8e7d6c-SECRET"))
    let token = Sensitive("tok-3e1f00aa-SECRET")

    static let balanceAnswer = #"{"BTC":{"main_balance":"0.10000000"},"USDT":{"main_balance":"12.5"}}"#

    @Test func eachSignedReadSendsTheDocumentedRequestAndReturnsTheAnswer() async throws {
        let clock = FixedClock(1_733_200_000_000)
        let nonces = V4NonceSource(lastIssued: [:], now: clock.read)
        try await V4Wire.withServer([.respond(status: 200, body: Self.balanceAnswer)]) { server, client, _ in
            var expectedNonce: Int64 = 1_733_200_000_000
            for read in AccountRead.allCases {
                let parameters: [String: JSONValue] = read == .spotBalance ? ["ticker": .string("BTC")] : ["limit": .integer(100), "offset": .integer(0)]
                let answer = try await client.accountRead(read, parameters: parameters, credentials: credentials, nonces: nonces)
                #expect(answer["BTC"]?["main_balance"] == .string("0.10000000"))
                #expect(answer["USDT"]?["main_balance"] == .string("12.5"))

                let request = try #require(server.received.last)
                let path = read.signedEndpoint.pathTemplate
                #expect(request.method == "POST")
                #expect(request.uri == path)
                #expect(request.header("Content-Type") == "application/json")
                #expect(request.header("X-TXC-APIKEY") == credentials.apiKey)
                #expect(request.header("Authorization") == nil)
                let payload = try #require(request.header("X-TXC-PAYLOAD"))
                #expect(Data(base64Encoded: payload) == Data(request.body.utf8), "the payload is not the body sent")
                #expect(request.header("X-TXC-SIGNATURE") == V4Wire.hmacHex(payload, secret: credentials.secret.revealed))
                let fields = read == .spotBalance ? #""ticker":"BTC""# : #""limit":100,"offset":0"#
                #expect(request.body == #"{"request":"\#(path)","nonce":\#(expectedNonce),\#(fields)}"#)
                expectedNonce += 1
            }
            let counters = client.counters
            #expect(counters.requests == Dictionary(uniqueKeysWithValues: AccountRead.allCases.map { ($0.signedEndpoint, 1) }))
            #expect(counters.responses[.tradeBalance] == ["200": 1])
            #expect(counters.errors == 0)
        }
    }

    @Test func opensslAgreesWithTheSignatureTheServerSaw() async throws {
        try await V4Wire.withServer([.respond(status: 200, body: "{}")]) { server, client, _ in
            _ = try await client.accountRead(.mainBalance, credentials: credentials, nonces: V4NonceSource())
            let request = try #require(server.received.first)
            let payload = try #require(request.header("X-TXC-PAYLOAD"))
            #expect(try IndependentSigner.openssl(payload: payload, secret: credentials.secret.revealed) == request.header("X-TXC-SIGNATURE"))
            #expect(request.body.hasPrefix(#"{"request":"/api/v4/main-account/balance","nonce":"#))
        }
    }

    @Test func signedCallsForOneKeyReachTheServerInNonceOrder() async throws {
        try await V4Wire.withServer([.respond(status: 200, body: "[]")], configure: { $0.maxConcurrency = 8; $0.rateLimit = 1000 }) {
            server, client, _ in
            let nonces = V4NonceSource()
            let other = V4Credentials(apiKey: "other-key", secret: Sensitive("other-secret-SECRET"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<24 {
                    let key = index.isMultiple(of: 3) ? other : credentials
                    group.addTask { _ = try await client.accountRead(.deals, credentials: key, nonces: nonces) }
                }
                try await group.waitForAll()
            }
            let received = server.received
            #expect(received.count == 24)
            for apiKey in [credentials.apiKey, other.apiKey] {
                let seen = try received.filter { $0.header("X-TXC-APIKEY") == apiKey }.map { request -> Int64 in
                    let body = try #require(JSONValue.parse(Array(request.body.utf8)))
                    return try #require(body["nonce"].flatMap { $0.doubleValue }.map { Int64($0) })
                }
                #expect(seen.count == (apiKey == other.apiKey ? 8 : 16))
                #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 < $1 }, "nonces arrived out of order for \(apiKey)")
            }
        }
    }

    @Test func theBearerRouteSendsTheTokenAndTheFieldsOnly() async throws {
        try await V4Wire.withServer([.respond(status: 200, body: Self.balanceAnswer)]) { server, client, _ in
            let answer = try await client.accountRead(.spotBalance, parameters: ["ticker": .string("BTC")], bearer: token)
            #expect(answer["BTC"]?["main_balance"] == .string("0.10000000"))
            _ = try await client.accountRead(.transactions, bearer: token)
            let received = server.received
            #expect(received.map(\.method) == ["POST", "POST"])
            #expect(received.map(\.uri) == ["/api/v4/accounts/balances/spot", "/api/v4/accounts/transactions"])
            #expect(received.map(\.body) == [#"{"ticker":"BTC"}"#, "{}"])
            for request in received {
                #expect(request.header("Authorization") == "Bearer \(token.revealed)")
                #expect(request.header("Content-Type") == "application/json")
                #expect(request.header("X-TXC-APIKEY") == nil && request.header("X-TXC-SIGNATURE") == nil)
            }
            #expect(client.counters.requests == [.accountsSpotBalance: 1, .accountsTransactions: 1])
        }
    }

    @Test func reservedFieldsAreRefusedBeforeAnythingIsSent() async throws {
        try await V4Wire.withServer([.respond(status: 200, body: "{}")]) { server, client, logs in
            let signed = await V4Wire.failure {
                _ = try await client.accountRead(.orders, parameters: ["nonce": .integer(1)], credentials: credentials, nonces: V4NonceSource())
            }
            #expect(signed?.kind == .invalidRequest(reason: "the body names nonce, which the signer sets itself"))
            let bearer = await V4Wire.failure {
                _ = try await client.accountRead(.orders, parameters: ["request": .string("/x")], bearer: token)
            }
            #expect(bearer?.kind == .invalidRequest(reason: "the body names request, which are not read parameters"))
            #expect(server.received.isEmpty)
            #expect(client.counters.requests.isEmpty)
            #expect(client.counters.errors == 2)
            V4Wire.assertNoSecret(in: logs.all + [signed?.description ?? "", bearer?.description ?? ""], secrets: [credentials.secret.revealed, token.revealed])
        }
    }

    @Test func aSignedReadThatIsNotJSONIsMalformed() async throws {
        try await V4Wire.withServer([.respond(status: 200, body: "<html>")]) { _, client, _ in
            let error = await V4Wire.failure {
                _ = try await client.accountRead(.converts, credentials: credentials, nonces: V4NonceSource())
            }
            #expect(error?.kind == .malformedResponse(reason: "HTTP 200: body is not JSON"))
            #expect(client.counters.responses == [.convertHistory: ["200": 1]])
        }
    }

    @Test func aRequestSignedForAPartnerIsWhatTheServerAccepts() async throws {
        try await V4Wire.withServer([.respond(status: 200, body: "{}")]) { server, client, _ in
            let nonces = V4NonceSource(now: FixedClock(1_000).read)
            _ = try await client.accountRead(.mainBalance, credentials: credentials, nonces: nonces)
            let signed = try client.signedRequest(
                path: "/api/v4/trade-account/balance", jsonBody: #"{"ticker":"BTC"}"#, credentials: credentials, nonces: nonces)
            #expect(signed.nonce == 1_001, "the partner's nonce follows wbkeyd's own")
            #expect(client.url(of: signed) == server.baseURL + "/api/v4/trade-account/balance")
            #expect(signed.body == #"{"request":"/api/v4/trade-account/balance","nonce":1001,"ticker":"BTC"}"#)
            #expect(signed.signature == V4Wire.hmacHex(signed.payload, secret: credentials.secret.revealed))
            #expect(server.received.count == 1, "signing sends nothing")
            #expect(throws: V4SigningError(reason: "the body must be a JSON object, not an array")) {
                try client.signedRequest(path: "/api/v4/trade-account/balance", jsonBody: "[]", credentials: credentials, nonces: nonces)
            }
            #expect(nonces.lastIssued(for: credentials.apiKey) == 1_001, "a refused body spends no nonce")
        }
    }

    @Test func theTLSFloorIsOnePointTwo() throws {
        let configuration = WhiteBITClient.Configuration(baseURL: "https://whitebit.com", clientID: "c", clientSecret: Sensitive("s"))
        let http = WhiteBITClient.httpConfiguration(for: configuration)
        #expect(http.tlsConfiguration?.minimumTLSVersion == .tlsv12)
        #expect(http.tlsConfiguration?.certificateVerification == .fullVerification)
    }
}

/// A clock that does not move, so that nonces are predictable.
final class FixedClock: Sendable {
    let value: Int64
    init(_ value: Int64) { self.value = value }
    var read: V4NonceSource.WallClock { { self.value } }
}
