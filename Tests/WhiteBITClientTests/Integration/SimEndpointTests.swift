import Sensitive
import Testing
import WhiteBITSimHarness
@testable import WhiteBITClient

/// Every endpoint and every documented answer, against the real simulator.
@Suite struct SimEndpointTests {
    @Test func theWholeFlowFromCodeToDeletion() async throws {
        try await SimScenario.run { s in
            let (token, authorization) = try await s.token(user: "u-1001")
            #expect(token.expiresIn == .seconds(14400))
            #expect(token.scopes == ["apikeys.create", "apikeys.read", "apikeys.delete"])

            let info = try await s.client.apiKeyInfo(token: token.value)
            #expect(info.exists && info.isEnabled)
            let externalID = try #require(info.externalID)
            #expect(externalID == authorization.externalID)

            let secret = try await s.client.apiKeySecret(externalID: externalID, token: token.value)
            let state = try await s.sim.admin.state()
            #expect(secret.revealed == state.key(externalID)?.apiSecret)
            #expect(state.tokens.map(\.accessToken) == [token.value.revealed])

            let again = await s.failure { try await s.client.apiKeySecret(externalID: externalID, token: token.value) }
            #expect(again?.kind == .secretAlreadyRetrieved)
            #expect(again?.messages == ["Secret already retrieved."])
            #expect(again?.isTransient == false)

            try await s.client.deleteAPIKey(externalID: externalID, token: token.value)
            let after = try await s.client.apiKeyInfo(token: token.value)
            #expect(after == APIKeyInfo(exists: false, isEnabled: false, externalID: nil, permissions: []))

            let deletedAgain = await s.failure { try await s.client.deleteAPIKey(externalID: externalID, token: token.value) }
            #expect(deletedAgain?.kind == .notFound)
            let secretOfDeleted = await s.failure {
                try await s.client.apiKeySecret(externalID: externalID, token: token.value)
            }
            #expect(secretOfDeleted?.kind == .notFound)
            #expect(secretOfDeleted?.messages == ["Key not found."])

            let final = try await s.sim.admin.state()
            let counters = s.client.counters
            #expect(counters.requests == [.token: 1, .info: 2, .secret: 3, .delete: 2])
            #expect(final.requests == ["token": 1, "info": 2, "secret": 3, "delete": 2])
            #expect(counters.responses == [
                .token: ["200": 1], .info: ["200": 2], .secret: ["200": 1, "409": 1, "404": 1],
                .delete: ["200": 1, "404": 1],
            ])
            #expect(counters.errors == 3)
            #expect(counters.lastError?.endpoint == .secret)
            #expect(s.logs.all.contains { $0.contains("http.path=/oauth2/api-key/\(externalID)/secret") })
        }
    }

    @Test func theDocumentedPermissionsComeThrough() async throws {
        try await SimScenario.run { s in
            let (token, _) = try await s.token(user: "u-perm")
            let info = try await s.client.apiKeyInfo(token: token.value)
            #expect(info.permissions == [
                Permission(name: "trading", title: "Trading", urls: [PermittedURL(url: "/v2/order", enable: true)]),
            ])
        }
    }

    @Test func noKeyIsAnAnswerAndADisabledKeyIsReportedAsSuch() async throws {
        try await SimScenario.run { s in
            let (never, _) = try await s.token(user: "u-never", key: .never)
            let none = try await s.client.apiKeyInfo(token: never.value)
            #expect(!none.exists && !none.isEnabled && none.externalID == nil && none.permissions.isEmpty)

            let (later, _) = try await s.token(user: "u-later", key: .after(milliseconds: 3_600_000))
            #expect(try await s.client.apiKeyInfo(token: later.value).exists == false)

            let (token, authorization) = try await s.token(user: "u-idle")
            try await s.sim.admin.disableKey(user: "u-idle")
            let disabled = try await s.client.apiKeyInfo(token: token.value)
            #expect(disabled.exists && !disabled.isEnabled)
            #expect(disabled.externalID == authorization.externalID)
            #expect(!disabled.permissions.isEmpty, "a disabled key keeps its permissions")
        }
    }

    @Test func aKeyTheUserDeletedOrLostWithAPasswordChangeIsGone() async throws {
        try await SimScenario.run { s in
            let (token, authorization) = try await s.token(user: "u-gone")
            let externalID = try #require(authorization.externalID)
            try await s.sim.admin.deleteKey(user: "u-gone")
            #expect(try await s.client.apiKeyInfo(token: token.value).exists == false)
            #expect(await s.failure { try await s.client.apiKeySecret(externalID: externalID, token: token.value) }?.kind
                == .notFound)

            let (second, secondAuthorization) = try await s.token(user: "u-password")
            try await s.sim.admin.changePassword(user: "u-password")
            #expect(try await s.client.apiKeyInfo(token: second.value).exists == false)
            let externalID2 = try #require(secondAuthorization.externalID)
            #expect(await s.failure { try await s.client.deleteAPIKey(externalID: externalID2, token: second.value) }?.kind
                == .notFound)
        }
    }

    @Test func anotherClientsKeyIsForbidden() async throws {
        try await SimScenario.run { s in
            let otherSecret = Sensitive("other-client-secret-0042")
            try await s.sim.admin.registerClient(
                id: "other-partner", secret: otherSecret, redirectURIs: [SimScenario.redirectURI]
            )
            let other = try s.makeClient {
                $0.clientID = "other-partner"
                $0.clientSecret = otherSecret
            }
            let (otherToken, otherAuthorization) = try await s.token(user: "u-shared", using: other)
            let otherKey = try #require(otherAuthorization.externalID)
            #expect(try await other.apiKeyInfo(token: otherToken.value).externalID == otherKey)

            let (ourToken, _) = try await s.token(user: "u-shared")
            let secret = await s.failure { try await s.client.apiKeySecret(externalID: otherKey, token: ourToken.value) }
            #expect(secret?.kind == .forbidden)
            #expect(secret?.messages == ["Forbidden."])
            let deletion = await s.failure { try await s.client.deleteAPIKey(externalID: otherKey, token: ourToken.value) }
            #expect(deletion?.kind == .forbidden)
            #expect(try await s.sim.admin.state().key(otherKey)?.deleted == false)
        }
    }

    @Test func tokenEndpointRefusals() async throws {
        try await SimScenario.run { s in
            let wrongSecret = try s.makeClient { $0.clientSecret = Sensitive("not-the-client-secret") }
            let authorization = try await s.authorize(user: "u-t1")
            let refused = await s.failure {
                try await wrongSecret.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            }
            #expect(refused?.kind == .unauthorized)
            #expect(refused?.messages == ["Invalid request"])

            let wrongVerifier = await s.failure {
                try await s.client.exchangeCode(code: authorization.code, codeVerifier: Sensitive(String(repeating: "v", count: 64)))
            }
            #expect(wrongVerifier?.kind == .unauthorized)
            let burnt = await s.failure {
                try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            }
            #expect(burnt?.kind == .unauthorized, "a failed verifier check burns the code")

            let reused = try await s.authorize(user: "u-t2")
            _ = try await s.client.exchangeCode(code: reused.code, codeVerifier: reused.verifier)
            let second = await s.failure { try await s.client.exchangeCode(code: reused.code, codeVerifier: reused.verifier) }
            #expect(second?.kind == .unauthorized)

            let unknown = await s.failure {
                try await s.client.exchangeCode(code: Sensitive("no-such-code-123"), codeVerifier: reused.verifier)
            }
            #expect(unknown?.kind == .unauthorized)

            let missing = await s.failure {
                try await s.client.exchangeCode(code: Sensitive(""), codeVerifier: Sensitive(""))
            }
            #expect(missing?.kind == .validation(fields: ["code", "code_verifier"]))
            #expect(missing?.httpStatus == 422)
        }
    }

    @Test func aTokenThatExpiredOrNeverExistedIsUnauthorizedEverywhere() async throws {
        try await SimScenario.run { s in
            let (token, authorization) = try await s.token(user: "u-exp")
            let externalID = try #require(authorization.externalID)
            try await s.sim.admin.expireTokens(user: "u-exp")
            for call in [
                { try await s.client.apiKeyInfo(token: token.value) } as () async throws -> Any,
                { try await s.client.apiKeySecret(externalID: externalID, token: token.value) },
                { try await s.client.deleteAPIKey(externalID: externalID, token: token.value) },
                { try await s.client.apiKeyInfo(token: Sensitive("never-issued-token")) },
            ] {
                let error = await s.failure(call)
                #expect(error?.kind == .unauthorized)
                #expect(error?.messages == ["Unauthorized."])
                #expect(error?.isTransient == false)
            }
            #expect(try await s.sim.admin.state().key(externalID)?.secretFetches == 0)
        }
    }

    @Test func anExternalIDCannotSteerTheRequestElsewhere() async throws {
        try await SimScenario.run { s in
            let (token, _) = try await s.token(user: "u-path")
            for hostile in ["../info", "../../oauth2/token", "a/b", "x?y=1#z", "%2e%2e", "../info%00"] {
                let secret = await s.failure { try await s.client.apiKeySecret(externalID: hostile, token: token.value) }
                #expect(secret?.kind == .notFound, "\(hostile)")
                let deletion = await s.failure { try await s.client.deleteAPIKey(externalID: hostile, token: token.value) }
                #expect(deletion?.kind == .notFound, "\(hostile)")
            }
            let state = try await s.sim.admin.state()
            #expect(state.requests["info", default: 0] == 0, "a path reached /info")
            #expect(state.requests["token", default: 0] == 1, "a path reached /oauth2/token")
            #expect(state.keys.allSatisfy { !$0.deleted && $0.secretFetches == 0 })
        }
    }
}
