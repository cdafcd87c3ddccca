/// Escaping for roff: help texts reach the page as written, hyphens and quotes included,
/// so that a command copied from the page works.
enum Roff {
    /// A text line (or several): nothing on it is read as a request.
    static func text(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true).map { line in
            let escaped = characters(String(line.drop { $0 == " " }))
            return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
        }
    }

    /// A line of a literal display: its leading spaces are kept.
    static func literalLine(_ line: String) -> String {
        let escaped = characters(line)
        if escaped.isEmpty { return "\\&" }
        return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
    }

    /// One argument of a macro line, made of safe characters (a name, a value name).
    static func argument(_ word: String) -> String {
        arguments(word)
    }

    /// Words for a macro line: a word that is a macro's name (`In`, `No`, `Ar`) would be
    /// called, and `"` would open a quoted argument.
    static func arguments(_ text: String) -> String {
        text.split(separator: " ").map { word in
            let escaped = characters(String(word)).replacingQuotes()
            return isMacroName(word) ? "\\&" + escaped : escaped
        }.joined(separator: " ")
    }

    static func characters(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\\": result += "\\e"
            case "-": result += "\\-"
            case "'": result += "\\(aq"
            case "`": result += "\\(ga"
            default:
                // ASCII only: groff reads its input as Latin-1 unless told otherwise.
                for scalar in character.unicodeScalars {
                    if scalar.isASCII {
                        result.unicodeScalars.append(scalar)
                    } else {
                        result += "\\[u" + hex(scalar.value) + "]"
                    }
                }
            }
        }
        return result
    }

    /// groff's glyph names want at least four upper-case hex digits.
    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `No`, `In`, `D1`, and a lone delimiter (`,` `)`), which mdoc would set apart.
    static func isMacroName(_ word: Substring) -> Bool {
        if [".", ",", ";", ":", "(", ")", "[", "]", "|", "?", "!"].contains(String(word)) { return true }
        guard let first = word.first, first.isUppercase, (2...3).contains(word.count) else { return false }
        return word.dropFirst().allSatisfy { $0.isLowercase || $0.isNumber }
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var result = ""
        for character in self { if character == "\"" { result += "\\(dq" } else { result.append(character) } }
        return result
    }
}
