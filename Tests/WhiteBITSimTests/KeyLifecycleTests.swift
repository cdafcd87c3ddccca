import Testing
@testable import WhiteBITSim

@Suite struct KeyLifecycleTests {
    @Test func oneLiveKeyPerUserAndClient() async throws {
        let sim = SimFixture()
        let first = try await sim.consent("u-1")
        guard case .created(let externalID) = first.key else {
            Issue.record("first consent created no key")
            return
        }
        // Consenting again while the key is active: the flow still yields a code, no new key.
        let again = try await sim.consent("u-1")
        #expect(again.key == .activeExists)
        #expect(again.key.name == "partner_key_active_exists")
        #expect(await sim.world.exchangeCode(form: SimFixture.form(again)).status == 200)

        _ = try await sim.world.disableKey(user: "u-1")
        let whileDisabled = try await sim.consent("u-1")
        #expect(whileDisabled.key == .expiredExists)
        #expect(whileDisabled.key.name == "partner_key_expired_exists")
        #expect(await sim.world.stateJSON()["keys"]?.arrayValue?.count == 1)

        #expect(try await sim.world.userDeletesKey(user: "u-1") == externalID)
        let afterDeletion = try await sim.consent("u-1")
        guard case .created(let newID) = afterDeletion.key else {
            Issue.record("no key after the old one was deleted")
            return
        }
        #expect(newID != externalID)
    }

    @Test func aKeyStillAppearingCountsAsActive() async throws {
        let sim = SimFixture()
        _ = try await sim.consent("u-1", key: .after(milliseconds: 5_000))
        #expect(try await sim.consent("u-1").key == .activeExists)
    }

    @Test func keysOfDifferentPartnersAreIndependent() async throws {
        let sim = SimFixture()
        try await sim.registerOtherClient()
        let ours = try await sim.consent("u-1")
        let theirs = try await sim.consent("u-1", clientID: "other-partner")
        guard case .created = ours.key, case .created = theirs.key else {
            Issue.record("each partner gets its own key")
            return
        }
    }

    @Test func delayedKeyAppearsAfterItsDelay() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer(key: .after(milliseconds: 5_000))
        #expect(await sim.info(bearer)?["exists"] == false)
        let externalID = try #require(await sim.world.stateJSON()["keys"]?.arrayValue?.first?["external_id"]?.stringValue)
        #expect(await sim.world.retrieveSecret(authorization: bearer, externalID: externalID).status == 404)
        sim.clock.advance(milliseconds: 4_999)
        #expect(await sim.info(bearer)?["exists"] == false)
        sim.clock.advance(milliseconds: 1)
        #expect(try await sim.externalID(bearer) == externalID)
        #expect(await sim.world.retrieveSecret(authorization: bearer, externalID: externalID).status == 200)
    }

    @Test func keyDelaySettingIsTheDefaultAppearance() async throws {
        var settings = SimSettings()
        settings.keyDelayMilliseconds = 2_000
        let sim = SimFixture(settings: settings)
        let bearer = try await sim.bearer(key: nil)
        #expect(await sim.info(bearer)?["exists"] == false)
        sim.clock.advance(milliseconds: 2_000)
        #expect(await sim.info(bearer)?["exists"] == true)
    }

    @Test func keyThatNeverAppears() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer(key: .never)
        sim.clock.advance(milliseconds: 3_600_000)
        #expect(await sim.info(bearer)?["exists"] == false)
        #expect(await sim.world.stateJSON()["keys"]?.arrayValue?.isEmpty == true)
        // Abandoning creation leaves nothing that blocks the next consent.
        guard case .created = try await sim.consent().key else {
            Issue.record("a new consent after an abandoned one creates a key")
            return
        }
    }

    @Test func disabledKeyShowsExistsButNotEnabled() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer()
        let externalID = try await sim.externalID(bearer)
        #expect(try await sim.world.disableKey(user: "u-1001") == externalID)
        let data = try #require(await sim.info(bearer))
        #expect(data["exists"] == true)
        #expect(data["isEnabled"] == false)
        #expect(data["externalId"] == .string(externalID))
        #expect(data["permissions"] == .array(SimulatedWhiteBIT.defaultPermissions))
    }

    @Test func dashboardDeletionRemovesTheKey() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer()
        let externalID = try await sim.externalID(bearer)
        #expect(try await sim.world.userDeletesKey(user: "u-1001") == externalID)
        #expect(await sim.info(bearer)?["exists"] == false)
        #expect(await sim.world.retrieveSecret(authorization: bearer, externalID: externalID).status == 404)
        #expect(await sim.world.deleteKey(authorization: bearer, externalID: externalID).status == 404)
        #expect(await sim.key(externalID)?["deleted"] == true)
        await #expect(throws: SimRequestError.self) { try await sim.world.userDeletesKey(user: "u-1001") }
    }

    @Test func userActionsNeedAKnownClientAndKey() async throws {
        let sim = SimFixture()
        await #expect(throws: SimRequestError("user \"u-9\" has no key for client \"wbkeyd-demo\"")) {
            try await sim.world.disableKey(user: "u-9")
        }
        await #expect(throws: SimRequestError("unknown client \"nope\"")) {
            try await sim.world.userDeletesKey(user: "u-9", clientID: "nope")
        }
    }

    @Test func passwordChangeDeletesEveryKeyButKeepsTokens() async throws {
        let sim = SimFixture()
        try await sim.registerOtherClient()
        let ours = try await sim.bearer("u-1")
        let theirs = try await sim.bearer("u-1", clientID: "other-partner", secret: "other-secret")
        let bystander = try await sim.bearer("u-2")
        #expect(await sim.world.changePassword(user: "u-1") == 2)
        #expect(await sim.info(ours)?["exists"] == false)
        #expect(await sim.info(theirs)?["exists"] == false)
        #expect(await sim.info(bystander)?["exists"] == true)
        #expect(await sim.world.apiKeyInfo(authorization: ours).status == 200)
    }

    @Test func expireTokensEndsOnlyThatUsersTokens() async throws {
        let sim = SimFixture()
        let first = try await sim.bearer("u-1")
        let second = try await sim.bearer("u-2")
        #expect(await sim.world.expireTokens(user: "u-1") == 1)
        #expect(await sim.world.apiKeyInfo(authorization: first).status == 401)
        #expect(await sim.world.apiKeyInfo(authorization: second).status == 200)
        #expect(await sim.world.expireTokens(user: "u-1") == 0)
    }

    @Test func secretOfADisabledKeyFollowsTheUsualRules() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer()
        let externalID = try await sim.externalID(bearer)
        _ = try await sim.world.disableKey(user: "u-1001")
        #expect(await sim.world.retrieveSecret(authorization: bearer, externalID: externalID).status == 200)
        #expect(await sim.world.retrieveSecret(authorization: bearer, externalID: externalID).status == 409)
    }
}
