import AsyncHTTPClient
import Foundation
import PKCE
import Sensitive
import Testing
import WhiteBITSimHarness

/// The real `whitebit-sim` process over HTTP, as a partner's server meets it.
@Suite struct DocumentedFlowTests {
    @Test func fullDocumentedFlow() async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let authorization = try await sim.admin.authorize(user: "u-1001")

            let token = try await partner.token(authorization)
            #expect(token.status == 200)
            let data = try #require(token.data)
            #expect(data["expires_in"] as? Int == SimDefaults.tokenLifetimeSeconds)
            #expect(data["scope"] as? String == "apikeys.create,apikeys.read,apikeys.delete")
            #expect(data["token_type"] as? String == "Bearer")
            #expect(data.keys.contains("refresh_token") == false)
            let accessToken = try #require(data["access_token"] as? String)

            let info = try await partner.info(accessToken)
            #expect(info.status == 200)
            #expect(info.headers["Cache-Control"] == ["no-cache"])
            #expect(info.data?["exists"] as? Bool == true)
            #expect(info.data?["isEnabled"] as? Bool == true)
            let externalID = try #require(info.data?["externalId"] as? String)
            #expect(externalID == authorization.externalID)

            let secret = try await partner.secret(accessToken, externalID)
            #expect(secret.status == 200)
            #expect(secret.headers["Cache-Control"] == ["no-store"])
            let apiSecret = try #require(secret.data?["apiSecret"] as? String)
            let secretMatchesState = try await sim.admin.state().key(externalID)?.apiSecret == apiSecret
            #expect(secretMatchesState)

            let again = try await partner.secret(accessToken, externalID)
            #expect(again.status == 409)
            #expect(again.message == "Secret already retrieved.")
            #expect(again.headers["Retry-After"].isEmpty)

            let deletion = try await partner.delete(accessToken, externalID)
            #expect(deletion.status == 200)
            #expect(deletion.json?["data"] as? [Any] != nil)
            #expect((deletion.json?["data"] as? [Any])?.isEmpty == true)

            let after = try await partner.info(accessToken)
            #expect(after.data?["exists"] as? Bool == false)
            #expect(after.data?["isEnabled"] as? Bool == false)
            #expect(after.data?["externalId"] is NSNull)
            #expect((after.data?["permissions"] as? [Any])?.isEmpty == true)

            let state = try await sim.admin.state()
            #expect(state.requests == ["token": 1, "info": 2, "secret": 2, "delete": 1])
            #expect(state.accountRequests == ["signed": 0, "accounts": 0])
            #expect(
                state.responses == ["token 200": 1, "info 200": 2, "secret 200": 1, "secret 409": 1, "delete 200": 1])
            #expect(state.key(externalID)?.secretFetches == 2)
            #expect(state.key(externalID)?.deleted == true)
            #expect(state.codes.first?.used == true)
            let tokenMatchesState = state.tokens.first?.accessToken == accessToken
            #expect(tokenMatchesState)
        }
    }

    @Test func loginRedirectsWithCodeAndState() async throws {
        try await SimProcess.withRunning { sim in
            let pair = PKCEPair.generate()
            let state = PKCE.makeState()
            var components = URLComponents(string: sim.url("/auth/login"))!
            components.queryItems = [
                URLQueryItem(name: "clientId", value: "wbkeyd-demo"),
                URLQueryItem(name: "redirect_uri", value: "https://partner.example/oauth/callback"),
                URLQueryItem(name: "state", value: state),
                URLQueryItem(name: "code_challenge", value: pair.challenge),
                URLQueryItem(name: "code_challenge_method", value: "S256"),
                URLQueryItem(name: "sim_user", value: "u-7"),
            ]
            let answer = try await Self.getWithoutRedirects(components.string!)
            #expect(answer.status == 302)
            let location = try #require(answer.headers["Location"].first)
            #expect(location.hasPrefix(SimDefaults.redirectURI + "?code="))
            let items = URLComponents(string: location)?.queryItems ?? []
            #expect(items.first { $0.name == "state" }?.value == state)
            let code = try #require(items.first { $0.name == "code" }?.value)

            let token = try await Partner(sim: sim).token(code: Sensitive(code), verifier: pair.verifier)
            #expect(token.status == 200)
            #expect(try await sim.admin.state().codes.first?.user == "u-7")
        }
    }

    @Test func loginRefusesBadRequestsWith400() async throws {
        try await SimProcess.withRunning { sim in
            let challenge = PKCEPair.generate().challenge
            let good = "clientId=wbkeyd-demo&redirect_uri=https%3A%2F%2Fpartner.example%2Foauth%2Fcallback"
                + "&code_challenge=\(challenge)&code_challenge_method=S256&sim_user=u-1"
            let cases: [(String, String)] = [
                (good.replacingOccurrences(of: "clientId=wbkeyd-demo", with: "clientId=nobody"), "unknown clientId"),
                (good.replacingOccurrences(of: "clientId=wbkeyd-demo", with: "client_id=wbkeyd-demo"), "clientId is required"),
                (good.replacingOccurrences(of: "partner.example", with: "evil.example"),
                 "redirect_uri is not registered for this client"),
                (good.replacingOccurrences(of: "code_challenge=\(challenge)&", with: ""), "code_challenge is required"),
                (good.replacingOccurrences(of: "S256", with: "plain"), "code_challenge_method must be S256"),
            ]
            for (query, reason) in cases {
                let answer = try await Self.getWithoutRedirects(sim.url("/auth/login?" + query))
                #expect(answer.status == 400)
                #expect(answer.message == reason)
            }
            let page = try await Self.getWithoutRedirects(sim.url("/auth/login?" + good.replacingOccurrences(of: "&sim_user=u-1", with: "")))
            #expect(page.status == 200)
            #expect(page.headers["Content-Type"].first?.hasPrefix("text/html") == true)
            #expect(try await sim.admin.state().codes.isEmpty)
        }
    }

    @Test func tokenErrorsOverHTTP() async throws {
        try await SimProcess.withRunning { sim in
            var partner = Partner(sim: sim)
            let missing = try await partner.send(.POST, "/oauth2/token", form: ["client_id": "wbkeyd-demo"])
            #expect(missing.status == 422)
            let errors = try #require(missing.json?["errors"] as? [String: [String]])
            #expect(errors == [
                "client_secret": ["validation.required"], "code": ["validation.required"],
                "code_verifier": ["validation.required"],
            ])
            #expect(missing.json?["notification"] is NSNull)

            let authorization = try await sim.admin.authorize(user: "u-1")
            let mismatch = try await partner.token(code: authorization.code, verifier: PKCE.makeVerifier())
            #expect(mismatch.status == 401)
            #expect(mismatch.message == "Invalid request")
            #expect(try await partner.token(authorization).status == 401)  // burnt by the mismatch

            partner.clientSecret = "wrong"
            let second = try await sim.admin.authorize(user: "u-2")
            #expect(try await partner.token(second).status == 401)
        }
    }

    static func getWithoutRedirects(_ url: String) async throws -> Partner.Answer {
        try await HTTPClient.withHTTPClient(configuration: HTTPClient.Configuration(redirectConfiguration: .disallow)) {
            client in
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            return Partner.Answer(
                status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
        }
    }
}
