import Foundation
import Testing
@testable import WhiteBITSim

@Suite struct SignedKeyStateTests {
    static let enableYourKey = "This action is unauthorized. Enable your key in API settings"
    static let noPermission = "You don't have permission to use this endpoint."

    @Test func permissionsFromConsentGateTheEndpoints() async throws {
        let sim = SimFixture()
        let key = try await SignedKey.of(sim, permissions: ["none"])
        let refused = await sim.world.signedRequest(key.request(mainBalance, nonce: 1))
        #expect(refused.status == 403)
        #expect(refused.json == ["code": 0, "message": .string(Self.noPermission)])
        _ = try await sim.world.setPermissions(of: key.externalID, ["read-only"])
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 2)).status == 200)
        // A group that lists the endpoint without enabling it refuses it; unlisted endpoints pass.
        let group: JSONValue = ["name": "balances", "title": "Balances", "urls": [["url": .string(mainBalance), "enable": false]]]
        _ = try await sim.world.setPermissions(of: key.externalID, [group])
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 3)).v4Message == Self.noPermission)
        #expect(await sim.world.signedRequest(key.request(AccountEndpoint.tradeBalance.signedPath, nonce: 4)).status == 200)
        let state = await sim.key(key.externalID)
        #expect(state?["permissions"] == [group])
    }

    @Test func readOnlyPresetListsEveryGroupAndEnablesTheReads() {
        let groups = KeyPermissions.preset("read-only") ?? []
        #expect(groups.compactMap { $0["name"]?.stringValue } == ["balances", "history", "trading"])
        for endpoint in AccountEndpoint.allCases { #expect(KeyPermissions.permits(groups, path: endpoint.signedPath)) }
        #expect(!KeyPermissions.permits(groups, path: "/api/v4/order/new"))
        #expect(KeyPermissions.permits(KeyPermissions.preset("trade") ?? [], path: "/api/v4/order/new"))
    }

    @Test func aDisabledKeyIsToldToEnableItself() async throws {
        let sim = SimFixture()
        let key = try await SignedKey.of(sim)
        _ = try await sim.world.disableKey(user: key.user)
        let answer = await sim.world.signedRequest(key.request(mainBalance, nonce: 1))
        #expect(answer.status == 403)
        #expect(answer.json == ["code": 0, "message": .string(Self.enableYourKey)])
        // A bad signature on a disabled key is still just unauthorized.
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 2, secret: "x")).status == 401)
    }

    @Test(arguments: [
        (SimSettings.DeletedKey.unauthorized, 401, "Unauthorized request."),
        (.forbidden, 403, SignedKeyStateTests.enableYourKey), (.notFound, 404, "Key not found."),
    ])
    func aDeletedKeyAnswersAsTheSwitchSays(choice: SimSettings.DeletedKey, status: Int, message: String) async throws {
        var settings = SimSettings()
        settings.deletedKey = choice
        let sim = SimFixture(settings: settings)
        let key = try await SignedKey.of(sim)
        _ = try await sim.world.userDeletesKey(user: key.user)
        let answer = await sim.world.signedRequest(key.request(mainBalance, nonce: 1))
        #expect(answer.status == status)
        #expect(answer.v4Message == message)
    }

    @Test func aKeyIdlePastTheInactivityPeriodIsDisabledAndUseResetsTheClock() async throws {
        var settings = SimSettings()
        settings.keyInactivityMilliseconds = 10_000
        let sim = SimFixture(settings: settings)
        let key = try await SignedKey.of(sim)
        let bearer = try await sim.bearer(key.user)
        sim.clock.advance(milliseconds: 9_999)
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 1)).status == 200)
        // The request reset the idle clock: another 9.999 s is still fine.
        sim.clock.advance(milliseconds: 9_999)
        #expect(await sim.info(bearer)?["isEnabled"] == true)
        // A refused request is no activity.
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 1)).status == 429)
        sim.clock.advance(milliseconds: 1)
        #expect(await sim.info(bearer)?["exists"] == true)
        #expect(await sim.info(bearer)?["isEnabled"] == false)
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 2)).v4Message == Self.enableYourKey)
    }

    @Test func theAdminAPIMovesTheIdleClock() async throws {
        let sim = SimFixture()
        let key = try await SignedKey.of(sim)
        let status = try await sim.world.setLastUse(of: key.externalID, at: nil, idleMilliseconds: 14 * 86_400_000 - 1)
        #expect(status["enabled"] == true)
        sim.clock.advance(milliseconds: 1)
        #expect(await sim.key(key.externalID)?["enabled"] == false)
        // Consent now meets the disabled key.
        #expect(try await sim.consent(key.user).key == .expiredExists)
        await #expect(throws: SimRequestError.self) {
            try await sim.world.setLastUse(of: key.externalID, at: nil, idleMilliseconds: nil)
        }
    }

    @Test func theAPIKeyReadingSignsWithTheCallbacksPublicKey() async throws {
        var settings = SimSettings()
        settings.apiKeyHeader = .apiKey
        let sim = SimFixture(settings: settings)
        let grant = try await sim.world.consent(ConsentRequest(user: "u-7", state: "st", codeChallenge: PKCEPairForTests.challenge, key: .now))
        let apiKey = try #require(grant.apiKey)
        #expect(grant.location.hasSuffix("&state=st&api_key=\(apiKey)"))
        let key = try await SignedKey.of(sim, user: "u-7")
        #expect(key.apiKey == apiKey)
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 1, header: apiKey)).status == 200)
        // The externalId is no key in this reading.
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 2)).v4Message == "Unauthorized request.")
        #expect(try await sim.world.requestLog(of: key.externalID).count == 1)
    }

    @Test func theLoginRedirectCarriesThePublicKeyInTheAPIKeyReading() async throws {
        var settings = SimSettings()
        settings.apiKeyHeader = .apiKey
        let sim = SimFixture(settings: settings)
        let answer = await sim.world.login(query: [
            "clientId": SimFixture.clientID, "redirect_uri": SimConfiguration.demoRedirectURI, "state": "st",
            "code_challenge": PKCEPairForTests.challenge, "code_challenge_method": "S256", "sim_user": "u-8",
        ])
        #expect(answer.status == 302)
        let key = try await SignedKey.of(sim, user: "u-8")
        #expect(answer.headers["Location"]?.hasSuffix("&state=st&api_key=\(key.apiKey)") == true)
    }

    @Test func theStageReadingIsTheDefaultAndTheCallbackCarriesNoKey() async throws {
        let sim = SimFixture()
        let grant = try await sim.world.consent(ConsentRequest(user: "u-7", state: "st", codeChallenge: PKCEPairForTests.challenge, key: .now))
        #expect(grant.apiKey == nil)
        #expect(!grant.location.contains("api_key"))
        let key = try await SignedKey.of(sim, user: "u-7")
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 1, header: key.apiKey)).status == 401)
        #expect(await sim.world.signedRequest(key.request(mainBalance, nonce: 2)).status == 200)
    }
}
