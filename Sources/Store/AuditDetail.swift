import JSONString
/// A value in an audit row's detail. There is deliberately no case for `Sensitive`: a
/// secret can only get in through an explicit `.revealed`, which review catches.
public indirect enum AuditValue: Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case object([String: AuditValue])
}

extension AuditValue: ExpressibleByStringLiteral, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, AuditValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// The `detail` column: a JSON object. Written compact with keys sorted by their UTF-8
/// bytes, so the same detail always gives the same text (and the same hash).
public struct AuditDetail: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public var fields: [String: AuditValue]

    public init(_ fields: [String: AuditValue] = [:]) {
        self.fields = fields
    }

    public init(dictionaryLiteral elements: (String, AuditValue)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public var json: String {
        var output = ""
        AuditJSON.writeObject(fields, to: &output)
        return output
    }
}

enum AuditJSON {
    static func writeObject(_ fields: [String: AuditValue], to output: inout String) {
        output += "{"
        let keys = fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (index, key) in keys.enumerated() {
            if index > 0 { output += "," }
            output += JSONString.quoted(key)
            output += ":"
            writeValue(fields[key] ?? .null, to: &output)
        }
        output += "}"
    }

    static func writeValue(_ value: AuditValue, to output: inout String) {
        switch value {
        case let .string(text): output += JSONString.quoted(text)
        case let .int(number): output += String(number)
        case let .bool(flag): output += flag ? "true" : "false"
        case .null: output += "null"
        case let .object(fields): writeObject(fields, to: &output)
        }
    }

}
