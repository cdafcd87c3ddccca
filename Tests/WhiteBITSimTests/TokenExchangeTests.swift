import PKCE
import Sensitive
import Testing
@testable import WhiteBITSim

@Suite struct TokenExchangeTests {
    @Test func goodExchangeAnswersTheDocumentedShape() async throws {
        let sim = SimFixture()
        let authorization = try await sim.consent()
        let answer = await sim.world.exchangeCode(form: SimFixture.form(authorization))
        #expect(answer.status == 200)
        let data = try #require(answer.json?["data"])
        #expect(data["access_token"]?.stringValue?.isEmpty == false)
        #expect(data["expires_in"] == .integer(14400))
        #expect(data["scope"] == "apikeys.create,apikeys.read,apikeys.delete")
        #expect(data["token_type"] == "Bearer")
        #expect(data["refresh_token"] == nil)
        #expect(data.objectValue?.count == 4)
    }

    @Test func pkceMismatchIsRefusedAndBurnsTheCode() async throws {
        let sim = SimFixture()
        let authorization = try await sim.consent()
        var form = SimFixture.form(authorization)
        form["code_verifier"] = PKCE.makeVerifier().revealed
        let refused = await sim.world.exchangeCode(form: form)
        #expect(refused == SimAnswer.message(401, "Invalid request"))
        // The right verifier comes too late: the failed attempt consumed the code.
        let retry = await sim.world.exchangeCode(form: SimFixture.form(authorization))
        #expect(retry.status == 401)
        #expect(await sim.world.stateJSON()["codes"]?.arrayValue?.first?["used"] == true)
    }

    @Test func syntacticallyBadVerifierIsAMismatch() async throws {
        let sim = SimFixture()
        let authorization = try await sim.consent()
        var form = SimFixture.form(authorization)
        form["code_verifier"] = "short"
        #expect(await sim.world.exchangeCode(form: form).status == 401)
    }

    @Test func codeReuseIsRefused() async throws {
        let sim = SimFixture()
        let authorization = try await sim.consent()
        #expect(await sim.world.exchangeCode(form: SimFixture.form(authorization)).status == 200)
        #expect(await sim.world.exchangeCode(form: SimFixture.form(authorization)) == .message(401, "Invalid request"))
    }

    @Test func expiredCodeIsRefused() async throws {
        let sim = SimFixture()
        let authorization = try await sim.consent()
        sim.clock.advance(milliseconds: 10 * 60_000)
        #expect(await sim.world.exchangeCode(form: SimFixture.form(authorization)).status == 401)
    }

    @Test func codeStillGoodJustBeforeItsLifetimeEnds() async throws {
        let sim = SimFixture()
        let authorization = try await sim.consent()
        sim.clock.advance(milliseconds: 10 * 60_000 - 1)
        #expect(await sim.world.exchangeCode(form: SimFixture.form(authorization)).status == 200)
    }

    @Test func unknownCodeIsRefused() async throws {
        let sim = SimFixture()
        let authorization = try await sim.consent()
        var form = SimFixture.form(authorization)
        form["code"] = "not-a-code"
        #expect(await sim.world.exchangeCode(form: form).status == 401)
    }

    @Test func unknownClientOrWrongSecretIs401AndLeavesTheCode() async throws {
        let sim = SimFixture()
        let authorization = try await sim.consent()
        let unknown = await sim.world.exchangeCode(form: SimFixture.form(authorization, clientID: "nobody"))
        #expect(unknown == .message(401, "Invalid request"))
        let wrongSecret = await sim.world.exchangeCode(form: SimFixture.form(authorization, secret: "demo-client-secreT"))
        #expect(wrongSecret == .message(401, "Invalid request"))
        #expect(await sim.world.exchangeCode(form: SimFixture.form(authorization)).status == 200)
    }

    @Test func anotherClientsCodeIsRefused() async throws {
        let sim = SimFixture()
        try await sim.registerOtherClient()
        let authorization = try await sim.consent()
        let answer = await sim.world.exchangeCode(
            form: SimFixture.form(authorization, clientID: "other-partner", secret: "other-secret"))
        #expect(answer.status == 401)
        // Not the owner's attempt: the code still works for its client.
        #expect(await sim.world.exchangeCode(form: SimFixture.form(authorization)).status == 200)
    }

    @Test func missingFieldsAre422NamingEachField() async throws {
        let sim = SimFixture()
        let answer = await sim.world.exchangeCode(form: [:])
        #expect(answer.status == 422)
        #expect(
            answer.json
                == [
                    "errors": [
                        "client_id": ["validation.required"], "client_secret": ["validation.required"],
                        "code": ["validation.required"], "code_verifier": ["validation.required"],
                    ],
                    "notification": .null,
                ])
    }

    @Test func emptyFieldsCountAsMissing() async throws {
        let sim = SimFixture()
        let authorization = try await sim.consent()
        var form = SimFixture.form(authorization)
        form["client_secret"] = ""
        form["code_verifier"] = ""
        let answer = await sim.world.exchangeCode(form: form)
        #expect(answer == .validation(["client_secret": "validation.required", "code_verifier": "validation.required"]))
        // Validation failures do not spend the code.
        #expect(await sim.world.exchangeCode(form: SimFixture.form(authorization)).status == 200)
    }

    @Test func verifierIsOptionalOnlyForACodeIssuedWithoutPKCE() async throws {
        let sim = SimFixture()
        let grant = try await sim.world.consent(ConsentRequest(user: "u-classic", codeChallenge: nil))
        let form = ["client_id": SimFixture.clientID, "client_secret": SimFixture.clientSecret, "code": grant.code.revealed]
        #expect(await sim.world.exchangeCode(form: form).status == 200)

        let pkce = try await sim.consent()
        var withoutVerifier = SimFixture.form(pkce)
        withoutVerifier["code_verifier"] = nil
        #expect(await sim.world.exchangeCode(form: withoutVerifier) == .validation(["code_verifier": "validation.required"]))
    }

    @Test func tokensAreDistinctAndListedInTheState() async throws {
        let sim = SimFixture()
        let first = try await sim.bearer("u-1")
        let second = try await sim.bearer("u-2")
        let distinct = first != second
        #expect(distinct)
        let tokens = await sim.world.stateJSON()["tokens"]?.arrayValue ?? []
        let listedInOrder = tokens.map { "Bearer " + ($0["access_token"]?.stringValue ?? "") } == [first, second]
        #expect(listedInOrder)
        #expect(tokens.map { $0["user"] } == ["u-1", "u-2"])
    }

    @Test func seedMakesRunsRepeat() async throws {
        let first = SimFixture(seed: 9)
        let second = SimFixture(seed: 9)
        let challenge = PKCEPair.generate().challenge
        let a = try await first.world.consent(ConsentRequest(user: "u", codeChallenge: challenge))
        let b = try await second.world.consent(ConsentRequest(user: "u", codeChallenge: challenge))
        let sameCode = a.code.revealed == b.code.revealed
        #expect(sameCode)
        #expect(a.key == b.key)
    }
}
