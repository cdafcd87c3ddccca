import Sensitive
import Testing
@testable import WhiteBITClient

/// Every documented V4 error (docs/whitebit-api.md §5.2, §5.3), as a real server sends it,
/// mapped to its case and verdict; and nothing the request carried in any text.
@Suite struct V4ErrorTests {
    let credentials = V4Credentials(apiKey: "550e8400-e29b-41d4-a716-446655440000", secret: Sensitive("api-secret-9f8e7d6c-SECRET"))
    let token = Sensitive("tok-3e1f00aa-SECRET")

    typealias Case = (status: Int, body: String, kind: WhiteBITError.Kind, verdict: WhiteBITError.Verdict, code: Int?)

    /// The older docs' shape for the auth errors, a list of lists.
    static func legacy(_ message: String) -> String {
        #"{"message":[["\#(message)"]],"result":[],"success":false}"#
    }

    static let documented: [Case] = [
        (400, legacy("Too many requests."), .nonceNotIncreasing, .transient, nil),
        (403, legacy("This action is unauthorized. Enable your key in API settings"), .keyDisabled, .keyDisabled, nil),
        (403, legacy("You don't have permission to use this endpoint. Please contact support for more details"),
         .endpointNotPermitted, .refused, nil),
        (403, #"{"code":0,"message":"You don’t have permission to use this endpoint."}"#, .endpointNotPermitted, .refused, 0),
        (400, #"{"code":9,"message":"Invalid payload."}"#, .invalidPayload, .refused, 9),
        (400, #"{"code":9,"message":"something else"}"#, .invalidPayload, .refused, 9),
        (400, legacy("Invalid payload."), .invalidPayload, .refused, nil),
        (401, legacy("Unauthorized request."), .signatureRejected, .keyGone, nil),
        (400, legacy("Nonce not provided."), .invalidPayload, .refused, nil),
        (400, legacy("Payload not provided."), .invalidPayload, .refused, nil),
        (400, legacy("Request not provided."), .invalidPayload, .refused, nil),
        (400, legacy("Your nonce is more than 5 seconds lesser than the current nonce"), .nonceOutsideWindow, .refused, nil),
        (400, legacy("Invalid nonceWindow."), .nonceOutsideWindow, .refused, nil),
        (422, #"{"code":0,"message":"Validation failed","errors":{"ticker":["Ticker field is required."],"limit":["x"]}}"#,
         .validation(fields: ["limit", "ticker"]), .refused, 0),
        (400, #"{"code":30,"message":"Validation failed","errors":{"offset":["bad"]}}"#, .validation(fields: ["offset"]), .refused, 30),
        (422, #"{"code":10,"message":"Market not found"}"#, .validation(fields: []), .refused, 10),
        (429, #"{"message":"Too many requests."}"#, .rateLimited, .transient, nil),
        (500, "<html>oops</html>", .server(status: 500), .transient, nil),
        (503, "", .server(status: 503), .transient, nil),
        (401, "{}", .unauthorized, .keyGone, nil),
        (403, "{}", .forbidden, .refused, nil),
        (404, "", .notFound, .refused, nil),
    ]

    @Test func eachDocumentedErrorIsItsCase() async throws {
        let answers = Self.documented.map { CannedHTTPServer.Answer.respond(status: $0.status, body: $0.body) }
        try await V4Wire.withServer(answers) { server, client, logs in
            let nonces = V4NonceSource()
            var texts: [String] = []
            for expected in Self.documented {
                let error = await V4Wire.failure {
                    _ = try await client.accountRead(.spotBalance, parameters: ["ticker": .string("BTC")], credentials: credentials, nonces: nonces)
                }
                let context = "\(expected.status) \(expected.body)"
                #expect(error?.kind == expected.kind, "\(context)")
                #expect(error?.verdict == expected.verdict, "\(context)")
                #expect(error?.httpStatus == expected.status, "\(context)")
                #expect(error?.code == expected.code, "\(context)")
                #expect(error?.endpoint == .tradeBalance)
                #expect(error?.description.contains(credentials.apiKey) == true, "the operator needs the key: \(context)")
                if let error { texts += [error.description, String(reflecting: error), "\(error.localizedDescription)"] }
            }
            #expect(client.counters.errors == Self.documented.count)
            #expect(client.counters.responses[.tradeBalance]?["403"] == 4)
            texts += logs.all + [client.counters.lastError?.description ?? ""]
            V4Wire.assertNoSecret(in: texts, secrets: [credentials.secret.revealed] + Self.sentSecrets(server))
        }
    }

    @Test func theOperatorReadsWhiteBITsWordsAndTheStatus() async throws {
        let body = Self.legacy("This action is unauthorized. Enable your key in API settings")
        try await V4Wire.withServer([.respond(status: 403, body: body)]) { _, client, _ in
            let error = await V4Wire.failure { _ = try await client.accountRead(.mainBalance, credentials: credentials, nonces: V4NonceSource()) }
            #expect(error?.messages == ["This action is unauthorized. Enable your key in API settings"])
            #expect(error?.description == "WhiteBIT POST /api/v4/main-account/balance: 403 key disabled (or this IP not allowed)"
                + " for key 550e8400-e29b-41d4-a716-446655440000"
                + " (WhiteBIT said: \"This action is unauthorized. Enable your key in API settings\")")
        }
    }

    @Test func aBodyEchoingThePayloadSignatureOrSecretIsScrubbed() async throws {
        let nonce: Int64 = 1_733_200_000_500
        let expected = try V4RequestSigner.sign(path: "/api/v4/main-account/history", nonce: nonce, credentials: credentials)
        let echo = #"{"code":0,"message":"bad \#(expected.signature) for \#(expected.payload) and \#(credentials.secret.revealed)","# 
            + #""errors":{"\#(expected.payload)":["\#(expected.body.replacingEvery("\"", with: "\\\""))"]}}"#
        try await V4Wire.withServer([.respond(status: 422, body: echo), .respond(status: 401, body: #"{"message":"token \#(token.revealed) refused"}"#)]) { server, client, logs in
            let nonces = V4NonceSource(now: FixedClock(nonce).read)
            let first = await V4Wire.failure { _ = try await client.accountRead(.transactions, credentials: credentials, nonces: nonces) }
            #expect(server.received.first?.header("X-TXC-SIGNATURE") == expected.signature, "the echo must be of what was sent")
            #expect(first?.kind == .validation(fields: ["<redacted>"]))
            #expect(first?.messages == ["bad <redacted> for <redacted> and <redacted>"])
            let second = await V4Wire.failure { _ = try await client.accountRead(.transactions, bearer: token) }
            #expect(second?.verdict == .tokenRejected, "a Bearer 401 is about the token, not the key")
            #expect(second?.messages == ["token <redacted> refused"])
            let texts = [first, second].compactMap { $0 }.flatMap { [$0.description, String(reflecting: $0)] }
                + logs.all + [client.counters.lastError?.description ?? ""]
            V4Wire.assertNoSecret(in: texts, secrets: [credentials.secret.revealed, token.revealed, expected.body] + Self.sentSecrets(server))
        }
    }

    @Test func noAnswerIsTransient() async throws {
        try await V4Wire.withServer([.close]) { server, client, logs in
            let error = await V4Wire.failure { _ = try await client.accountRead(.orders, credentials: credentials, nonces: V4NonceSource()) }
            #expect(error?.kind == .transport(reason: "connection closed without an answer"))
            #expect(error?.verdict == .transient)
            #expect(client.counters.responses == [.orderHistory: ["transport": 1]])
            V4Wire.assertNoSecret(in: logs.all + [error?.description ?? ""], secrets: [credentials.secret.revealed] + Self.sentSecrets(server))
        }
    }

    @Test func verdictsFollowTheRoute() {
        #expect(WhiteBITError(endpoint: .info, kind: .unauthorized).verdict == .tokenRejected)
        #expect(WhiteBITError(endpoint: .accountsDeals, kind: .unauthorized).verdict == .tokenRejected)
        #expect(WhiteBITError(endpoint: .mainBalance, kind: .unauthorized).verdict == .keyGone)
        #expect(WhiteBITError(endpoint: .secret, kind: .locked).verdict == .transient)
        #expect(WhiteBITError(endpoint: .delete, kind: .notFound).verdict == .refused)
        #expect(WhiteBITError(endpoint: .mainBalance, kind: .nonceNotIncreasing).isTransient)
        // The V4 messages mean something on V4 paths only.
        let oauth = ErrorMapping.error(
            endpoint: .info, externalID: nil, status: 401, body: Array(Self.legacy("Unauthorized request.").utf8), secrets: [])
        #expect(oauth.kind == .unauthorized && oauth.code == nil)
        let bearer = ErrorMapping.error(
            endpoint: .accountsMainBalance, externalID: nil, status: 401, body: Array(#"{"code":3,"message":"Unauthorized request."}"#.utf8),
            secrets: [])
        #expect(bearer.kind == .unauthorized && bearer.code == 3 && bearer.verdict == .tokenRejected)
    }

    /// Every payload and signature the server received: neither may appear in any text.
    static func sentSecrets(_ server: CannedHTTPServer) -> [String] {
        server.received.flatMap { [$0.header("X-TXC-PAYLOAD") ?? "", $0.header("X-TXC-SIGNATURE") ?? ""] }
    }
}
