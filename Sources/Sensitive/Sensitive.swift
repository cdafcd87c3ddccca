/// A secret string: an access token, an authorization code, a PKCE verifier, an API
/// secret, a client secret. Every way Swift has of printing a value (`description`,
/// string interpolation, `dump`, `Mirror`, `debugPrint`) yields `<redacted>`, so a
/// secret that reaches a log line, an error message or a crash report by accident
/// shows nothing. The clear text is only reachable through `revealed`, which makes
/// each use of it greppable.
public struct Sensitive: Sendable, Hashable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The clear text. Use only to put the secret on the wire or into a sealed box.
    public var revealed: String { value }

    public var isEmpty: Bool { value.isEmpty }

    /// Byte-wise comparison that takes the same time wherever the first difference is,
    /// so a caller checking a secret (the simulator checking a client secret, say)
    /// does not leak its prefix through timing.
    public func constantTimeEquals(_ other: Sensitive) -> Bool {
        let a = Array(value.utf8)
        let b = Array(other.value.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

extension Sensitive: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
