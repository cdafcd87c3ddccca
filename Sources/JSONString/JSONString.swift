/// RFC 8259 string literals, for the few places that write JSON by hand (the audit
/// `detail` column, spool files, the simulator's admin requests) so that their exact
/// bytes are under our control: audit hashes cover them.
public enum JSONString {
    /// `text` as a quoted JSON string: quote, backslash and control characters (and
    /// DEL) escaped, everything else literal UTF-8.
    public static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
