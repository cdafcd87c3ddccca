/// The name of an entry in a spool directory, exactly as the file system has it.
///
/// Writers choose these names, and Linux allows any bytes but `/` and NUL, so a name
/// is kept as raw bytes: a name that is not UTF-8, or holds a newline, can still be
/// claimed and rejected instead of sitting in `new/` forever. Wherever a name is shown
/// (`description`, errors, the name a rejected file gets) it is escaped.
public struct SpoolEntryName: Sendable, Hashable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(_ name: String) {
        self.bytes = Array(name.utf8)
    }

    public init(stringLiteral name: String) {
        self.init(name)
    }

    /// Bytes outside a conservative file-name set become `%XX`, as does `%` itself and
    /// a leading dot, so the result is printable ASCII, one line, and never a dotfile.
    public var description: String {
        var escaped = ""
        for (index, byte) in bytes.enumerated() {
            let leadingDot = index == 0 && byte == UInt8(ascii: ".")
            if Self.isPlain(byte) && !leadingDot {
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                escaped += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return escaped
    }

    public static func < (lhs: SpoolEntryName, rhs: SpoolEntryName) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Maildir-style names use these; everything else is escaped when shown.
    static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("._-,:=+@~".utf8).contains(byte)
        }
    }

    var isDotfile: Bool { bytes.first == UInt8(ascii: ".") }

    /// One path component that stays inside its directory.
    var isSingleComponent: Bool {
        !bytes.isEmpty && !bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0)
            && bytes != [UInt8(ascii: ".")] && bytes != [UInt8(ascii: "."), UInt8(ascii: ".")]
    }

    /// This name with `.N` appended, cut first so the result fits NAME_MAX (255).
    func suffixed(_ number: Int) -> SpoolEntryName {
        let suffix = Array(".\(number)".utf8)
        return SpoolEntryName(bytes: Array(bytes.prefix(240)) + suffix)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
