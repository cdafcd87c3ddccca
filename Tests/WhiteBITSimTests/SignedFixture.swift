import Crypto
import Foundation
import Testing
@testable import WhiteBITSim

/// A key of the fixture's world and requests signed for it, written here from the API doc's
/// recipe (compact JSON, base64 payload, hex HMAC-SHA512 of the payload) rather than taken
/// from the simulator's verifier.
struct SignedKey {
    let externalID: String
    let apiKey: String
    let secret: String
    let user: String

    static func of(_ sim: SimFixture, user: String = "u-1001", permissions: [JSONValue]? = nil) async throws -> SignedKey {
        let pair = PKCEPairForTests.challenge
        _ = try await sim.world.consent(ConsentRequest(user: user, codeChallenge: pair, key: .now, permissions: permissions))
        let key = try #require(await sim.world.stateJSON()["keys"]?.arrayValue?.last { $0["user"]?.stringValue == user })
        return SignedKey(
            externalID: try #require(key["external_id"]?.stringValue), apiKey: try #require(key["api_key"]?.stringValue),
            secret: try #require(key["api_secret"]?.stringValue), user: user)
    }

    /// A request to `path` with `fields` in its body, signed with `secret` (default: the key's).
    func request(
        _ path: String, nonce: Int, fields: [String: JSONValue] = [:], window: Bool? = nil, secret: String? = nil,
        header: String? = nil
    ) -> SignedRequest {
        var body = fields
        body["request"] = .string(path)
        body["nonce"] = .integer(nonce)
        if let window { body["nonceWindow"] = .bool(window) }
        return Self.signed(path, body: Array(JSONValue.object(body).encoded()), key: header ?? externalID, secret: secret ?? self.secret)
    }

    static func signed(_ path: String, body: [UInt8], key: String, secret: String) -> SignedRequest {
        let payload = Data(body).base64EncodedString()
        let mac = HMAC<SHA512>.authenticationCode(for: Data(payload.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        let signature = mac.map { String(format: "%02x", $0) }.joined()
        return SignedRequest(path: path, apiKey: key, payload: payload, signature: signature, body: body)
    }
}

enum PKCEPairForTests {
    /// Any valid S256 challenge will do for a consent made directly on the model.
    static let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
}

extension SimAnswer {
    /// The V4 error's `message`.
    var v4Message: String? { json?["message"]?.stringValue }
}

/// The balance path, used by most tests.
let mainBalance = AccountEndpoint.mainBalance.signedPath
let nonceBase = 1_800_000_000_000
