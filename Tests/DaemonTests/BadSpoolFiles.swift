import Foundation

/// Malformed deliveries for the running daemon: the cases of Tests/SpoolTests, through
/// wbkeyd this time, plus what only the daemon can refuse (an unknown `authorize-url`
/// state, a revocation for a user it does not know). Every code, verifier and state here
/// carries `badFileMarker`, so one search proves none of them leaked, not even in part.
let badFileMarker = "Zq9Sx"

struct BadSpoolFile: CustomStringConvertible {
    enum Content {
        case text(String)
        case bytes([UInt8])
        case textModified(String, secondsAgo: Double)
        case symbolicLinkToValidFile
        case fifo
        case directory
        case socket
    }

    enum Reason {
        case exact(String)
        /// For reasons with an age in seconds that depends on when the daemon got to it.
        case framing(prefix: String, suffix: String)

        func matches(_ text: String) -> Bool {
            switch self {
            case .exact(let reason): text == reason
            case .framing(let prefix, let suffix): text.hasPrefix(prefix) && text.hasSuffix(suffix)
            }
        }
    }

    let name: String
    let content: Content
    let reason: Reason
    var description: String { name }

    init(_ name: String, _ content: Content, _ reason: String) {
        self.name = "bad-" + name
        self.content = content
        self.reason = .exact(reason)
    }

    init(_ name: String, _ content: Content, prefix: String, suffix: String) {
        self.name = "bad-" + name
        self.content = content
        self.reason = .framing(prefix: prefix, suffix: suffix)
    }
}

private let user = "u-1001"
private let code = badFileMarker + "-code-4f1c9a"
private let verifier = badFileMarker + String(repeating: "vErIfIeR-._~", count: 4)

private func q(_ text: String) -> String { "\"" + text + "\"" }

private func object(_ members: [(String, String)]) -> String {
    "{" + members.map { "\(q($0.0)):\($0.1)" }.joined(separator: ",") + "}"
}

private let valid: [(String, String)] = [("user", q(user)), ("code", q(code)), ("code_verifier", q(verifier))]

private func replacing(_ field: String, with raw: String) -> String {
    var members = valid.map { $0.0 == field ? ($0.0, raw) : $0 }
    if !members.contains(where: { $0.0 == field }) { members.append((field, raw)) }
    return object(members)
}

private func without(_ field: String) -> String { object(valid.filter { $0.0 != field }) }

private func rfc3339(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
}

private func invalidJSON(_ offset: Int, _ problem: String) -> String { "invalid JSON at offset \(offset): \(problem)" }

/// The JSON of a valid authorization (the target of the symbolic-link case).
let validBadFileTarget = object(valid)

func badSpoolFiles(now: Date) -> [BadSpoolFile] {
    let outsideUser = "user has a character outside A-Z a-z 0-9 . _ : @ -"
    let outsideVerifier = "code_verifier has a character outside A-Z a-z 0-9 - . _ ~"
    let rfc = "received_at is not an RFC 3339 date-time such as 2026-11-26T10:00:00Z"
    let expired = "more than max_code_age 600s: the code has expired"
    return [
        // JSON syntax
        .init("syntax-truncated", .text(#"{"user":"u-1001","#), invalidJSON(17, "unexpected end of file, expected a string as object key")),
        .init("syntax-trailing-garbage", .text(#"{"user":"u-1001"} x"#), invalidJSON(18, "unexpected data after the JSON value")),
        .init("syntax-two-objects", .text("{}{}"), invalidJSON(2, "unexpected data after the JSON value")),
        .init("syntax-single-quotes", .text("{'user':'u-1001'}"), invalidJSON(1, "expected a string as object key")),
        .init("syntax-trailing-comma", .text(#"{"user":"u-1001",}"#), invalidJSON(17, "expected a string as object key")),
        .init("syntax-unquoted-key", .text(#"{user:"u-1001"}"#), invalidJSON(1, "expected a string as object key")),
        .init("syntax-raw-newline", .text("{\"user\":\"u-1\n001\"}"), invalidJSON(12, "a control character in a string must be escaped")),
        .init("syntax-unknown-escape", .text(#"{"user":"u\x"}"#), invalidJSON(11, "unknown escape in a string")),
        .init("syntax-lone-surrogate", .text(#"{"user":"\ud800"}"#), invalidJSON(15, "a \\u escape is half of a surrogate pair")),
        .init("syntax-leading-zero", .text(#"{"user":01}"#), invalidJSON(9, "expected ',' or '}' in an object")),
        .init("syntax-comment", .text(#"{"user":"u-1001" /* c */}"#), invalidJSON(17, "expected ',' or '}' in an object")),
        .init("syntax-nan", .text(#"{"user":NaN}"#), invalidJSON(8, "expected a JSON value")),
        .init("syntax-deep-nesting", .text(#"{"x":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}"),
              invalidJSON(36, "nested deeper than 32 levels")),
        .init("syntax-duplicate-nested-key", .text(#"{"x":{"a":1,"a":2},"user":"u-1001"}"#), invalidJSON(12, "a key appears twice in one object")),
        // Structure
        .init("top-array", .text("[" + object(valid) + "]"), "top level must be a JSON object, got array"),
        .init("top-string", .text(q(user)), "top level must be a JSON object, got string"),
        .init("top-number", .text("42"), "top level must be a JSON object, got number"),
        .init("top-null", .text("null"), "top level must be a JSON object, got null"),
        .init("top-boolean", .text("true"), "top level must be a JSON object, got boolean"),
        .init("duplicate-code", .text(object(valid + [("code", q(badFileMarker + "-other"))])), "field code appears more than once"),
        .init("duplicate-user-by-escape", .text(#"{"user":"u-1001","us\u0065r":"u-1002"}"#), "field user appears more than once"),
        .init("type-unknown", .text(replacing("type", with: q("grant"))), #"type must be "authorization" or "revocation""#),
        .init("type-capitalised", .text(replacing("type", with: q("Authorization"))), #"type must be "authorization" or "revocation""#),
        .init("type-number", .text(replacing("type", with: "1")), "type must be a string, got number"),
        .init("revocation-without-user", .text(object([("type", q("revocation"))])), "user is missing"),
        .init("revocation-reason-too-long",
              .text(object([("type", q("revocation")), ("user", q(user)), ("reason", q(String(repeating: "r", count: 513)))])),
              "reason is 513 characters long, at most 512 allowed"),
        .init("revocation-reason-number", .text(object([("type", q("revocation")), ("user", q(user)), ("reason", "7")])),
              "reason must be a string, got number"),
        .init("revocation-reason-control",
              .text(object([("type", q("revocation")), ("user", q(user)), ("reason", q(#"bye\u001b[2J"#))])),
              "reason has a character outside printable ASCII at position 4 (U+001B)"),
        // user
        .init("user-missing", .text(without("user")), "user is missing"),
        .init("user-key-capitalised", .text(object([("User", q(user)), ("code", q(code)), ("code_verifier", q(verifier))])), "user is missing"),
        .init("user-number", .text(replacing("user", with: "1001")), "user must be a string, got number"),
        .init("user-null", .text(replacing("user", with: "null")), "user must be a string, got null"),
        .init("user-empty", .text(replacing("user", with: q(""))), "user is empty"),
        .init("user-too-long", .text(replacing("user", with: q(String(repeating: "u", count: 129)))),
              "user is 129 characters long, at most 128 allowed"),
        .init("user-space", .text(replacing("user", with: q("u 1001"))), outsideUser + " at position 2 (U+0020)"),
        .init("user-cyrillic-a", .text(replacing("user", with: q("\u{430}dmin"))), outsideUser + " at position 1 (U+0430)"),
        .init("user-fullwidth-digit", .text(replacing("user", with: q("u-\u{FF11}001"))), outsideUser + " at position 3 (U+FF11)"),
        .init("user-unicode-hyphen", .text(replacing("user", with: q("u\u{2010}1001"))), outsideUser + " at position 2 (U+2010)"),
        .init("user-escaped-newline", .text(replacing("user", with: q(#"u-1001\n"#))), outsideUser + " at position 7 (U+000A)"),
        .init("user-path", .text(replacing("user", with: q("../etc"))), outsideUser + " at position 3 (U+002F)"),
        // code
        .init("code-missing", .text(without("code")), "code is missing"),
        .init("code-number", .text(replacing("code", with: "12345")), "code must be a string, got number"),
        .init("code-array", .text(replacing("code", with: "[" + q(code) + "]")), "code must be a string, got array"),
        .init("code-empty", .text(replacing("code", with: q(""))), "code is empty"),
        .init("code-too-long", .text(replacing("code", with: q(badFileMarker + String(repeating: "c", count: 2044)))),
              "code is 2049 characters long, at most 2048 allowed"),
        .init("code-bell", .text(replacing("code", with: q(badFileMarker + #"-code\u0007x"#))),
              "code has a character outside printable ASCII at position 11"),
        .init("code-non-ascii", .text(replacing("code", with: q(badFileMarker + "-c\u{F6}de"))),
              "code has a character outside printable ASCII at position 8"),
        .init("code-delete", .text(replacing("code", with: q(badFileMarker + "\u{7F}"))),
              "code has a character outside printable ASCII at position 6"),
        // code_verifier and state
        .init("verifier-too-short", .text(replacing("code_verifier", with: q(badFileMarker + String(repeating: "v", count: 37)))),
              "code_verifier is 42 characters long, at least 43 required"),
        .init("verifier-too-long", .text(replacing("code_verifier", with: q(badFileMarker + String(repeating: "v", count: 124)))),
              "code_verifier is 129 characters long, at most 128 allowed"),
        .init("verifier-plus", .text(replacing("code_verifier", with: q(badFileMarker + "+" + String(repeating: "v", count: 40)))),
              outsideVerifier + " at position 6"),
        .init("verifier-padding", .text(replacing("code_verifier", with: q(badFileMarker + String(repeating: "v", count: 40) + "="))),
              outsideVerifier + " at position 46"),
        .init("verifier-object", .text(replacing("code_verifier", with: "{}")), "code_verifier must be a string, got object"),
        .init("verifier-and-state-missing", .text(without("code_verifier")),
              "code_verifier is missing and there is no state to look it up by"),
        .init("verifier-null-no-state", .text(replacing("code_verifier", with: "null")),
              "code_verifier is missing and there is no state to look it up by"),
        .init("state-empty", .text(replacing("state", with: q(""))), "state is empty"),
        .init("state-too-long", .text(replacing("state", with: q(badFileMarker + String(repeating: "s", count: 508)))),
              "state is 513 characters long, at most 512 allowed"),
        .init("state-tab", .text(replacing("state", with: q(badFileMarker + #"\tx"#))),
              "state has a character outside printable ASCII at position 6"),
        .init("state-boolean", .text(replacing("state", with: "true")), "state must be a string, got boolean"),
        .init("state-unknown",
              .text(object([("user", q(user)), ("code", q(code)), ("state", q(badFileMarker + "-state-never-issued"))])),
              "state does not match a pending authorize-url for this user (unknown, used or expired)"),
        // received_at
        .init("received-words", .text(replacing("received_at", with: q("yesterday"))), rfc),
        .init("received-no-zone", .text(replacing("received_at", with: q("2026-11-18T08:00:00"))), rfc),
        .init("received-february-30", .text(replacing("received_at", with: q("2026-02-30T08:00:00Z"))), rfc),
        .init("received-unix-number", .text(replacing("received_at", with: "1795000000")), "received_at must be a string, got number"),
        .init("received-ancient", .text(replacing("received_at", with: q("1970-01-01T00:00:00Z"))),
              prefix: "received_at is ", suffix: "s old, " + expired),
        .init("received-just-expired", .text(replacing("received_at", with: q(rfc3339(now.addingTimeInterval(-660))))),
              prefix: "received_at is ", suffix: "s old, " + expired),
        .init("received-future", .text(replacing("received_at", with: q(rfc3339(now.addingTimeInterval(900))))),
              prefix: "received_at is ", suffix: "s in the future, more than the 300s allowed for clock skew"),
        .init("received-missing-old-mtime", .textModified(object(valid), secondsAgo: 3600),
              prefix: "received_at is missing and the file's mtime is ", suffix: "s old, " + expired),
        // Optional fields
        .init("api-key-empty", .text(replacing("api_key", with: q(""))), "api_key is empty"),
        .init("api-key-too-long", .text(replacing("api_key", with: q(String(repeating: "k", count: 257)))),
              "api_key is 257 characters long, at most 256 allowed"),
        .init("api-key-number", .text(replacing("api_key", with: "12")), "api_key must be a string, got number"),
        .init("api-key-newline", .text(replacing("api_key", with: q(#"ab\ncd"#))),
              "api_key has a character outside printable ASCII at position 3 (U+000A)"),
        // Bytes
        .init("utf8-invalid", .bytes(Array(#"{"user":"u-"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)),
              "file is not valid UTF-8 (bad byte at offset 11)"),
        .init("utf8-overlong-slash", .bytes(Array(#"{"user":"a"#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)),
              "file is not valid UTF-8 (bad byte at offset 10)"),
        .init("utf8-encoded-surrogate", .bytes(Array(#"{"user":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8)),
              "file is not valid UTF-8 (bad byte at offset 9)"),
        .init("nul-byte", .bytes(Array(#"{"user":"u-"#.utf8) + [0x00] + Array(#"1001"}"#.utf8)), "file contains a NUL byte at offset 11"),
        .init("empty", .bytes([]), "file is empty"),
        .init("whitespace-only", .text(" \n\t\r\n  "), "file holds only whitespace, no JSON object"),
        .init("byte-order-mark", .bytes([0xEF, 0xBB, 0xBF] + Array(object(valid).utf8)),
              "file starts with a UTF-8 byte order mark; write the JSON object without one"),
        .init("oversize", .text(object(valid) + String(repeating: " ", count: 65537 - object(valid).utf8.count)),
              "file is 65537 bytes, more than the 65536 allowed"),
        .init("binary-png", .bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D]),
              "file contains a NUL byte at offset 8"),
        .init("binary-garbage", .bytes([0xFF, 0xFE, 0x7B, 0x22, 0x9A, 0x41]), "file is not valid UTF-8 (bad byte at offset 0)"),
        // Not regular files
        .init("symlink-to-valid", .symbolicLinkToValidFile, "not a regular file but a symbolic link (links are not followed)"),
        .init("fifo", .fifo, "not a regular file but a FIFO"),
        .init("directory", .directory, "not a regular file but a directory"),
        .init("socket", .socket, "not a regular file but a socket"),
        // What only the daemon knows
        .init("revocation-unknown-user", .text(object([("type", q("revocation")), ("user", q("nobody-42")), ("reason", q("gone"))])),
              "revocation for a user wbkeyd does not know"),
    ]
}
