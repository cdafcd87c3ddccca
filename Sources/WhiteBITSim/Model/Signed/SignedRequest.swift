import Crypto
import Foundation

/// A private V4 request as it arrived (`docs/whitebit-api.md` §5.2): the path, the three
/// `X-TXC-*` headers and the exact body bytes, and the address it came from.
public struct SignedRequest: Sendable {
    public var path: String
    public var apiKey: String?
    public var payload: String?
    public var signature: String?
    public var body: [UInt8]
    /// The client's IP address, as the key's log shows it.
    public var source: String?

    public init(path: String, apiKey: String?, payload: String?, signature: String?, body: [UInt8], source: String? = nil) {
        self.path = path
        self.apiKey = apiKey
        self.payload = payload
        self.signature = signature
        self.body = body
        self.source = source
    }

    /// `hex(HMAC_SHA512(key: secret, message: payload))`, lowercase.
    static func expectedSignature(payload: String, secret: String) -> String {
        let mac = HMAC<SHA512>.authenticationCode(for: Array(payload.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Compares every byte whatever the first difference, as a verifier should.
    static func sameSignature(_ given: String?, _ expected: String) -> Bool {
        guard let given else { return false }
        let left = Array(given.utf8), right = Array(expected.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The JSON body of a signed request, read as WhiteBIT reads it: compact JSON, an object,
/// `request` and `nonce` present, `nonceWindow` a boolean if given.
struct SignedBody {
    let request: String
    let nonce: Int
    let nonceWindow: Bool
    let fields: [String: JSONValue]

    static func parse(_ bytes: [UInt8]) -> Result<SignedBody, SignedRefusal> {
        guard isCompact(bytes), let value = try? JSONValue.decode(Data(bytes)), let fields = value.objectValue else {
            return .failure(.spacedOrNotJSON)
        }
        guard let request = fields["request"]?.stringValue, !request.isEmpty else { return .failure(.requestMissing) }
        guard let nonceValue = fields["nonce"], !nonceValue.isNull else { return .failure(.nonceMissing) }
        // The docs' own table writes the nonce quoted ('1594297865'); a number is the usual form.
        guard let nonce = nonceValue.intValue ?? nonceValue.stringValue.flatMap({ Int($0) }) else {
            return .failure(.nonceNotInteger)
        }
        var window = false
        if let windowValue = fields["nonceWindow"] {
            guard let flag = windowValue.boolValue else { return .failure(.invalidNonceWindow) }
            window = flag
        }
        return .success(SignedBody(request: request, nonce: nonce, nonceWindow: window, fields: fields))
    }

    /// No space, tab or line break outside string literals: what a compact encoder writes.
    static func isCompact(_ bytes: [UInt8]) -> Bool {
        var inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                return false
            }
        }
        return true
    }
}

/// Every way a signed request is refused, with the status and body the simulator answers.
/// Messages are WhiteBIT's documented ones, byte for byte; docs/whitebit-sim.md says why each
/// status was chosen where the docs give none.
enum SignedRefusal: Error, Equatable {
    case payloadMissing, payloadMismatch, spacedOrNotJSON, requestMissing, requestMismatch, nonceMissing
    case nonceNotInteger, invalidNonceWindow, unknownKey, badSignature, deletedKey(SimSettings.DeletedKey)
    case disabledKey, nonceNotIncreasing, nonceOutsideWindow, nonceRepeated, noPermission, rateLimited
    case invalid(ValidationFailure)

    var answer: SimAnswer {
        switch self {
        case .payloadMissing: .v4(400, code: 9, "Payload not provided.")
        case .payloadMismatch, .requestMismatch: .v4(400, code: 9, "Invalid payload")
        case .spacedOrNotJSON: .v4(400, code: 9, "Invalid payload.")
        case .requestMissing: .v4(400, code: 9, "Request not provided.")
        case .nonceMissing: .v4(400, code: 9, "Nonce not provided.")
        case .nonceNotInteger: .validationFailed(["nonce": "The nonce must be an integer."])
        case .invalidNonceWindow: .v4(400, code: 9, "Invalid nonceWindow.")
        case .unknownKey, .badSignature, .deletedKey(.unauthorized): .v4(401, code: 0, "Unauthorized request.")
        case .deletedKey(.forbidden), .disabledKey: .v4(403, code: 0, "This action is unauthorized. Enable your key in API settings")
        case .deletedKey(.notFound): .v4(404, code: 0, "Key not found.")
        case .nonceNotIncreasing, .nonceRepeated, .rateLimited: .v4(429, code: 0, "Too many requests.")
        case .nonceOutsideWindow: .v4(400, code: 9, "Your nonce is more than 5 seconds lesser than the current nonce")
        case .noPermission: .v4(403, code: 0, "You don't have permission to use this endpoint.")
        case .invalid(let failure): .validationFailed(failure.errors)
        }
    }
}

extension SimAnswer {
    /// `{"code": N, "message": "…"}`, WhiteBIT's private V4 error shape without field errors.
    static func v4(_ status: Int, code: Int, _ message: String) -> SimAnswer {
        .json(status, ["code": .integer(code), "message": .string(message)])
    }

    /// `422 {"code": 0, "message": "Validation failed", "errors": {FIELD: [RULE]}}`.
    static func validationFailed(_ errors: [String: String]) -> SimAnswer {
        .json(422, ["code": 0, "message": "Validation failed", "errors": .object(errors.mapValues { [.string($0)] })])
    }
}
