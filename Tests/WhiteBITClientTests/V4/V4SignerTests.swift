import Crypto
import Foundation
import Sensitive
import Testing
@testable import WhiteBITClient

/// The V4 signer (docs/whitebit-api.md §5.2) against fixed vectors and against Python and
/// OpenSSL run on the same inputs.
@Suite struct V4SignerTests {
    let credentials = V4Credentials(apiKey: "550e8400-e29b-41d4-a716-446655440000", secret: Sensitive("wb-test-secret-0001"))

    @Test func theDocumentedExampleBodyAndAFixedVector() throws {
        let signed = try V4RequestSigner.sign(path: "/api/v4/trade-account/balance", nonce: 1_700_000_000_000, credentials: credentials)
        #expect(signed.body == #"{"request":"/api/v4/trade-account/balance","nonce":1700000000000}"#)
        // Computed once with Python's hmac/hashlib/base64 from the docs' recipe.
        #expect(signed.payload == "eyJyZXF1ZXN0IjoiL2FwaS92NC90cmFkZS1hY2NvdW50L2JhbGFuY2UiLCJub25jZSI6MTcwMDAwMDAwMDAwMH0=")
        #expect(signed.signature == "b3c2dd47e2037d4662bb92037329dde30055856e29a8a6309298e5ca9b9b504e65bba42a24ba6314d9789fcd43800873be52a0c5ba09823a23fd4dfc71f8e608")
        #expect(signed.headers.map(\.name) == ["Content-Type", "X-TXC-APIKEY", "X-TXC-PAYLOAD", "X-TXC-SIGNATURE"])
        #expect(signed.headers.map(\.value) == ["application/json", credentials.apiKey, signed.payload, signed.signature])
    }

    @Test func aFixedVectorWithWindowParametersAndANonASCIISecret() throws {
        let signed = try V4RequestSigner.sign(
            path: "/api/v4/main-account/history", parameters: ["ticker": .string("USDT"), "offset": .integer(0), "limit": .integer(50)],
            nonce: 1_700_000_000_001, nonceWindow: true,
            credentials: V4Credentials(apiKey: "k", secret: Sensitive("другой-secret-ключ"))
        )
        #expect(signed.body == #"{"request":"/api/v4/main-account/history","nonce":1700000000001,"nonceWindow":true,"limit":50,"offset":0,"ticker":"USDT"}"#)
        #expect(signed.signature == "ee51115deaca6a49f4ed957fc072e94dcb518358431bf7d03d47884cf627352256a91cf42055e6c3b8e9d805e1c450d1ddc8be12c8582067a4cfdb4ad01fe008")
    }

    static let bodies: [String] = [
        "{}",
        #"{"ticker":"BTC"}"#,
        #"{"limit":500,"offset":1000,"transactionMethod":2,"status":[3,7],"addresses":["a","b"]}"#,
        #"{"market":"BTC_USDT","startDate":1699990000,"endDate":1700000000,"clientOrderId":"ord-\"quoted\"\\back"}"#,
        #"{"memo":"line\nbreak\ttab\u0001ctl","note":"Grüße ✓ 𝄞","z":{"b":[true,false,null],"a":0.25},"A":-7}"#,
        #"{"ключ":"значение","é":"e","e":"é","quoteId":null}"#,
    ]

    @Test(arguments: bodies)
    func pythonComputesTheSameBodyPayloadAndSignature(body: String) throws {
        for window in [false, true] {
            let nonce: Int64 = 1_733_200_000_123 + (window ? 1 : 0)
            let mine = try V4RequestSigner.sign(
                path: "/api/v4/trade-account/order/history", jsonBody: body, nonce: nonce, nonceWindow: window,
                credentials: credentials
            )
            let python = try IndependentSigner.python(
                path: "/api/v4/trade-account/order/history", nonce: nonce, window: window, parametersJSON: body,
                secret: credentials.secret.revealed
            )
            #expect(mine.body == python.body)
            #expect(Array(mine.body.utf8) == Array(python.body.utf8))
            #expect(mine.payload == python.payload)
            #expect(mine.signature == python.signature)
        }
    }

    @Test func opensslComputesTheSameSignature() throws {
        for (body, secret) in [("{}", "wb-test-secret-0001"), (#"{"ticker":"ETH"}"#, "s3cr3t with spaces & $ymbols")] {
            let signed = try V4RequestSigner.sign(
                path: "/api/v4/main-account/balance", jsonBody: body, nonce: 42,
                credentials: V4Credentials(apiKey: "k", secret: Sensitive(secret))
            )
            #expect(try IndependentSigner.openssl(payload: signed.payload, secret: secret) == signed.signature)
        }
    }

    @Test func thePayloadDecodesToTheBodyAndTheBodyParsesBack() throws {
        let signed = try V4RequestSigner.sign(
            path: "/api/v4/convert/history", jsonBody: Self.bodies[4], nonce: 9, credentials: credentials
        )
        #expect(Data(base64Encoded: signed.payload) == Data(signed.body.utf8))
        let parsed = try #require(JSONValue.parse(Array(signed.body.utf8)))
        #expect(parsed["request"] == .string("/api/v4/convert/history"))
        #expect(parsed["nonce"] == .number("9"))
        #expect(parsed["note"] == .string("Grüße ✓ 𝄞"))
        #expect(!signed.body.contains(" :") && !signed.body.contains(", "))
    }

    @Test func theCallersNumbersAreSignedAsWritten() throws {
        let signed = try V4RequestSigner.sign(
            path: "/api/v4/trade-account/executed-history", jsonBody: #"{"orderId": 123456789012345678901, "amount": 0.10, "e": 1E+2}"#,
            nonce: 5, credentials: credentials
        )
        #expect(signed.body == #"{"request":"/api/v4/trade-account/executed-history","nonce":5,"amount":0.10,"e":1E+2,"orderId":123456789012345678901}"#)
    }

    @Test(arguments: [
        ("[]", "the body must be a JSON object, not an array"),
        (#""ticker""#, "the body must be a JSON object, not a string"),
        ("42", "the body must be a JSON object, not a number"),
        ("null", "the body must be a JSON object, not null"),
        (#"{"ticker":"BTC","ticker":"ETH"}"#, "the body is not JSON: an object names the same key twice at byte 16"),
        (#"{"ticker":"BTC"} x"#, "the body is not JSON: text after the document at byte 17"),
        (#"{"ticker":'BTC'}"#, "the body is not JSON: unexpected character at byte 10"),
        (#"{"a":"\ud800"}"#, "the body is not JSON: unpaired surrogate escape at byte 12"),
        (#"{"nonce":1}"#, "the body names nonce, which the signer sets itself"),
        (#"{"request":"/api/v4/other","nonceWindow":true}"#, "the body names nonceWindow, request, which the signer sets itself"),
    ])
    func aBodyThatIsNotOneObjectOfParametersIsRefusedWithTheReason(body: String, reason: String) {
        #expect(throws: V4SigningError(reason: reason)) {
            try V4RequestSigner.sign(path: "/api/v4/main-account/balance", jsonBody: body, nonce: 1, credentials: credentials)
        }
    }

    @Test func emptyTextIsAnEmptyObject() throws {
        let signed = try V4RequestSigner.sign(path: "/api/v4/main-account/balance", jsonBody: " \n", nonce: 3, credentials: credentials)
        #expect(signed.body == #"{"request":"/api/v4/main-account/balance","nonce":3}"#)
    }

    @Test func unusablePathsKeysNoncesAndSecretsAreRefused() {
        for path in ["/api/v3/balance", "api/v4/x", "/api/v4/../oauth2/token", "/api/v4/a//b", "/api/v4/x?y=1", "/api/v4/a b", "/api/v4/"] {
            #expect(throws: V4SigningError.self, "\(path)") {
                try V4RequestSigner.sign(path: path, nonce: 1, credentials: credentials)
            }
        }
        for key in ["", "with space", "new\nline", String(repeating: "k", count: 257)] {
            #expect(throws: V4SigningError.self) {
                try V4RequestSigner.sign(path: "/api/v4/main-account/balance", nonce: 1, credentials: V4Credentials(apiKey: key, secret: credentials.secret))
            }
        }
        #expect(throws: V4SigningError(reason: "the nonce must be a positive number of milliseconds")) {
            try V4RequestSigner.sign(path: "/api/v4/main-account/balance", nonce: 0, credentials: credentials)
        }
        #expect(throws: V4SigningError(reason: "the API secret is empty")) {
            try V4RequestSigner.sign(path: "/api/v4/main-account/balance", nonce: 1, credentials: V4Credentials(apiKey: "k", secret: Sensitive("")))
        }
    }

    @Test func nothingPrintsTheSecret() throws {
        let signed = try V4RequestSigner.sign(path: "/api/v4/main-account/balance", nonce: 1, credentials: credentials)
        var texts = [
            "\(signed)", String(reflecting: signed), "\(credentials)", String(reflecting: credentials),
        ]
        var dumped = ""
        dump(credentials, to: &dumped)
        dump(signed, to: &dumped)
        texts.append(dumped)
        do {
            _ = try V4RequestSigner.sign(path: "/api/v4/x y", nonce: 1, credentials: credentials)
        } catch {
            texts += ["\(error)", String(reflecting: error)]
        }
        for text in texts {
            #expect(!text.contains(credentials.secret.revealed), "the secret leaked into a description")
        }
        #expect("\(signed)".contains(signed.signature))
    }
}
