import PKCE
import Sensitive

/// Where codes, tokens, key ids and secrets come from: the system generator, or SplitMix64
/// from `--seed` so that runs repeat.
struct SimRandom: RandomNumberGenerator, Sendable {
    private var seededState: UInt64?
    private var system = SystemRandomNumberGenerator()

    init(seed: UInt64?) { seededState = seed }

    mutating func next() -> UInt64 {
        guard var state = seededState else { return system.next() }
        state &+= 0x9E37_79B9_7F4A_7C15
        seededState = state
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &self) }
    }

    /// An opaque bearer value (code or token) of `count` random bytes, base64url.
    mutating func opaqueSecret(bytes count: Int) -> Sensitive {
        Sensitive(PKCE.base64URL(bytes(count)))
    }

    /// 32 lowercase hex digits, the shape of a WhiteBIT API secret.
    mutating func apiSecret() -> Sensitive {
        Sensitive(bytes(16).map(Self.hex).joined())
    }

    /// 32 lowercase hex digits, the shape of a WhiteBIT public API key.
    mutating func publicAPIKey() -> String {
        bytes(16).map(Self.hex).joined()
    }

    /// A version-4 UUID, lowercase, as `externalId` is documented.
    mutating func uuid() -> String {
        var raw = bytes(16)
        raw[6] = raw[6] & 0x0F | 0x40
        raw[8] = raw[8] & 0x3F | 0x80
        let hex = raw.map(Self.hex)
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
