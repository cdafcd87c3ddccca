import Foundation
import PKCE
import Sensitive
import Synchronization
import Testing
@testable import WhiteBITSim

/// A clock that moves only when a test says so.
final class ManualClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    var now: Date { current.withLock { $0 } }

    func advance(milliseconds: Int) {
        current.withLock { $0 = $0.addingTimeInterval(TimeInterval(milliseconds) / 1000) }
    }

    var reading: SimulatedWhiteBIT.Clock { { self.now } }
}

/// One simulated WhiteBIT with a manual clock, and the steps of the documented flow.
struct SimFixture {
    let clock = ManualClock()
    let world: SimulatedWhiteBIT
    static let clientID = SimConfiguration.demoClientID
    static let clientSecret = SimConfiguration.demoClientSecret.revealed

    init(settings: SimSettings = SimSettings(), seed: UInt64? = 42) {
        world = SimulatedWhiteBIT(configuration: SimConfiguration(settings: settings, seed: seed), clock: clock.reading)
    }

    struct Authorization {
        let code: String
        let verifier: Sensitive
        let key: KeyCreation
    }

    /// The user consents with a fresh PKCE pair.
    func consent(
        _ user: String = "u-1001", clientID: String? = nil, key: KeyAppearance? = .now
    ) async throws -> Authorization {
        let pair = PKCEPair.generate()
        let grant = try await world.consent(
            ConsentRequest(user: user, clientID: clientID, state: "st", codeChallenge: pair.challenge, key: key))
        return Authorization(code: grant.code.revealed, verifier: pair.verifier, key: grant.key)
    }

    static func form(
        _ authorization: Authorization, clientID: String = clientID, secret: String = clientSecret
    ) -> [String: String] {
        [
            "client_id": clientID, "client_secret": secret, "code": authorization.code,
            "code_verifier": authorization.verifier.revealed,
        ]
    }

    /// Consent and token exchange: the `Authorization` header value of a fresh token.
    func bearer(_ user: String = "u-1001", clientID: String? = nil, secret: String? = nil, key: KeyAppearance? = .now)
        async throws -> String
    {
        let authorization = try await consent(user, clientID: clientID, key: key)
        let answer = await world.exchangeCode(
            form: Self.form(authorization, clientID: clientID ?? Self.clientID, secret: secret ?? Self.clientSecret))
        try #require(answer.status == 200)
        let token = try #require(answer.json?["data"]?["access_token"]?.stringValue)
        return "Bearer \(token)"
    }

    /// The externalId `/info` shows for the token.
    func externalID(_ bearer: String) async throws -> String {
        let info = await world.apiKeyInfo(authorization: bearer)
        return try #require(info.json?["data"]?["externalId"]?.stringValue)
    }

    func info(_ bearer: String) async -> JSONValue? {
        await world.apiKeyInfo(authorization: bearer).json?["data"]
    }

    func key(_ externalID: String) async -> JSONValue? {
        await world.stateJSON()["keys"]?.arrayValue?.first { $0["external_id"]?.stringValue == externalID }
    }

    /// Registers a second partner with the given scopes.
    func registerOtherClient(_ id: String = "other-partner", scopes: [String] = SimClient.fastAPIKeyScopes) async throws {
        try await world.register(
            SimClient(id: id, secret: Sensitive("other-secret"), redirectURIs: ["https://other.example/cb"], scopes: scopes))
    }
}
