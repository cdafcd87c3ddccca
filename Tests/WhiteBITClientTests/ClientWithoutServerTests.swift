import Sensitive
import Testing
@testable import WhiteBITClient

/// The client's own behaviour where no WhiteBIT answer is involved: refusals before
/// sending, a port where nothing listens, and the redaction of errors built from hostile
/// bodies.
@Suite struct ClientWithoutServerTests {
    let token = Sensitive("tok-7f3a9c21-SECRET")
    let code = Sensitive("code-51be77d0-SECRET")
    let verifier = Sensitive("verifier-0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d-SECRET")
    let clientSecret = Sensitive("client-secret-99aa-SECRET")

    private func client(port: Int, logs: LogRecorder) throws -> WhiteBITClient {
        try WhiteBITClient(
            configuration: .init(
                baseURL: "http://127.0.0.1:\(port)", clientID: "wbkeyd-demo", clientSecret: clientSecret,
                requestTimeout: .seconds(5)
            ),
            logger: logs.logger()
        )
    }

    @Test func anUnsafeExternalIDIsRefusedBeforeAnythingIsSent() async throws {
        let logs = LogRecorder()
        let refusing = try RefusingPort()
        let client = try client(port: refusing.port, logs: logs)
        for externalID in ["", ".", ".."] {
            await #expect {
                try await client.apiKeySecret(externalID: externalID, token: token)
            } throws: { error in
                guard let error = error as? WhiteBITError, case .invalidRequest = error.kind else { return false }
                return error.endpoint == .secret && !error.isTransient
            }
            await #expect(throws: WhiteBITError.self) { try await client.deleteAPIKey(externalID: externalID, token: token) }
        }
        let counters = client.counters
        #expect(counters.totalRequests == 0)
        #expect(counters.errors == 6)
        #expect(counters.lastError?.endpoint == .delete)
        await client.shutdown()
        withExtendedLifetime(refusing) {}
    }

    @Test func aTokenThatCannotBeAHeaderValueIsRefusedWithoutQuotingIt() async throws {
        let logs = LogRecorder()
        let refusing = try RefusingPort()
        let client = try client(port: refusing.port, logs: logs)
        let bad = Sensitive("tok-SECRET\r\nX-Injected: 1")
        do {
            _ = try await client.apiKeyInfo(token: bad)
            Issue.record("expected a refusal")
        } catch {
            guard case .invalidRequest = error.kind else {
                Issue.record("expected invalidRequest, got \(error.kind)")
                return
            }
            assertNoSecret(in: [error.description])
        }
        await #expect(throws: WhiteBITError.self) { try await client.apiKeyInfo(token: Sensitive("")) }
        #expect(client.counters.totalRequests == 0)
        await client.shutdown()
        withExtendedLifetime(refusing) {}
    }

    @Test func nothingListeningIsATransientTransportError() async throws {
        let logs = LogRecorder()
        let refusing = try RefusingPort()
        let client = try client(port: refusing.port, logs: logs)
        do {
            _ = try await client.exchangeCode(code: code, codeVerifier: verifier)
            Issue.record("expected a transport error")
        } catch {
            #expect(error.kind == .transport(reason: "connection refused"))
            #expect(error.isTransient)
            #expect(error.httpStatus == nil)
        }
        let counters = client.counters
        #expect(counters.requests == [.token: 1])
        #expect(counters.responses == [.token: ["transport": 1]])
        #expect(counters.errors == 1)
        #expect(counters.lastError?.description.contains("connection refused") == true)
        #expect(logs.all.contains { $0.contains("whitebit.outcome=transport") && $0.contains("http.path=/oauth2/token") })
        assertNoSecret(in: logs.all + [counters.lastError?.description ?? ""])
        await client.shutdown()
        withExtendedLifetime(refusing) {}
    }

    @Test func anErrorBuiltFromABodyFullOfSecretsCarriesNone() {
        let hostile = """
            {"data":{"message":["Invalid code \(code.revealed) for \(clientSecret.revealed)"],
                     "access_token":"\(token.revealed)","code_verifier":"\(verifier.revealed)"},
             "errors":{"\(code.revealed)":["validation.invalid"]},
             "debug":"\(verifier.revealed) \(token.revealed)"}
            """
        let secrets = [code, verifier, clientSecret, token]
        for endpoint in Endpoint.allCases {
            for status in [300, 400, 401, 403, 404, 409, 410, 422, 423, 429, 500, 502, 503] {
                let error = ErrorMapping.error(
                    endpoint: endpoint, externalID: "k-1", status: status, body: Array(hostile.utf8), secrets: secrets
                )
                assertNoSecret(in: [error.description, error.localizedDescription, "\(error)", String(reflecting: error)])
            }
        }
    }

    /// Reports a leak without printing the secret: a failing test's output must not carry it either.
    private func assertNoSecret(in texts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let secrets = [token, code, verifier, clientSecret].map(\.revealed) + ["SECRET"]
        for text in texts {
            let leaked = secrets.contains { text.contains($0) }
            #expect(!leaked, "a secret leaked into: \(secrets.reduce(text) { $0.replacingEvery($1, with: "<SECRET>") })",
                    sourceLocation: sourceLocation)
        }
    }
}
