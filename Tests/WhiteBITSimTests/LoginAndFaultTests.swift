import Foundation
import PKCE
import Testing
@testable import WhiteBITSim

@Suite struct LoginTests {
    let challenge = PKCEPair.generate().challenge

    func query(_ extra: [String: String?] = [:]) -> [String: String] {
        var fields: [String: String?] = [
            "clientId": SimConfiguration.demoClientID, "redirect_uri": SimConfiguration.demoRedirectURI,
            "state": "s t&=", "code_challenge": challenge, "code_challenge_method": "S256", "sim_user": "u-1",
        ]
        fields.merge(extra) { _, new in new }
        return fields.compactMapValues { $0 }
    }

    @Test func consentRedirectsWithCodeAndState() async throws {
        let sim = SimFixture()
        let answer = await sim.world.login(query: query())
        #expect(answer.status == 302)
        let location = try #require(answer.headers["Location"])
        let components = try #require(URLComponents(string: location))
        #expect(location.hasPrefix(SimConfiguration.demoRedirectURI + "?code="))
        let items = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(items["state"] == "s t&=")
        let code = try #require(items["code"])
        let codeMatchesState = await sim.world.stateJSON()["codes"]?.arrayValue?.first?["code"]?.stringValue == code
        #expect(codeMatchesState)
        #expect(await sim.world.stateJSON()["codes"]?.arrayValue?.first?["user"] == "u-1")
    }

    @Test func withoutSimUserAnswersAPageThatExplains() async throws {
        let sim = SimFixture()
        let answer = await sim.world.login(query: query(["sim_user": nil]))
        #expect(answer.status == 200)
        guard case .html(let page) = answer.body else {
            Issue.record("expected an HTML page")
            return
        }
        #expect(page.contains("/sim/consent"))
        #expect(await sim.world.stateJSON()["codes"]?.arrayValue?.isEmpty == true)
    }

    @Test(arguments: [
        (["clientId": String?.none], "clientId is required"),
        (["clientId": "nobody"], "unknown clientId"),
        (["redirect_uri": nil], "redirect_uri is required"),
        (["redirect_uri": "https://partner.example/oauth/callback/"], "redirect_uri is not registered for this client"),
        (["redirect_uri": "https://evil.example/cb"], "redirect_uri is not registered for this client"),
        (["code_challenge": nil], "code_challenge is required"),
        (["code_challenge": "abc"], "code_challenge must be 43 base64url characters"),
        (["code_challenge_method": nil], "code_challenge_method must be S256"),
        (["code_challenge_method": "plain"], "code_challenge_method must be S256"),
        (["sim_key": "soon"], "sim_key must be now, never or milliseconds"),
        (["sim_user": "bad user"], "user must be 1-128 of A-Z a-z 0-9 . _ : @ -"),
    ] as [([String: String?], String)])
    func refusals(change: [String: String?], reason: String) async throws {
        let sim = SimFixture()
        let answer = await sim.world.login(query: query(change))
        #expect(answer == .message(400, reason))
    }

    @Test func simKeyChoosesTheAppearance() async throws {
        let sim = SimFixture()
        _ = await sim.world.login(query: query(["sim_user": "u-late", "sim_key": "1500"]))
        _ = await sim.world.login(query: query(["sim_user": "u-none", "sim_key": "never"]))
        let keys = await sim.world.stateJSON()["keys"]?.arrayValue ?? []
        #expect(keys.count == 1)
        #expect(keys.first?["user"] == "u-late")
        #expect(keys.first?["visible"] == false)
        sim.clock.advance(milliseconds: 1500)
        #expect(await sim.world.stateJSON()["keys"]?.arrayValue?.first?["visible"] == true)
    }

    @Test func formFieldsDecodeLikeBrowsers() {
        let fields = FormFields.parse("a=1&b=x+y%2Bz&c=&d&a=2&e=%zz&f=%C3%A9")
        #expect(fields == ["a": "1", "b": "x y+z", "c": "", "d": "", "e": "%zz", "f": "é"])
    }

    @Test func durationsUseWbkeydSyntax() {
        #expect(DurationText.milliseconds("500ms") == 500)
        #expect(DurationText.milliseconds("30s") == 30_000)
        #expect(DurationText.milliseconds("10m") == 600_000)
        #expect(DurationText.milliseconds("4h") == 14_400_000)
        #expect(DurationText.milliseconds("400d") == 34_560_000_000)
        #expect(DurationText.milliseconds("0s") == 0)
        for bad in ["", "4", "h", "4 h", "-4h", "4hours", "1.5s", "٤h"] {
            #expect(DurationText.milliseconds(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct FaultQueueTests {
    @Test func faultHitsTheNextCountMatchingRequests() async throws {
        let sim = SimFixture()
        _ = await sim.world.addFault(SimFault(target: .secret, kind: .status(503), remaining: 2))
        #expect(await sim.world.admit(.info, user: nil) == .serve(latencyMilliseconds: 0, loseAnswer: false))
        #expect(await sim.world.admit(.secret, user: nil) == .answer(.message(503, "Service unavailable.")))
        #expect(await sim.world.admit(.secret, user: "u") == .answer(.message(503, "Service unavailable.")))
        #expect(await sim.world.admit(.secret, user: nil) == .serve(latencyMilliseconds: 0, loseAnswer: false))
        #expect(await sim.world.queuedFaults.isEmpty)
    }

    @Test func faultForOneUserSparesTheOthers() async throws {
        let sim = SimFixture()
        _ = await sim.world.addFault(SimFault(target: .any, kind: .drop, remaining: nil, user: "u-2"))
        #expect(await sim.world.admit(.token, user: "u-1") == .serve(latencyMilliseconds: 0, loseAnswer: false))
        #expect(await sim.world.admit(.token, user: nil) == .serve(latencyMilliseconds: 0, loseAnswer: false))
        for endpoint in SimEndpoint.allCases {
            #expect(await sim.world.admit(endpoint, user: "u-2") == .drop)
        }
        #expect(await sim.world.queuedFaults.count == 1)
        await sim.world.clearFaults()
        #expect(await sim.world.admit(.token, user: "u-2") == .serve(latencyMilliseconds: 0, loseAnswer: false))
    }

    @Test func faultsApplyInQueueOrder() async throws {
        let sim = SimFixture()
        _ = await sim.world.addFault(SimFault(target: .info, kind: .latency(milliseconds: 250)))
        _ = await sim.world.addFault(SimFault(target: .info, kind: .lostAnswer))
        #expect(await sim.world.admit(.info, user: nil) == .serve(latencyMilliseconds: 250, loseAnswer: false))
        #expect(await sim.world.admit(.info, user: nil) == .serve(latencyMilliseconds: 0, loseAnswer: true))
        let state = await sim.world.stateJSON()
        #expect(state["requests"]?["info"] == 2)
    }

    @Test func faultJSONIsChecked() throws {
        #expect(try SimFault(json: ["endpoint": "secret", "kind": "status", "status": 429]).kind == .status(429))
        #expect(try SimFault(json: ["endpoint": "any", "kind": "latency", "latency_ms": 10, "count": 0]).remaining == nil)
        #expect(try SimFault(json: ["endpoint": "token", "kind": "lost_secret", "user": "u"]).user == "u")
        let bad: [JSONValue] = [
            ["endpoint": "login", "kind": "drop"], ["endpoint": "info", "kind": "explode"],
            ["endpoint": "info", "kind": "status", "status": 200], ["endpoint": "info", "kind": "latency"],
            ["endpoint": "info", "kind": "drop", "count": -1], "drop",
        ]
        for body in bad {
            #expect(throws: SimRequestError.self) { try SimFault(json: body) }
        }
    }

    @Test func outcomesAreCounted() async throws {
        let sim = SimFixture()
        await sim.world.recordOutcome(.secret, status: 200)
        await sim.world.recordOutcome(.secret, status: 409)
        await sim.world.recordOutcome(.secret, status: 409)
        await sim.world.recordOutcome(.token, status: nil)
        #expect(await sim.world.stateJSON()["responses"] == ["secret 200": 1, "secret 409": 2, "token dropped": 1])
    }

    @Test func resetReturnsToStartUp() async throws {
        let sim = SimFixture()
        try await sim.registerOtherClient()
        _ = try await sim.bearer()
        _ = try await sim.world.updateSettings(["token_error": "400"])
        _ = await sim.world.addFault(SimFault(target: .any, kind: .drop))
        _ = await sim.world.admit(.info, user: nil)
        await sim.world.reset()
        let state = await sim.world.stateJSON()
        #expect(state["clients"]?.arrayValue?.count == 1)
        #expect(state["keys"] == [])
        #expect(state["tokens"] == [])
        #expect(state["codes"] == [])
        #expect(state["faults"] == [])
        #expect(state["requests"]?["info"] == 0)
        #expect(await sim.world.currentSettings == SimSettings())
    }
}
