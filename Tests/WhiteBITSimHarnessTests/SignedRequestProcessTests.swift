import Foundation
import Testing
import WhiteBITSimHarness

/// The real simulator process against a signer written in Python from the API doc alone.
@Suite struct SignedRequestProcessTests {
    static let balance = "/api/v4/main-account/balance"

    struct Issued {
        let externalID: String
        let secret: String
    }

    static func issue(_ sim: SimProcess, user: String = "u-1", permissions: [String]? = nil) async throws -> Issued {
        let consent = try await sim.admin.consent(user: user, codeChallenge: nil, key: .now, permissions: permissions)
        let externalID = try #require(consent.externalID)
        let key = try #require(try await sim.admin.state().key(externalID))
        return Issued(externalID: externalID, secret: key.apiSecret)
    }

    var nowMilliseconds: Int { Int(Date().timeIntervalSince1970 * 1000) }

    @Test func anIndependentlySignedRequestIsAcceptedAndEachFlawGetsItsDocumentedError() async throws {
        try await SimProcess.withRunning { sim in
            let key = try await Self.issue(sim)
            let python = PythonSigner(sim: sim)
            let nonce = nowMilliseconds
            let good = try python.send(Self.balance, key: key.externalID, secret: key.secret, nonce: nonce, fields: ["ticker": "BTC"])
            #expect(good.status == 200, "\(good.body)")
            #expect(good.json?["main_balance"] is String)

            let wrongSecret = try python.send(Self.balance, key: key.externalID, secret: String(repeating: "0", count: 32), nonce: nonce + 1)
            #expect(wrongSecret.status == 401)
            #expect(wrongSecret.body == #"{"code":0,"message":"Unauthorized request."}"#)

            let bodyChanged = try python.send(Self.balance, key: key.externalID, secret: key.secret, nonce: nonce + 2, tamper: .bodyChanged)
            #expect(bodyChanged.status == 400)
            #expect(bodyChanged.body == #"{"code":9,"message":"Invalid payload"}"#)

            let payloadChanged = try python.send(Self.balance, key: key.externalID, secret: key.secret, nonce: nonce + 3, tamper: .payloadChanged)
            #expect(payloadChanged.status == 401)
            #expect(payloadChanged.body == #"{"code":0,"message":"Unauthorized request."}"#)

            let spaced = try python.send(Self.balance, key: key.externalID, secret: key.secret, nonce: nonce + 4, tamper: .spaced)
            #expect(spaced.status == 400)
            #expect(spaced.body == #"{"code":9,"message":"Invalid payload."}"#)

            let stale = try python.send(Self.balance, key: key.externalID, secret: key.secret, nonce: nonce)
            #expect(stale.status == 429)
            #expect(stale.body == #"{"code":0,"message":"Too many requests."}"#)

            let windowNonce = nowMilliseconds
            let first = try python.send(Self.balance, key: key.externalID, secret: key.secret, nonce: windowNonce, window: true)
            #expect(first.status == 200, "\(first.body)")
            let repeated = try python.send(Self.balance, key: key.externalID, secret: key.secret, nonce: windowNonce, window: true)
            #expect(repeated.status == 429)
            #expect(repeated.body == #"{"code":0,"message":"Too many requests."}"#)

            let outside = try python.send(Self.balance, key: key.externalID, secret: key.secret, nonce: windowNonce - 60_000, window: true)
            #expect(outside.status == 400)
            #expect(outside.body == #"{"code":9,"message":"Your nonce is more than 5 seconds lesser than the current nonce"}"#)

            // The log shows exactly these requests, in order, and nothing secret.
            let log = try await sim.admin.requestLog(externalID: key.externalID)
            #expect(log.map(\.status) == [200, 401, 400, 401, 400, 429, 200, 429, 400])
            #expect(log.allSatisfy { $0.path == Self.balance && $0.source == "127.0.0.1" })
            let logText = String(decoding: try JSONEncoder().encode(log.map(\.message)), as: UTF8.self)
            #expect(!logText.contains(key.secret))
        }
    }

    @Test func aKeyThatMadeNoRequestHasAnEmptyLog() async throws {
        try await SimProcess.withRunning { sim in
            let key = try await Self.issue(sim)
            #expect(try await sim.admin.requestLog(externalID: key.externalID).isEmpty)
            #expect(try await sim.admin.state().key(key.externalID)?.signedRequests == 0)
        }
    }

    @Test func permissionsDisabledAndIdleKeysOverHTTP() async throws {
        try await SimProcess.withRunning(arguments: ["--key-inactivity", "1h"]) { sim in
            let python = PythonSigner(sim: sim)
            let readOnly = try await Self.issue(sim, user: "u-ro", permissions: ["none"])
            let refused = try python.send(Self.balance, key: readOnly.externalID, secret: readOnly.secret, nonce: 1)
            #expect(refused.status == 403)
            #expect(refused.message == "You don't have permission to use this endpoint.")
            try await sim.admin.setPermissions(externalID: readOnly.externalID, ["read-only"])
            #expect(try python.send(Self.balance, key: readOnly.externalID, secret: readOnly.secret, nonce: 2).status == 200)

            let idle = try await Self.issue(sim, user: "u-idle")
            #expect(try await sim.admin.settings().keyInactivityMilliseconds == 3_600_000)
            let status = try await sim.admin.setIdle(externalID: idle.externalID, milliseconds: 3_600_000)
            #expect(!status.enabled)
            let disabled = try python.send(Self.balance, key: idle.externalID, secret: idle.secret, nonce: 1)
            #expect(disabled.status == 403)
            #expect(disabled.message == "This action is unauthorized. Enable your key in API settings")

            let deleted = try await Self.issue(sim, user: "u-gone")
            try await sim.admin.deleteKey(user: "u-gone")
            #expect(try python.send(Self.balance, key: deleted.externalID, secret: deleted.secret, nonce: 1).status == 401)
            try await sim.admin.updateSettings(SimAdminSettings(deletedKey: "404"))
            let notFound = try python.send(Self.balance, key: deleted.externalID, secret: deleted.secret, nonce: 2)
            #expect(notFound.status == 404)
            #expect(notFound.message == "Key not found.")
        }
    }

    @Test func theAPIKeyReadingHandsThePublicKeyToTheCallback() async throws {
        try await SimProcess.withRunning { sim in
            try await sim.admin.updateSettings(SimAdminSettings(apiKeyHeader: "api_key"))
            let consent = try await sim.admin.consent(user: "u-1", codeChallenge: nil, key: .now)
            let apiKey = try #require(consent.apiKey)
            #expect(consent.location.contains("api_key=\(apiKey)"))
            let externalID = try #require(consent.externalID)
            let key = try #require(try await sim.admin.state().key(externalID))
            #expect(key.apiKey == apiKey)
            let python = PythonSigner(sim: sim)
            #expect(try python.send(Self.balance, key: apiKey, secret: key.apiSecret, nonce: 1).status == 200)
            #expect(try python.send(Self.balance, key: key.externalID, secret: key.apiSecret, nonce: 2).status == 401)
        }
    }

    @Test func theRateLimitTellsLoopbackSourcesApart() async throws {
        try await SimProcess.withRunning { sim in
            try await sim.admin.updateSettings(SimAdminSettings(rateLimit: SimRateLimit(windowMilliseconds: 60_000, mainAccount: 2)))
            let key = try await Self.issue(sim)
            let python = PythonSigner(sim: sim)
            var nonce = 0
            func read(from source: String) throws -> Int {
                nonce += 1
                return try python.send(Self.balance, key: key.externalID, secret: key.secret, nonce: nonce, source: source).status
            }
            #expect(try read(from: "127.0.0.2") == 200)
            #expect(try read(from: "127.0.0.2") == 200)
            #expect(try read(from: "127.0.0.2") == 429)
            #expect(try read(from: "127.0.0.3") == 200)
            let sources = try await sim.admin.requestLog(externalID: key.externalID).compactMap(\.source)
            #expect(sources == ["127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.3"])
            try await sim.admin.updateSettings(SimAdminSettings(rateLimit: SimRateLimit(enabled: false)))
            #expect(try read(from: "127.0.0.2") == 200)
        }
    }

    /// `POST /sim/keys` makes keys whose secrets sign at once, as if each user had consented
    /// and the secret had been fetched; `GET /sim/counts` counts what they did.
    @Test func bulkKeysSignAndAreCountedLikeConsentedOnes() async throws {
        try await SimProcess.withRunning { sim in
            let made = try await sim.admin.createKeys(userPrefix: "bulk-", first: 5, count: 3)
            #expect(made.map(\.user) == ["bulk-5", "bulk-6", "bulk-7"])
            let before = try await sim.admin.counts()
            let python = PythonSigner(sim: sim)
            for key in made {
                let answer = try python.send(Self.balance, key: key.externalID, secret: key.apiSecret.revealed, nonce: nowMilliseconds)
                #expect(answer.status == 200, "\(answer.body)")
            }
            let after = try await sim.admin.counts()
            #expect(after.accountRequests["signed", default: 0] - before.accountRequests["signed", default: 0] == 3)
            let state = try await sim.admin.state()
            for key in made {
                let held = try #require(state.key(key.externalID))
                #expect(held.user == key.user && held.apiSecret == key.apiSecret.revealed)
                #expect(held.secretRetrieved, "the secret counts as fetched: an OAuth retrieval would be 409")
            }
            #expect(state.accountRequests == after.accountRequests)
            // The one-key rule: a user with a live key gets none, and nothing is made.
            await #expect(throws: SimAdminError.self) { try await sim.admin.createKeys(userPrefix: "bulk-", first: 7, count: 2) }
            #expect(try await sim.admin.state().keys.count == 3)
            await #expect(throws: SimAdminError.self) { try await sim.admin.createKeys(userPrefix: "x-", first: 0, count: 10_001) }
        }
    }
}
