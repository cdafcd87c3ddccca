import Crypto
import FoundationEssentials
import Sensitive

/// The key pair a private V4 request is signed with.
public struct V4Credentials: Sendable, CustomStringConvertible {
    /// The `X-TXC-APIKEY` value: the externalId, or an `api_key` that arrived separately
    /// (docs/whitebit-api.md §3.6). A key identifier, not a secret.
    public let apiKey: String
    public let secret: Sensitive

    public init(apiKey: String, secret: Sensitive) {
        self.apiKey = apiKey
        self.secret = secret
    }

    public var description: String { "V4Credentials(apiKey: \(apiKey), secret: \(secret))" }
}

/// One signed private V4 request, ready to send (docs/whitebit-api.md §5.2). It holds no
/// secret: only what goes on the wire, so printing it shows nothing that signs anything
/// else.
public struct SignedV4Request: Sendable, Equatable, CustomStringConvertible {
    /// `/api/v4/…`: the URL path and the body's `request`.
    public let path: String
    public let nonce: Int64
    /// The exact body bytes: send these, not a re-encoding of them.
    public let body: String
    public let apiKey: String
    /// `X-TXC-PAYLOAD`: base64 of `body`.
    public let payload: String
    /// `X-TXC-SIGNATURE`: lowercase hex HMAC-SHA512 of `payload` under the secret.
    public let signature: String

    /// The four headers, in the order WhiteBIT documents them.
    public var headers: [(name: String, value: String)] {
        [
            ("Content-Type", "application/json"), ("X-TXC-APIKEY", apiKey),
            ("X-TXC-PAYLOAD", payload), ("X-TXC-SIGNATURE", signature),
        ]
    }

    public var description: String {
        "SignedV4Request(POST \(path), nonce: \(nonce), apiKey: \(apiKey), body: \(body.utf8.count) bytes, "
            + "signature: \(signature))"
    }
}

/// Why a request could not be signed; names the input that was wrong, never the secret.
public struct V4SigningError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String

    public var description: String { "cannot sign the V4 request: \(reason)" }
}

/// Builds and signs private V4 request bodies. Pure: no clock, no I/O; the nonce comes
/// from the caller (`V4NonceSource`).
///
/// The body is compact JSON with `request` first, then `nonce`, then `nonceWindow` when
/// asked for, then the endpoint's parameters with their keys in code-point order (at
/// every depth), so one input always yields the same bytes. A caller's parameters may not
/// name `request`, `nonce` or `nonceWindow`: those are the signer's to set, and a body
/// that carried its own would either be overwritten behind the caller's back or disagree
/// with the URL, so they are refused with a message that says so.
public enum V4RequestSigner {
    public static let reservedFields: Set<String> = ["request", "nonce", "nonceWindow"]
    public static let maximumPathLength = 256
    public static let maximumAPIKeyLength = 256

    /// Signs `parameters` (an endpoint's fields) for `path`.
    public static func sign(
        path: String, parameters: [String: JSONValue] = [:], nonce: Int64, nonceWindow: Bool = false,
        credentials: V4Credentials
    ) throws(V4SigningError) -> SignedV4Request {
        try checkPath(path)
        guard nonce > 0 else { throw V4SigningError(reason: "the nonce must be a positive number of milliseconds") }
        try checkAPIKey(credentials.apiKey)
        guard !credentials.secret.isEmpty else { throw V4SigningError(reason: "the API secret is empty") }
        let reserved = parameters.keys.filter { reservedFields.contains($0) }.sorted()
        guard reserved.isEmpty else {
            throw V4SigningError(
                reason: "the body names \(reserved.joined(separator: ", ")), which the signer sets itself")
        }

        var body = "{\"request\":"
        JSONWriter.writeString(path, to: &body)
        body += ",\"nonce\":\(nonce)"
        if nonceWindow { body += ",\"nonceWindow\":true" }
        for key in JSONWriter.sortedKeys(parameters) {
            body += ","
            JSONWriter.writeString(key, to: &body)
            body += ":"
            JSONWriter.write(parameters[key]!, to: &body)
        }
        body += "}"

        let payload = Data(body.utf8).base64EncodedString()
        let key = SymmetricKey(data: Array(credentials.secret.revealed.utf8))
        let code = HMAC<SHA512>.authenticationCode(for: Array(payload.utf8), using: key)
        return SignedV4Request(
            path: path, nonce: nonce, body: body, apiKey: credentials.apiKey, payload: payload,
            signature: hex(Array(code))
        )
    }

    /// Signs a caller's JSON body text (`sign USER PATH [JSON-BODY]`, docs/design.md §12).
    /// It must be one JSON object, without duplicate keys; empty text means `{}`.
    public static func sign(
        path: String, jsonBody: String, nonce: Int64, nonceWindow: Bool = false, credentials: V4Credentials
    ) throws(V4SigningError) -> SignedV4Request {
        try sign(
            path: path, parameters: try parameters(fromJSON: jsonBody), nonce: nonce, nonceWindow: nonceWindow,
            credentials: credentials
        )
    }

    /// A caller's JSON body as parameters: one object, no duplicate keys; empty means `{}`.
    public static func parameters(fromJSON text: String) throws(V4SigningError) -> [String: JSONValue] {
        if text.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        let document: JSONValue
        do {
            document = try JSONValue.parsing(Array(text.utf8), duplicateKeys: .refuse)
        } catch {
            throw V4SigningError(reason: "the body is not JSON: \(error)")
        }
        guard case .object(let members) = document else {
            throw V4SigningError(reason: "the body must be a JSON object, not \(kindName(document))")
        }
        return members
    }

    private static func checkPath(_ path: String) throws(V4SigningError) {
        guard path.hasPrefix("/api/v4/"), path.utf8.count <= maximumPathLength else {
            throw V4SigningError(reason: "the path must start with /api/v4/ and be at most \(maximumPathLength) bytes")
        }
        let allowed = path.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."):
                true
            default: false
            }
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard allowed, !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw V4SigningError(
                reason: "the path may hold only letters, digits, '/', '-', '_' and '.', with no empty, '.' or '..' segment")
        }
    }

    private static func checkAPIKey(_ apiKey: String) throws(V4SigningError) {
        guard !apiKey.isEmpty, apiKey.utf8.count <= maximumAPIKeyLength,
              apiKey.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            throw V4SigningError(reason: "the API key is empty, longer than \(maximumAPIKeyLength) bytes or not visible ASCII")
        }
    }

    private static func kindName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var out = String.UnicodeScalarView()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(out)
    }
}
