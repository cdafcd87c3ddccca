import Sensitive
import Testing
@testable import WhiteBITClient

/// What the client puts on the wire, and what it makes of answers whitebit-sim never
/// gives, against a real HTTP server on loopback.
@Suite struct ClientWireTests {
    let token = Sensitive("tok-3e1f00aa-SECRET")
    let code = Sensitive("code-77c0ffee-SECRET")
    let verifier = Sensitive("verifier-abcdefghijklmnopqrstuvwxyz0123456789-SECRET")
    let clientSecret = Sensitive("client-secret-5150-SECRET")

    private func withServer(
        _ answers: [CannedHTTPServer.Answer],
        configure: (inout WhiteBITClient.Configuration) -> Void = { _ in },
        _ body: (CannedHTTPServer, WhiteBITClient, LogRecorder) async throws -> Void
    ) async throws {
        let server = try await CannedHTTPServer(answers: answers)
        let logs = LogRecorder()
        // Far past any answer: a test that wants the deadline sets its own, and a loaded
        // runner that starves the test process must not turn another outcome into a timeout.
        var configuration = WhiteBITClient.Configuration(
            baseURL: server.baseURL + "/", clientID: "wbkeyd-demo", clientSecret: clientSecret, requestTimeout: .seconds(180)
        )
        configure(&configuration)
        let client = try WhiteBITClient(configuration: configuration, logger: logs.logger())
        do {
            try await body(server, client, logs)
        } catch {
            await client.shutdown()
            try await server.stop()
            throw error
        }
        await client.shutdown()
        try await server.stop()
        assertNoSecret(in: logs.all + [client.counters.lastError?.description ?? ""])
    }

    private func failure(_ body: () async throws -> Void) async -> WhiteBITError? {
        do {
            try await body()
            Issue.record("expected a WhiteBITError")
            return nil
        } catch let error as WhiteBITError {
            assertNoSecret(in: [error.description, String(reflecting: error)])
            return error
        } catch {
            Issue.record("expected a WhiteBITError, got \(type(of: error))")
            return nil
        }
    }

    @Test func theTokenRequestIsTheDocumentedForm() async throws {
        let answer = CannedHTTPServer.Answer.respond(status: 200, body: #"{"data":{"access_token":"T-1","expires_in":14400}}"#)
        try await withServer([answer]) { server, client, _ in
            let granted = try await client.exchangeCode(code: code, codeVerifier: verifier)
            #expect(granted.value.revealed == "T-1")
            #expect(granted.expiresIn == .seconds(14400))
            #expect(granted.scopes.isEmpty)
            #expect(client.counters.responses == [.token: ["200": 1]])
            let request = try #require(server.received.first)
            #expect(request.method == "POST")
            #expect(request.uri == "/oauth2/token")
            #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
            #expect(request.formFields == [
                "client_id": "wbkeyd-demo", "client_secret": clientSecret.revealed,
                "code": code.revealed, "code_verifier": verifier.revealed,
            ])
        }
        try await withServer([answer], configure: {
            $0.redirectURI = "https://partner.example/oauth/callback?x=1&y=2"
            $0.sendsGrantType = true
        }) { server, client, _ in
            #expect(try await client.exchangeCode(code: code, codeVerifier: verifier).value.revealed == "T-1")
            let fields = try #require(server.received.first).formFields
            #expect(fields["redirect_uri"] == "https://partner.example/oauth/callback?x=1&y=2")
            #expect(fields["grant_type"] == "authorization_code")
            #expect(fields.count == 6)
        }
    }

    @Test func keyCallsCarryTheBearerTokenAndAnEscapedPath() async throws {
        let answers: [CannedHTTPServer.Answer] = [
            .respond(status: 200, body: #"{"data":{"exists":false,"isEnabled":false,"externalId":null,"permissions":[]}}"#),
            .respond(status: 200, body: #"{"data":{"apiSecret":"S-1"}}"#),
            .respond(status: 200, body: #"{"data":[]}"#),
        ]
        try await withServer(answers) { server, client, logs in
            let info = try await client.apiKeyInfo(token: token)
            #expect(info == APIKeyInfo(exists: false, isEnabled: false, externalID: nil, permissions: []))
            #expect(try await client.apiKeySecret(externalID: "../k 1", token: token).revealed == "S-1")
            try await client.deleteAPIKey(externalID: "a/b", token: token)
            #expect(client.counters.requests == [.info: 1, .secret: 1, .delete: 1])
            let received = server.received
            #expect(received.map(\.method) == ["GET", "GET", "DELETE"])
            #expect(received.map(\.uri) == ["/oauth2/api-key/info", "/oauth2/api-key/..%2Fk%201/secret", "/oauth2/api-key/a%2Fb"])
            #expect(received.allSatisfy { $0.header("Authorization") == "Bearer \(token.revealed)" })
            #expect(received.allSatisfy { $0.body.isEmpty })
            #expect(logs.all.count == 3)
            #expect(logs.all.allSatisfy { $0.hasPrefix("debug WhiteBIT request") && $0.contains("whitebit.outcome=200") })
        }
    }

    @Test func aDeletionAnsweredWithAnyTwoHundredIsDone() async throws {
        try await withServer([.respond(status: 200, body: ""), .respond(status: 204, body: "")]) { server, client, logs in
            try await client.deleteAPIKey(externalID: "k-1", token: token)
            try await client.deleteAPIKey(externalID: "k-1", token: token)
            #expect(server.received.map(\.method) == ["DELETE", "DELETE"])
            #expect(server.received.map(\.uri) == ["/oauth2/api-key/k-1", "/oauth2/api-key/k-1"])
            #expect(client.counters.requests == [.delete: 2])
            #expect(client.counters.responses == [.delete: ["200": 1, "204": 1]])
            #expect(client.counters.errors == 0 && client.counters.lastError == nil)
            #expect(logs.all.map { $0.contains("whitebit.outcome=204") } == [false, true])
        }
    }

    @Test func aMalformedTwoHundredNamesTheProblemNotTheBody() async throws {
        let leaky = #"{"data":{"access_token":["\#(token.revealed)"],"apiSecret":{"v":"\#(token.revealed)"}}}"#
        try await withServer([.respond(status: 200, body: leaky)]) { _, client, _ in
            let tokenError = await failure { _ = try await client.exchangeCode(code: code, codeVerifier: verifier) }
            #expect(tokenError?.kind == .malformedResponse(reason: "HTTP 200: access_token is not a non-empty string"))
            let secretError = await failure { _ = try await client.apiKeySecret(externalID: "k-1", token: token) }
            #expect(secretError?.kind == .malformedResponse(reason: "HTTP 200: data.apiSecret is not a non-empty string"))
            #expect(secretError?.isTransient == false)
            #expect(client.counters.responses == [.token: ["200": 1], .secret: ["200": 1]])
            #expect(client.counters.errors == 2)
        }
    }

    @Test func anOversizedBodyIsRefused() async throws {
        let huge = #"{"data":{"apiSecret":""# + String(repeating: "x", count: WhiteBITClient.maximumBodyBytes) + #""}}"#
        try await withServer([.respond(status: 200, body: huge)]) { _, client, _ in
            let error = await failure { _ = try await client.apiKeySecret(externalID: "k-1", token: token) }
            #expect(error?.kind == .malformedResponse(reason: "body larger than \(WhiteBITClient.maximumBodyBytes) bytes"))
        }
    }

    @Test func aRedirectIsNotFollowed() async throws {
        let redirect = CannedHTTPServer.Answer.respond(status: 302, body: "", headers: [("Location", "/elsewhere")])
        try await withServer([redirect]) { server, client, _ in
            let error = await failure { _ = try await client.exchangeCode(code: code, codeVerifier: verifier) }
            #expect(error?.kind == .rejected(status: 302))
            #expect(server.received.count == 1, "the form with the client secret went to a second place")
        }
    }

    @Test func aBodyThatNeverArrivesEndsAtTheRequestTimeout() async throws {
        try await withServer([.stallAfterHead(bodyLength: 100)], configure: { $0.requestTimeout = .milliseconds(300) }) {
            _, client, _ in
            let error = await failure { _ = try await client.apiKeyInfo(token: token) }
            #expect(error?.kind == .timeout)
            #expect(client.counters.responses == [.info: ["timeout": 1]])
            // Timed to the deadline: in the 0.5 s bucket, not the 0.25 s one.
            let latency = try #require(client.counters.latency[.info])
            #expect(latency.count == 1 && latency.sum >= 0.3, "\(latency)")
            #expect(latency.cumulativeCounts[LatencyHistogram.bounds.firstIndex(of: 0.25)!] == 0, "\(latency)")
            #expect(latency.cumulativeCounts.last == 1, "\(latency)")
        }
    }

    @Test func aConnectionClosedWithoutAnAnswerIsTransport() async throws {
        try await withServer([.close]) { _, client, _ in
            let error = await failure { try await client.deleteAPIKey(externalID: "k-1", token: token) }
            #expect(error?.kind == .transport(reason: "connection closed without an answer"))
        }
    }

    @Test func aHostileErrorBodyLeavesNoSecretInTheErrorOrTheLog() async throws {
        let hostile = """
            {"data":{"message":["bad code \(code.revealed), verifier \(verifier.revealed), secret \(clientSecret.revealed)"],
             "access_token":"\(token.revealed)"},"errors":{"\(code.revealed)":["x"]}}
            """
        try await withServer([.respond(status: 400, body: hostile), .respond(status: 422, body: hostile)]) { _, client, _ in
            let first = await failure { _ = try await client.exchangeCode(code: code, codeVerifier: verifier) }
            #expect(first?.kind == .rejected(status: 400))
            #expect(first?.messages == ["bad code <redacted>, verifier <redacted>, secret <redacted>"])
            let second = await failure { _ = try await client.exchangeCode(code: code, codeVerifier: verifier) }
            #expect(second?.kind == .validation(fields: ["<redacted>"]))
        }
    }

    /// Reports a leak without printing the secret.
    private func assertNoSecret(in texts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let secrets = [token, code, verifier, clientSecret].map(\.revealed) + ["SECRET"]
        for text in texts {
            let leaked = secrets.contains { text.contains($0) }
            #expect(!leaked, "a secret leaked into: \(secrets.reduce(text) { $0.replacingEvery($1, with: "<SECRET>") })",
                    sourceLocation: sourceLocation)
        }
    }
}
