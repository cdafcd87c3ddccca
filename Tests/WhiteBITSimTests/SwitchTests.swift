import PKCE
import Testing
@testable import WhiteBITSim

/// Every switch of whitebit-sim.md, each variant as a client would see it.
@Suite struct SwitchTests {
    private func tokenAnswer(_ change: (inout SimSettings) -> Void) async throws -> SimAnswer {
        var settings = SimSettings()
        change(&settings)
        let sim = SimFixture(settings: settings)
        return await sim.world.exchangeCode(form: SimFixture.form(try await sim.consent()))
    }

    @Test(arguments: [
        (SimSettings.RefreshToken.absent, JSONValue?.none),
        (.null, JSONValue.null),
        (.empty, JSONValue.string("")),
    ] as [(SimSettings.RefreshToken, JSONValue?)])
    func refreshTokenVariants(variant: SimSettings.RefreshToken, expected: JSONValue?) async throws {
        let answer = try await tokenAnswer { $0.refreshToken = variant }
        #expect(answer.status == 200)
        #expect(answer.json?["data"]?["refresh_token"] == expected)
    }

    @Test func refreshTokenPresent() async throws {
        let answer = try await tokenAnswer { $0.refreshToken = .present }
        let refresh = try #require(answer.json?["data"]?["refresh_token"]?.stringValue)
        #expect(refresh.count > 20)
        let differsFromAccessToken = refresh != answer.json?["data"]?["access_token"]?.stringValue
        #expect(differsFromAccessToken)
    }

    @Test func expiresInVariants() async throws {
        #expect(try await tokenAnswer { $0.expiresIn = .number }.json?["data"]?["expires_in"] == .integer(14400))
        #expect(try await tokenAnswer { $0.expiresIn = .string }.json?["data"]?["expires_in"] == "14400")
        #expect(try await tokenAnswer { $0.expiresIn = .absent }.json?["data"]?["expires_in"] == nil)
        #expect(
            try await tokenAnswer { $0.tokenLifetimeMilliseconds = 30_000 }.json?["data"]?["expires_in"] == .integer(30))
    }

    @Test func bareWrapperPutsFieldsAtTheTop() async throws {
        let answer = try await tokenAnswer { $0.tokenWrapper = .bare }
        #expect(answer.json?["data"] == nil)
        #expect(answer.json?["token_type"] == "Bearer")
        #expect(answer.json?["expires_in"] == .integer(14400))
        #expect(answer.json?["access_token"]?.stringValue != nil)
    }

    @Test func grantTypeIgnoredByDefault() async throws {
        let sim = SimFixture()
        var form = SimFixture.form(try await sim.consent())
        form["grant_type"] = "whatever"
        #expect(await sim.world.exchangeCode(form: form).status == 200)
    }

    @Test func grantTypeRequired() async throws {
        var settings = SimSettings()
        settings.grantType = .required
        let sim = SimFixture(settings: settings)
        let authorization = try await sim.consent()
        var form = SimFixture.form(authorization)
        #expect(await sim.world.exchangeCode(form: form) == .validation(["grant_type": "validation.required"]))
        form["grant_type"] = "client_credentials"
        #expect(await sim.world.exchangeCode(form: form) == .validation(["grant_type": "validation.in"]))
        form["grant_type"] = "authorization_code"
        #expect(await sim.world.exchangeCode(form: form).status == 200)
    }

    @Test func grantTypeRejected() async throws {
        var settings = SimSettings()
        settings.grantType = .rejected
        let sim = SimFixture(settings: settings)
        var form = SimFixture.form(try await sim.consent())
        form["grant_type"] = "authorization_code"
        #expect(await sim.world.exchangeCode(form: form) == .validation(["grant_type": "validation.prohibited"]))
        form["grant_type"] = nil
        #expect(await sim.world.exchangeCode(form: form).status == 200)
    }

    @Test func tokenRedirectURIRequired() async throws {
        var settings = SimSettings()
        settings.tokenRedirectURI = .required
        let sim = SimFixture(settings: settings)
        var form = SimFixture.form(try await sim.consent())
        #expect(await sim.world.exchangeCode(form: form) == .validation(["redirect_uri": "validation.required"]))
        form["redirect_uri"] = "https://partner.example/other"
        #expect(await sim.world.exchangeCode(form: form) == .validation(["redirect_uri": "validation.in"]))
        form["redirect_uri"] = SimConfiguration.demoRedirectURI
        #expect(await sim.world.exchangeCode(form: form).status == 200)
    }

    @Test func tokenErrorStyles() async throws {
        let styles: [(SimSettings.TokenError, SimAnswer)] = [
            (.unauthorized, .message(401, "Invalid request")),
            (.badRequest, .message(400, "Invalid grant.")),
            (.unprocessable, .validation(["code": "validation.invalid"])),
        ]
        for (style, expected) in styles {
            var settings = SimSettings()
            settings.tokenError = style
            let sim = SimFixture(settings: settings)
            var form = SimFixture.form(try await sim.consent())
            form["code_verifier"] = PKCE.makeVerifier().revealed
            #expect(await sim.world.exchangeCode(form: form) == expected)
            // The same style answers a reused code.
            #expect(await sim.world.exchangeCode(form: form) == expected)
            // Client authentication stays 401 whatever the style.
            form["client_secret"] = "wrong"
            #expect(await sim.world.exchangeCode(form: form) == .message(401, "Invalid request"))
        }
    }

    @Test(arguments: [
        (SimSettings.DeleteDisabled.forbidden, 403, false),
        (.notFound, 404, false),
        (.deleted, 200, true),
    ] as [(SimSettings.DeleteDisabled, Int, Bool)])
    func deleteOfADisabledKey(variant: SimSettings.DeleteDisabled, status: Int, deleted: Bool) async throws {
        var settings = SimSettings()
        settings.deleteDisabled = variant
        let sim = SimFixture(settings: settings)
        let bearer = try await sim.bearer()
        let externalID = try await sim.externalID(bearer)
        _ = try await sim.world.disableKey(user: "u-1001")
        #expect(await sim.world.deleteKey(authorization: bearer, externalID: externalID).status == status)
        #expect(await sim.key(externalID)?["deleted"] == .bool(deleted))
    }

    @Test func settingsApplyAllOrNothing() async throws {
        let sim = SimFixture()
        let updated = try await sim.world.updateSettings(["token_error": 422, "expires_in": "string", "token_lifetime_ms": 5000])
        #expect(updated.tokenError == .unprocessable)
        #expect(updated.expiresIn == .string)
        #expect(updated.tokenLifetimeMilliseconds == 5000)
        await #expect(throws: SimRequestError("unknown setting \"colour\"")) {
            try await sim.world.updateSettings(["refresh_token": "null", "colour": "red"])
        }
        await #expect(throws: SimRequestError.self) { try await sim.world.updateSettings(["refresh_token": "maybe"]) }
        await #expect(throws: SimRequestError.self) { try await sim.world.updateSettings(["key_delay_ms": -1]) }
        #expect(await sim.world.currentSettings.refreshToken == .absent)
        #expect(await sim.world.currentSettings.json["token_error"] == "422")
    }

    @Test func shortTokenLifetimeExpiresInSeconds() async throws {
        var settings = SimSettings()
        settings.tokenLifetimeMilliseconds = 2_000
        let sim = SimFixture(settings: settings)
        let bearer = try await sim.bearer()
        sim.clock.advance(milliseconds: 1_999)
        #expect(await sim.world.apiKeyInfo(authorization: bearer).status == 200)
        sim.clock.advance(milliseconds: 1)
        #expect(await sim.world.apiKeyInfo(authorization: bearer).status == 401)
    }
}
