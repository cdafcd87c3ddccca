/// A JSON value as the spool parser needs it: objects keep their members in order,
/// numbers are only recognised (no spool field is a number).
enum JSONValue: Sendable {
    case object([JSONMember])
    case array([JSONValue])
    case string(String)
    case number
    case bool(Bool)
    case null

    var kind: JSONKind {
        switch self {
        case .object: .object
        case .array: .array
        case .string: .string
        case .number: .number
        case .bool: .boolean
        case .null: .null
        }
    }
}

struct JSONMember: Sendable {
    let key: String
    let value: JSONValue
}

/// An RFC 8259 parser that refuses what Foundation's lets pass: duplicate keys (which
/// two readers may resolve differently), trailing data, and nesting deep enough to
/// exhaust a stack. Its input is already known to be UTF-8 without NUL bytes, and its
/// messages name offsets and grammar, never content.
struct StrictJSONParser {
    enum Failure: Error, Equatable {
        case syntax(offset: Int, problem: String)
        /// `depth` 1 is the top-level object.
        case duplicateKey(key: String, depth: Int, offset: Int)
    }

    static let maximumDepth = 32

    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        var parser = StrictJSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else {
            throw .syntax(offset: parser.index, problem: "unexpected data after the JSON value")
        }
        return value
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func fail(_ problem: String) -> Failure {
        .syntax(offset: index, problem: current == nil ? "unexpected end of file, \(problem)" : problem)
    }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ problem: String) throws(Failure) {
        guard current == byte else { throw fail(problem) }
        index += 1
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        // NUL never reaches here (the spool parser refuses it first); it stands for the end.
        switch current ?? 0 {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("expected a JSON value")
        }
    }

    private mutating func parseLiteral(_ word: String, _ value: JSONValue) throws(Failure) -> JSONValue {
        for byte in word.utf8 {
            try expect(byte, "expected \(word)")
        }
        return value
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        index += 1
        var members: [JSONMember] = []
        var keys = Set<[UInt8]>()
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            let keyOffset = index
            guard current == UInt8(ascii: "\"") else { throw fail("expected a string as object key") }
            let key = try parseString()
            // Compared as bytes: Swift's String equality is canonical equivalence,
            // under which U+212A KELVIN SIGN equals "K".
            guard keys.insert(Array(key.utf8)).inserted else {
                throw .duplicateKey(key: key, depth: depth, offset: keyOffset)
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "expected ':' after an object key")
            skipWhitespace()
            members.append(JSONMember(key: key, value: try parseValue(depth: depth)))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(UInt8(ascii: "}"), "expected ',' or '}' in an object")
            return .object(members)
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(UInt8(ascii: "]"), "expected ',' or ']' in an array")
            return .array(elements)
        }
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else {
            guard skipDigits() > 0 else { throw fail("expected a digit in a number") }
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() > 0 else { throw fail("expected a digit after '.' in a number") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { throw fail("expected a digit in a number's exponent") }
        }
        return .number
    }

    private mutating func skipDigits() -> Int {
        let start = index
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
            index += 1
        }
        return index - start
    }

    private mutating func parseString() throws(Failure) -> String {
        index += 1
        var decoded: [UInt8] = []
        while true {
            guard let byte = current else { throw fail("a string is not closed") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                try decodeEscape(into: &decoded)
            case 0..<0x20:
                throw fail("a control character in a string must be escaped")
            default:
                decoded.append(byte)
                index += 1
            }
        }
    }

    private mutating func decodeEscape(into decoded: inout [UInt8]) throws(Failure) {
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
            UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        guard let letter = current else { throw fail("a string is not closed") }
        if let byte = simple[letter] {
            decoded.append(byte)
            index += 1
            return
        }
        guard letter == UInt8(ascii: "u") else { throw fail("unknown escape in a string") }
        index += 1
        var value = UInt32(try parseHex4())
        if (0xD800...0xDBFF).contains(value) {
            guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
            else { throw fail("a \\u escape is half of a surrogate pair") }
            index += 2
            let low = UInt32(try parseHex4())
            guard (0xDC00...0xDFFF).contains(low) else { throw fail("a \\u escape is half of a surrogate pair") }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(value) {
            throw fail("a \\u escape is half of a surrogate pair")
        }
        guard let scalar = Unicode.Scalar(value) else { throw fail("a \\u escape is not a character") }
        decoded.append(contentsOf: Array(String(scalar).utf8))
    }

    private mutating func parseHex4() throws(Failure) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = Self.hexValue(byte) else {
                throw fail("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
