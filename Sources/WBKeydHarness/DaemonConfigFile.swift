import JSONString
import Foundation

/// A value in wbkeyd.toml. `.raw` is written as given (a test of a wrong type or a syntax
/// error); `.absent` leaves the key out.
public enum TOMLValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral
{
    case string(String)
    case integer(Int)
    case bool(Bool)
    case strings([String])
    case raw(String)
    case absent

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: String...) { self = .strings(elements) }

    var rendered: String? {
        switch self {
        case .string(let text): Self.quoted(text)
        case .integer(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .strings(let values): "[" + values.map(Self.quoted).joined(separator: ", ") + "]"
        case .raw(let text): text
        case .absent: nil
        }
    }

    /// A TOML basic string: its escapes (\" \\ \n \t \r \b \f \uXXXX) are JSON's.
    private static func quoted(_ text: String) -> String {
        JSONString.quoted(text)
    }
}

/// wbkeyd.toml as `section.key` → value, rendered section by section.
public struct DaemonConfigFile: Sendable, Equatable {
    public var values: [String: TOMLValue]

    public init(values: [String: TOMLValue] = [:]) {
        self.values = values
    }

    public subscript(key: String) -> TOMLValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// `values` with each of `overrides` set (`.absent` removes a key).
    public func merging(_ overrides: [String: TOMLValue]) -> DaemonConfigFile {
        DaemonConfigFile(values: values.merging(overrides) { $1 })
    }

    static let sectionOrder = ["whitebit", "spool", "keys", "store", "control"]

    public var rendered: String {
        var sections: [String: [(String, String)]] = [:]
        for (key, value) in values {
            guard let text = value.rendered else { continue }
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            let (section, name) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
            sections[section, default: []].append((name, text))
        }
        let order = Self.sectionOrder + sections.keys.filter { !Self.sectionOrder.contains($0) && !$0.isEmpty }.sorted()
        var lines = (sections[""] ?? []).sorted { $0.0 < $1.0 }.map { "\($0.0) = \($0.1)" }
        for section in order {
            guard let entries = sections[section] else { continue }
            if !lines.isEmpty { lines.append("") }
            lines.append("[\(section)]")
            lines += entries.sorted { $0.0 < $1.0 }.map { "\($0.0) = \($0.1)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
