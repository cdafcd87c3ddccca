/// The duration syntax of wbkeyd.toml: one non-negative integer and one unit, `500ms`,
/// `30s`, `10m`, `4h`, `400d`. Fractions, signs, compound forms (`1h30m`) and bare numbers
/// are refused on purpose: a config file that says `10` leaves the reader guessing whether
/// that is seconds or minutes, and an operator should never have to guess.
public enum ConfigDuration {
    public enum Unit: String, Sendable, CaseIterable {
        case milliseconds = "ms"
        case seconds = "s"
        case minutes = "m"
        case hours = "h"
        case days = "d"

        var milliseconds: Int64 {
            switch self {
            case .milliseconds: 1
            case .seconds: 1_000
            case .minutes: 60_000
            case .hours: 3_600_000
            case .days: 86_400_000
            }
        }
    }

    /// Why a duration string was refused, in words an operator can act on.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case negative
        case fractional
        case missingUnit
        case missingNumber
        case unknownUnit(String)
        case compound
        case malformed
        case tooLarge

        public var description: String {
            switch self {
            case .empty: "empty duration; write a number and a unit, e.g. \"30s\""
            case .negative: "a duration cannot be negative or signed"
            case .fractional: "fractions are not allowed; use a smaller unit (\"1500ms\", not \"1.5s\")"
            case .missingUnit: "missing unit; write e.g. \"10s\" (units: ms, s, m, h, d)"
            case .missingNumber: "missing number before the unit, e.g. \"10s\""
            case .unknownUnit(let unit): "unknown unit \"\(unit)\" (units: ms, s, m, h, d)"
            case .compound: "one number and one unit only; write \"90m\", not \"1h30m\""
            case .malformed: "not a duration; write a number and a unit, e.g. \"30s\""
            case .tooLarge: "duration too large"
            }
        }
    }

    public static func parse(_ text: String) throws(ParseError) -> Duration {
        guard !text.isEmpty else { throw .empty }
        let scalars = Array(text.unicodeScalars)
        if scalars[0] == "-" || scalars[0] == "+" { throw .negative }
        let digitCount = scalars.prefix(while: isDigit).count
        guard digitCount > 0 else {
            throw scalars.allSatisfy(isLetter) ? .missingNumber : .malformed
        }
        let rest = scalars[digitCount...]
        if rest.isEmpty { throw .missingUnit }
        if rest.first == "." || rest.first == "," { throw .fractional }
        let unitText = String(String.UnicodeScalarView(rest.prefix(while: isLetter)))
        if unitText.isEmpty { throw .unknownUnit(String(String.UnicodeScalarView(rest))) }
        if unitText.count < rest.count {
            let tail = rest.dropFirst(unitText.unicodeScalars.count)
            if tail.first.map(isDigit) == true { throw .compound }
            if tail.first == "." { throw .fractional }
            throw .unknownUnit(String(String.UnicodeScalarView(rest)))
        }
        guard let unit = Unit(rawValue: unitText) else { throw .unknownUnit(unitText) }
        // Anything past 18 digits overflows Int64 before the unit is even applied.
        guard digitCount <= 18, let amount = Int64(String(String.UnicodeScalarView(scalars[..<digitCount]))) else {
            throw .tooLarge
        }
        let (total, overflow) = amount.multipliedReportingOverflow(by: unit.milliseconds)
        guard !overflow else { throw .tooLarge }
        return .milliseconds(total)
    }

    /// The shortest exact rendering in the largest unit that divides the duration, so that
    /// `format(parse(x))` gives back what an operator would have written (`"90m"`, `"400d"`).
    /// A duration that is not a whole number of milliseconds cannot be written in the config
    /// syntax and falls back to Swift's own rendering.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0, attoseconds % 1_000_000_000_000_000 == 0 else {
            return "\(duration)"
        }
        let (wholeMilliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        guard !overflow else { return "\(duration)" }
        let milliseconds = wholeMilliseconds + attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0s" }
        for unit in Unit.allCases.reversed() where milliseconds % unit.milliseconds == 0 {
            return "\(milliseconds / unit.milliseconds)\(unit.rawValue)"
        }
        return "\(milliseconds)ms"
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar >= "0" && scalar <= "9"
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
    }
}
