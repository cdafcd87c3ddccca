import Sensitive
import Testing
import WhiteBITSimHarness
@testable import WhiteBITClient

/// Every switch the simulator has for docs/whitebit-api.md §7: the client must work, or fail
/// with the right error, whichever way WhiteBIT turns out to behave.
@Suite struct SimSwitchTests {
    @Test(arguments: ["absent", "null", "empty", "present"])
    func anyRefreshTokenVariantYieldsAToken(variant: String) async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(.init(refreshToken: variant))
            let (token, _) = try await s.token(user: "u-refresh")
            #expect(token.expiresIn == .seconds(14400))
            #expect(try await s.client.apiKeyInfo(token: token.value).exists)
        }
    }

    @Test(arguments: [("number", Duration?.some(.seconds(14400))), ("string", .some(.seconds(14400))), ("absent", nil)])
    func expiresInAsNumberStringOrAbsent(variant: String, expected: Duration?) async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(.init(expiresIn: variant))
            let (token, _) = try await s.token(user: "u-expires")
            #expect(token.expiresIn == expected)
        }
    }

    @Test func aShorterTokenLifetimeIsReadNotAssumed() async throws {
        try await SimScenario.run(simulatorArguments: ["--token-lifetime", "90s"]) { s in
            let (token, _) = try await s.token(user: "u-short")
            #expect(token.expiresIn == .seconds(90))
        }
    }

    @Test(arguments: ["data", "bare"])
    func theTokenWithOrWithoutTheDataWrapper(wrapper: String) async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(.init(tokenWrapper: wrapper))
            let (token, _) = try await s.token(user: "u-wrapper")
            #expect(token.scopes == ["apikeys.create", "apikeys.read", "apikeys.delete"])
            #expect(try await s.client.apiKeyInfo(token: token.value).exists)
        }
    }

    @Test func grantTypeRequiredFailsWithoutItAndWorksWithTheSwitch() async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(.init(grantType: "required"))
            let authorization = try await s.authorize(user: "u-grant")
            let refused = await s.failure {
                try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            }
            #expect(refused?.kind == .validation(fields: ["grant_type"]))

            let sending = try s.makeClient { $0.sendsGrantType = true }
            let (token, _) = try await s.token(user: "u-grant-2", using: sending)
            #expect(try await sending.apiKeyInfo(token: token.value).exists)
        }
    }

    @Test func grantTypeRejectedWorksByDefaultAndFailsWithTheSwitch() async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(.init(grantType: "rejected"))
            let (granted, _) = try await s.token(user: "u-nogrant")
            let issued = try await s.sim.admin.state().tokens.filter { $0.user == "u-nogrant" }
            #expect(issued.map(\.accessToken) == [granted.value.revealed], "the token is the one the simulator issued")
            #expect(try await s.client.apiKeyInfo(token: granted.value).exists)

            let sending = try s.makeClient { $0.sendsGrantType = true }
            let authorization = try await s.authorize(user: "u-nogrant-2")
            let refused = await s.failure {
                try await sending.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            }
            #expect(refused?.kind == .validation(fields: ["grant_type"]))
        }
    }

    @Test func redirectURIRequiredAtTheTokenEndpointIsSentWhenConfigured() async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(.init(tokenRedirectURI: "required"))
            let authorization = try await s.authorize(user: "u-redirect")
            let refused = await s.failure {
                try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            }
            #expect(refused?.kind == .validation(fields: ["redirect_uri"]))

            let configured = try s.makeClient { $0.redirectURI = SimScenario.redirectURI }
            let (token, _) = try await s.token(user: "u-redirect-2", using: configured)
            #expect(try await configured.apiKeyInfo(token: token.value).exists)

            let wrong = try s.makeClient { $0.redirectURI = "https://elsewhere.example/cb" }
            let third = try await s.authorize(user: "u-redirect-3")
            let mismatch = await s.failure { try await wrong.exchangeCode(code: third.code, codeVerifier: third.verifier) }
            #expect(mismatch?.kind == .validation(fields: ["redirect_uri"]))
        }
    }

    @Test func redirectURIIgnoredByDefaultEvenWhenSent() async throws {
        try await SimScenario.run(configuration: { $0.redirectURI = SimScenario.redirectURI }) { s in
            let (granted, authorization) = try await s.token(user: "u-redirect-ignored")
            #expect(granted.expiresIn == .seconds(14400))
            let state = try await s.sim.admin.state()
            #expect(state.tokens.filter { $0.user == "u-redirect-ignored" }.map(\.accessToken) == [granted.value.revealed])
            #expect(state.codes.first { $0.code == authorization.code.revealed }?.used == true)
            #expect(s.client.counters.responses[.token] == ["200": 1])
        }
    }

    @Test(arguments: [
        ("401", WhiteBITError.Kind.unauthorized), ("400", .rejected(status: 400)), ("422", .validation(fields: ["code"])),
    ])
    func aBadCodeIsRefusedInEachStyle(style: String, kind: WhiteBITError.Kind) async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(.init(tokenError: style))
            let authorization = try await s.authorize(user: "u-style")
            let first = try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            #expect(try await s.sim.admin.state().tokens.map(\.accessToken).contains(first.value.revealed))
            let reused = await s.failure {
                try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            }
            #expect(reused?.kind == kind)
            #expect(reused?.isTransient == false)
        }
    }

    @Test(arguments: [("403", WhiteBITError.Kind?.some(.forbidden)), ("404", .some(.notFound)), ("200", nil)])
    func deletingADisabledKeyInEachStyle(style: String, kind: WhiteBITError.Kind?) async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(.init(deleteDisabled: style))
            let (token, authorization) = try await s.token(user: "u-disabled")
            let externalID = try #require(authorization.externalID)
            try await s.sim.admin.disableKey(user: "u-disabled")
            if let kind {
                let error = await s.failure { try await s.client.deleteAPIKey(externalID: externalID, token: token.value) }
                #expect(error?.kind == kind)
            } else {
                try await s.client.deleteAPIKey(externalID: externalID, token: token.value)
            }
            let key = try #require(try await s.sim.admin.state().key(externalID))
            #expect(key.deleted == (kind == nil), "a refused deletion must leave the key, an accepted one remove it")
            #expect(s.client.counters.responses[.delete] == [style: 1])
        }
    }
}
