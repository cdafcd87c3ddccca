import Crypto
import Sensitive

/// Proof Key for Code Exchange (RFC 7636) with the only method WhiteBIT takes, S256,
/// plus the OAuth `state` value. The verifier is a secret (it turns a stolen code into a
/// token), so it only ever travels as `Sensitive`; challenge and state are public: they
/// sit in the authorization URL.
public enum PKCE {
    /// RFC 7636 §4.1: the verifier's length bounds.
    public static let verifierLengths = 43...128
    /// The length `makeVerifier()` uses when not told otherwise: the RFC's minimum
    /// is already 256 bits of entropy; 64 leaves margin without being unwieldy.
    public static let defaultVerifierLength = 64
    /// RFC 7636 §4.1 `unreserved`: ALPHA / DIGIT / "-" / "." / "_" / "~".
    public static let unreservedAlphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8
    )
    /// The `code_challenge_method` value that goes with `challenge(for:)`.
    public static let method = "S256"

    /// A fresh verifier drawn uniformly from the unreserved alphabet.
    public static func makeVerifier(length: Int = defaultVerifierLength) -> Sensitive {
        var generator = SystemRandomNumberGenerator()
        return makeVerifier(length: length, using: &generator)
    }

    /// A verifier from the given generator; `length` must lie in `verifierLengths`.
    public static func makeVerifier<Generator: RandomNumberGenerator>(
        length: Int = defaultVerifierLength, using generator: inout Generator
    ) -> Sensitive {
        precondition(verifierLengths.contains(length), "PKCE verifier length \(length) outside 43...128")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for _ in 0..<length {
            // randomElement(using:) draws without modulo bias.
            bytes.append(unreservedAlphabet.randomElement(using: &generator)!)
        }
        return Sensitive(String(decoding: bytes, as: UTF8.self))
    }

    /// `BASE64URL(SHA256(ASCII(verifier)))` without padding (RFC 7636 §4.2).
    public static func challenge(for verifier: Sensitive) -> String {
        base64URL(Array(SHA256.hash(data: Array(verifier.revealed.utf8))))
    }

    /// A random URL-safe `state`: 32 bytes, base64url without padding (43 characters).
    public static func makeState() -> String {
        var generator = SystemRandomNumberGenerator()
        return makeState(using: &generator)
    }

    public static func makeState<Generator: RandomNumberGenerator>(using generator: inout Generator) -> String {
        base64URL(randomBytes(count: 32, using: &generator))
    }

    /// Whether the verifier has the syntax RFC 7636 §4.1 demands.
    public static func isValidVerifier(_ verifier: Sensitive) -> Bool {
        let bytes = verifier.revealed.utf8
        return verifierLengths.contains(bytes.count) && bytes.allSatisfy(unreservedAlphabet.contains)
    }

    /// Whether the text can be an S256 challenge: 43 base64url characters, no padding.
    public static func isValidChallenge(_ challenge: String) -> Bool {
        let bytes = challenge.utf8
        return bytes.count == 43 && bytes.allSatisfy(base64URLAlphabet.contains)
    }

    /// Base64url (RFC 4648 §5) without padding.
    public static func base64URL(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { output.append(base64URLAlphabet[Int(chunk >> UInt32(shift)) & 0x3F]) }
            index += 3
        }
        let remaining = bytes.count - index
        if remaining > 0 {
            let first = UInt32(bytes[index]) << 16
            let second = remaining == 2 ? UInt32(bytes[index + 1]) << 8 : 0
            let chunk = first | second
            let shifts = remaining == 2 ? [18, 12, 6] : [18, 12]
            for shift in shifts { output.append(base64URLAlphabet[Int(chunk >> UInt32(shift)) & 0x3F]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static let base64URLAlphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8
    )

    static func randomBytes<Generator: RandomNumberGenerator>(count: Int, using generator: inout Generator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

/// A verifier with its challenge, as a client holds them between the authorization
/// redirect and the token exchange.
public struct PKCEPair: Sendable {
    public let verifier: Sensitive
    public let challenge: String
    public var method: String { PKCE.method }

    public init(verifier: Sensitive) {
        self.verifier = verifier
        self.challenge = PKCE.challenge(for: verifier)
    }

    /// A fresh pair from the system's random number generator.
    public static func generate() -> PKCEPair {
        PKCEPair(verifier: PKCE.makeVerifier())
    }
}
