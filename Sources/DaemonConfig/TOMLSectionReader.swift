import TOMLKit

/// Reads typed values out of one TOML table and keeps going past a bad one, recording a
/// problem for it, so that a single pass over a file finds everything that is wrong. Keys
/// that were asked for are remembered; whatever is left over is reported as unknown.
struct TOMLSectionReader {
    let file: String
    let section: String
    private let table: TOMLTable
    private var known: [String] = []
    private(set) var problems: [ConfigurationProblem] = []

    init(file: String, section: String, table: TOMLTable) {
        self.file = file
        self.section = section
        self.table = table
    }

    /// Keys that already have a problem: validation skips them, so one mistake is reported
    /// once, as what it is (a wrong type), not again as a consequence (a missing value).
    var faultedKeys: Set<String> {
        Set(problems.compactMap(\.key))
    }

    mutating func string(_ key: String) -> String? {
        guard let value = lookUp(key) else { return nil }
        guard let string = value.string else { return wrongType(key, value, expected: "a string") }
        return string
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = lookUp(key) else { return nil }
        guard let bool = value.bool else { return wrongType(key, value, expected: "true or false") }
        return bool
    }

    mutating func integer(_ key: String) -> Int? {
        guard let value = lookUp(key) else { return nil }
        guard let integer = value.int else { return wrongType(key, value, expected: "an integer") }
        return integer
    }

    /// An integer or a float: `rate_limit = 10` and `rate_limit = 0.5` are both natural.
    mutating func number(_ key: String) -> Double? {
        guard let value = lookUp(key) else { return nil }
        if let integer = value.int { return Double(integer) }
        guard let double = value.double else { return wrongType(key, value, expected: "a number") }
        return double
    }

    mutating func duration(_ key: String) -> Duration? {
        guard let value = lookUp(key) else { return nil }
        guard let text = value.string else {
            return wrongType(key, value, expected: "a duration string such as \"30s\"")
        }
        do {
            return try ConfigDuration.parse(text)
        } catch {
            record(key, "\"\(text)\": \(error)")
            return nil
        }
    }

    mutating func boolean(_ key: String) -> Bool? {
        guard let value = lookUp(key) else { return nil }
        guard let flag = value.bool else { return wrongType(key, value, expected: "true or false") }
        return flag
    }

    /// A duration, or `"off"` (`.some(nil)`); `nil` when the key is absent or faulty.
    mutating func durationOrOff(_ key: String) -> Duration?? {
        guard let value = lookUp(key) else { return nil }
        guard let text = value.string else {
            return wrongType(key, value, expected: "a duration string such as \"24h\", or \"off\"")
        }
        if text == "off" { return .some(nil) }
        do {
            return .some(try ConfigDuration.parse(text))
        } catch {
            record(key, "\"\(text)\": \(error) (or \"off\")")
            return nil
        }
    }

    mutating func strings(_ key: String) -> [String]? {
        guard let value = lookUp(key) else { return nil }
        guard let array = value.array else { return wrongType(key, value, expected: "an array of strings") }
        var strings: [String] = []
        var allStrings = true
        for (index, element) in array.enumerated() {
            if let string = element.string {
                strings.append(string)
            } else {
                record(key, "element \(index + 1) must be a string, not \(Self.name(of: element.type))")
                allStrings = false
            }
        }
        return allStrings ? strings : nil
    }

    /// Records a problem for `key` of this section.
    mutating func record(_ key: String, _ reason: String) {
        problems.append(ConfigurationProblem(file: file, key: "\(section).\(key)", reason: reason))
    }

    /// Reports every key of the table that was never asked for.
    mutating func reportUnknownKeys() {
        for (key, _) in table where !known.contains(key) {
            var reason = "unknown key"
            if known.contains(key + "_file") {
                // `client_secret = "…"`: say where the secret goes, and never echo it.
                reason += "; secrets never go in the config file: write it to a file and set \(key)_file"
            } else if let guess = Self.closest(to: key, among: known) {
                reason += "; did you mean \(guess)?"
            }
            problems.append(ConfigurationProblem(file: file, key: "\(section).\(key)", reason: reason))
        }
    }

    private mutating func lookUp(_ key: String) -> TOMLValueConvertible? {
        known.append(key)
        return table[key]
    }

    private mutating func wrongType<T>(_ key: String, _ value: TOMLValueConvertible, expected: String) -> T? {
        record(key, "must be \(expected), not \(Self.name(of: value.type))")
        return nil
    }

    static func name(of type: TOMLType) -> String {
        switch type {
        case .table: "a table"
        case .array: "an array"
        case .string: "a string"
        case .int: "an integer"
        case .double: "a float"
        case .bool: "a boolean"
        case .date: "a date"
        case .time: "a time"
        case .dateTime: "a date-time"
        }
    }

    /// A known name within two edits of a misspelt one, for "did you mean" hints.
    static func closest(to word: String, among candidates: [String]) -> String? {
        candidates
            .map { ($0, editDistance(word, $0)) }
            .filter { $0.1 <= 2 }
            .min { $0.1 < $1.1 }?
            .0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            previous = current
        }
        return previous[b.count]
    }
}
