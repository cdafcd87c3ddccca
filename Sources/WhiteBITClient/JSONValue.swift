import JSONString

/// Any JSON document, so that the decoders can accept every shape docs/whitebit-api.md §7
/// leaves open (a `data` wrapper or not, numbers as strings, fields absent or null)
/// without a Codable struct per variant, and so that a V4 answer can be handed on as
/// WhiteBIT sent it.
///
/// A number keeps the literal text it was written with (`"1700000000000"`, `"0.10"`):
/// a balance or an order id then passes through wbkeyd unrounded, and a caller's body is
/// signed with the digits the caller wrote.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's literal text, checked against the JSON number grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// What to do with a key an object names twice.
    public enum DuplicateKeys: Sendable {
        /// The document is refused: a body to be signed must mean one thing.
        case refuse
        /// The last one wins, as most JSON readers do; for answers.
        case lastWins
    }

    /// Nil for anything that is not a JSON document.
    public static func parse(_ bytes: [UInt8], duplicateKeys: DuplicateKeys = .lastWins) -> JSONValue? {
        try? JSONReader.parse(bytes, duplicateKeys: duplicateKeys)
    }

    /// The document, or why it is not one (a fixed phrase and a byte offset, never a
    /// piece of the text).
    public static func parsing(
        _ bytes: [UInt8], duplicateKeys: DuplicateKeys = .refuse
    ) throws(JSONSyntaxError) -> JSONValue {
        try JSONReader.parse(bytes, duplicateKeys: duplicateKeys)
    }

    /// A number value from an integer.
    public static func integer(_ value: Int64) -> JSONValue { .number(String(value)) }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var isNull: Bool { self == .null }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }

    /// `true`/`false`, and also `1`/`0`, which PHP back ends are known to emit for booleans.
    public var boolValue: Bool? {
        switch self {
        case .bool(let value): value
        case .number(let text) where Double(text) == 1: true
        case .number(let text) where Double(text) == 0: false
        default: nil
        }
    }

    /// Compact JSON: no spaces, object keys in code-point order at every depth, numbers
    /// as written, strings with only `"`, `\` and control characters escaped. The same
    /// value always gives the same bytes, which is what a signed body needs.
    public var compactText: String {
        var out = ""
        JSONWriter.write(self, to: &out)
        return out
    }
}

/// Why a text is not a JSON document.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    /// Byte offset into the text where reading stopped.
    public let offset: Int

    public var description: String { "\(reason) at byte \(offset)" }
}

enum JSONWriter {
    static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let text): out += text
        case .string(let text): writeString(text, to: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                write(element, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, key) in sortedKeys(members).enumerated() {
                if index > 0 { out += "," }
                writeString(key, to: &out)
                out += ":"
                write(members[key]!, to: &out)
            }
            out += "}"
        }
    }

    /// Code-point order, the order of UTF-8 bytes (and Python's `sorted` on `str`), not
    /// Swift's `String` order, which compares by Unicode canonical equivalence.
    static func sortedKeys(_ members: [String: JSONValue]) -> [String] {
        members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// One escaper for every JSON string wbkeyd writes by hand (`JSONString`): the signed
    /// body's bytes are the ones the signature covers.
    static func writeString(_ text: String, to out: inout String) {
        out += JSONString.quoted(text)
    }
}
