import Crypto
import Sensitive
import Testing
@testable import WhiteBITClient

/// What the V4 wire tests share: a client on a canned server, and the leak search.
enum V4Wire {
    static func withServer(
        _ answers: [CannedHTTPServer.Answer],
        configure: (inout WhiteBITClient.Configuration) -> Void = { _ in },
        _ body: (CannedHTTPServer, WhiteBITClient, LogRecorder) async throws -> Void
    ) async throws {
        let server = try await CannedHTTPServer(answers: answers)
        let logs = LogRecorder()
        var configuration = WhiteBITClient.Configuration(
            baseURL: server.baseURL, clientID: "wbkeyd-demo", clientSecret: Sensitive("client-secret-5150-SECRET"),
            // Far above any answer's time: a loaded machine (a full suite beside two builds)
            // once took over 20 s to deliver a `.close`, and the test saw a timeout instead.
            requestTimeout: .seconds(90)
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
    }

    static func failure(_ body: () async throws -> Void) async -> WhiteBITError? {
        do {
            try await body()
            Issue.record("expected a WhiteBITError")
            return nil
        } catch let error as WhiteBITError {
            return error
        } catch {
            Issue.record("expected a WhiteBITError, got \(type(of: error))")
            return nil
        }
    }

    /// HMAC-SHA512 of the payload string, hex, straight from swift-crypto.
    static func hmacHex(_ payload: String, secret: String) -> String {
        let code = HMAC<SHA512>.authenticationCode(for: Array(payload.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return code.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
    }

    /// Reports a leak without printing what leaked.
    static func assertNoSecret(in texts: [String], secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let secrets = secrets.filter { !$0.isEmpty } + ["SECRET"]
        for text in texts {
            let leaked = secrets.contains { text.contains($0) }
            #expect(!leaked, "a secret leaked into: \(secrets.reduce(text) { $0.replacingEvery($1, with: "<SECRET>") })",
                    sourceLocation: sourceLocation)
        }
    }
}
