import Testing
@testable import WhiteBITSim

@Suite struct KeyEndpointTests {
    @Test func infoWithoutKeyIsExistsFalseNotA404() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer(key: .never)
        let answer = await sim.world.apiKeyInfo(authorization: bearer)
        #expect(answer.status == 200)
        #expect(answer.headers["Cache-Control"] == "no-cache")
        #expect(answer.json == ["data": ["exists": false, "isEnabled": false, "externalId": .null, "permissions": []]])
    }

    @Test func infoShowsTheKeyWithItsPermissions() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer()
        let data = try #require(await sim.info(bearer))
        #expect(data["exists"] == true)
        #expect(data["isEnabled"] == true)
        #expect(data["externalId"]?.stringValue?.count == 36)
        #expect(data["permissions"] == .array(SimulatedWhiteBIT.defaultPermissions))
    }

    @Test func secretOnceThen409() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer()
        let externalID = try await sim.externalID(bearer)
        let first = await sim.world.retrieveSecret(authorization: bearer, externalID: externalID)
        #expect(first.status == 200)
        #expect(first.headers["Cache-Control"] == "no-store")
        let secret = try #require(first.json?["data"]?["apiSecret"]?.stringValue)
        let secretMatchesState = await sim.key(externalID)?["api_secret"]?.stringValue == secret
        #expect(secretMatchesState)
        let second = await sim.world.retrieveSecret(authorization: bearer, externalID: externalID)
        #expect(second == SimAnswer.message(409, "Secret already retrieved.").with(["Cache-Control": "no-store"]))
        #expect(await sim.key(externalID)?["secret_fetches"] == 2)
    }

    @Test func concurrentRetrievalIs423WithoutRetryAfter() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer()
        let externalID = try await sim.externalID(bearer)
        let first = await sim.world.beginSecretRetrieval(authorization: bearer, externalID: externalID)
        #expect(first.answer.status == 200)
        #expect(first.lockedKey == externalID)
        let concurrent = await sim.world.beginSecretRetrieval(authorization: bearer, externalID: externalID)
        #expect(concurrent.answer.message == "Temporary lock, retry shortly.")
        #expect(concurrent.answer.status == 423)
        #expect(concurrent.answer.headers["Retry-After"] == nil)
        #expect(concurrent.lockedKey == nil)
        await sim.world.endSecretRetrieval(of: externalID)
        let after = await sim.world.beginSecretRetrieval(authorization: bearer, externalID: externalID)
        #expect(after.answer.status == 409)
        #expect(await sim.key(externalID)?["secret_fetches"] == 3)
    }

    @Test func anotherClientsKeyIs403ForSecretAndDelete() async throws {
        let sim = SimFixture()
        try await sim.registerOtherClient()
        let ours = try await sim.bearer("u-1")
        let theirs = try await sim.bearer("u-1", clientID: "other-partner", secret: "other-secret")
        let theirKey = try await sim.externalID(theirs)
        #expect(await sim.world.retrieveSecret(authorization: ours, externalID: theirKey).message == "Forbidden.")
        #expect(await sim.world.retrieveSecret(authorization: ours, externalID: theirKey).status == 403)
        #expect(await sim.world.deleteKey(authorization: ours, externalID: theirKey).status == 403)
        #expect(await sim.key(theirKey)?["secret_fetches"] == 0)
        #expect(await sim.key(theirKey)?["deleted"] == false)
    }

    @Test func unknownDeletedOrOtherUsersKeyIs404() async throws {
        let sim = SimFixture()
        let first = try await sim.bearer("u-1")
        let second = try await sim.bearer("u-2")
        let secondKey = try await sim.externalID(second)
        let unknown = "00000000-0000-4000-8000-000000000000"
        #expect(await sim.world.retrieveSecret(authorization: first, externalID: unknown).message == "Key not found.")
        #expect(await sim.world.deleteKey(authorization: first, externalID: unknown).status == 404)
        #expect(await sim.world.retrieveSecret(authorization: first, externalID: secondKey).status == 404)
        #expect(await sim.world.deleteKey(authorization: second, externalID: secondKey) == .json(200, ["data": []], headers: ["Cache-Control": "no-cache"]))
        #expect(await sim.world.deleteKey(authorization: second, externalID: secondKey).status == 404)
        #expect(await sim.world.retrieveSecret(authorization: second, externalID: secondKey).status == 404)
        #expect(await sim.info(second)?["exists"] == false)
    }

    @Test func expiredTokenIs401() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer()
        let externalID = try await sim.externalID(bearer)
        sim.clock.advance(milliseconds: 4 * 3_600_000 - 1)
        #expect(await sim.world.apiKeyInfo(authorization: bearer).status == 200)
        sim.clock.advance(milliseconds: 1)
        #expect(await sim.world.apiKeyInfo(authorization: bearer).message == "Unauthorized.")
        #expect(await sim.world.retrieveSecret(authorization: bearer, externalID: externalID).status == 401)
        #expect(await sim.world.deleteKey(authorization: bearer, externalID: externalID).status == 401)
        #expect(await sim.key(externalID)?["secret_fetches"] == 0)
    }

    @Test func missingScopeIs401() async throws {
        let sim = SimFixture()
        try await sim.registerOtherClient("reader", scopes: ["apikeys.create", "apikeys.read"])
        try await sim.registerOtherClient("deleter", scopes: ["apikeys.create", "apikeys.delete"])
        let reader = try await sim.bearer(clientID: "reader", secret: "other-secret")
        let deleter = try await sim.bearer(clientID: "deleter", secret: "other-secret")
        let readerKey = try await sim.externalID(reader)
        #expect(await sim.world.deleteKey(authorization: reader, externalID: readerKey).status == 401)
        #expect(await sim.world.apiKeyInfo(authorization: deleter).status == 401)
        let deleterKey = try #require(await sim.world.stateJSON()["keys"]?.arrayValue?.last?["external_id"]?.stringValue)
        #expect(await sim.world.retrieveSecret(authorization: deleter, externalID: deleterKey).status == 401)
        #expect(await sim.world.deleteKey(authorization: deleter, externalID: deleterKey).status == 200)
    }

    @Test func clientWithoutCreateScopeGetsNoKey() async throws {
        let sim = SimFixture()
        try await sim.registerOtherClient("viewer", scopes: ["apikeys.read"])
        let authorization = try await sim.consent(clientID: "viewer")
        #expect(authorization.key == .notCreated)
    }

    @Test func malformedAuthorizationIs401() async throws {
        let sim = SimFixture()
        let bearer = try await sim.bearer()
        let token = String(bearer.dropFirst("Bearer ".count))
        for header in [nil, "", token, "Basic \(token)", "Bearer", "Bearer ", "Bearer x\(token)"] {
            #expect(await sim.world.apiKeyInfo(authorization: header).status == 401, "header \(header == nil ? "nil" : "variant")")
        }
        #expect(await sim.world.apiKeyInfo(authorization: "bearer \(token)").status == 200)
    }
}
