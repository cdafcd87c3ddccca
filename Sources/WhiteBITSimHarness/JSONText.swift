import JSONString
import Foundation

/// Just enough JSON to write admin requests without a Codable type for each.
enum JSONText: Sendable, ExpressibleByStringLiteral {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case null
    case array([JSONText])
    case object([String: JSONText])

    init(stringLiteral value: String) { self = .string(value) }

    var rendered: String {
        switch self {
        case .string(let text): return JSONString.quoted(text)
        case .integer(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .array(let values): return "[" + values.map(\.rendered).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.sorted { $0.key < $1.key }.map { JSONString.quoted($0.key) + ":" + $0.value.rendered }
                .joined(separator: ",") + "}"
        }
    }

}
