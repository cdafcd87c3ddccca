import Foundation

/// Every code, verifier and state in these cases carries this marker, so one search
/// over all reason files proves that none of them leaked, not even in part.
let secretMarker = "Zq9Sx"
let validUser = "u-1001"
let validCode = "Zq9Sx-code-4f1c9a"
let validVerifier = "Zq9Sx" + String(repeating: "vErIfIeR-._~", count: 4)  // 53 characters
let validState = "Zq9Sx-state-77ab"

/// A JSON string literal (the test writes JSON by hand to control every byte).
func q(_ text: String) -> String { "\"" + text + "\"" }

/// An object from raw members, in order.
func object(_ members: [(String, String)]) -> String {
    "{" + members.map { "\(q($0.0)):\($0.1)" }.joined(separator: ",") + "}"
}

let validAuthorization: [(String, String)] = [
    ("user", q(validUser)), ("code", q(validCode)), ("code_verifier", q(validVerifier)),
]

func authorization(replacing field: String, with raw: String) -> String {
    var members = validAuthorization.map { $0.0 == field ? ($0.0, raw) : $0 }
    if !members.contains(where: { $0.0 == field }) { members.append((field, raw)) }
    return object(members)
}

func authorization(without field: String) -> String {
    object(validAuthorization.filter { $0.0 != field })
}

/// How a malformed entry gets into new/.
enum MalformedContent {
    case text(String)
    case bytes([UInt8])
    case textModified(String, secondsBeforeNow: Double)
    case symbolicLinkToValidFile
    case fifo
    case directory
    case socket
    case characterDevice
}

struct MalformedCase: CustomStringConvertible {
    let name: String
    let content: MalformedContent
    let reason: String
    var description: String { name }
}

let malformedCases: [MalformedCase] = jsonSyntaxCases + structureCases + userCases + codeCases
    + verifierAndStateCases + receivedAtCases + optionalFieldCases + byteLevelCases + fileTypeCases

private func invalidJSON(_ offset: Int, _ problem: String) -> String { "invalid JSON at offset \(offset): \(problem)" }

private let jsonSyntaxCases: [MalformedCase] = [
    .init(name: "syntax-truncated", content: .text(#"{"user":"u-1001","#),
          reason: invalidJSON(17, "unexpected end of file, expected a string as object key")),
    .init(name: "syntax-trailing-garbage", content: .text(#"{"user":"u-1001"} x"#),
          reason: invalidJSON(18, "unexpected data after the JSON value")),
    .init(name: "syntax-two-objects", content: .text("{}{}"),
          reason: invalidJSON(2, "unexpected data after the JSON value")),
    .init(name: "syntax-single-quotes", content: .text("{'user':'u-1001'}"),
          reason: invalidJSON(1, "expected a string as object key")),
    .init(name: "syntax-trailing-comma", content: .text(#"{"user":"u-1001",}"#),
          reason: invalidJSON(17, "expected a string as object key")),
    .init(name: "syntax-unquoted-key", content: .text(#"{user:"u-1001"}"#),
          reason: invalidJSON(1, "expected a string as object key")),
    .init(name: "syntax-raw-newline-in-string", content: .text("{\"user\":\"u-1\n001\"}"),
          reason: invalidJSON(12, "a control character in a string must be escaped")),
    .init(name: "syntax-unknown-escape", content: .text(#"{"user":"u\x"}"#),
          reason: invalidJSON(11, "unknown escape in a string")),
    .init(name: "syntax-lone-surrogate", content: .text(#"{"user":"\ud800"}"#),
          reason: invalidJSON(15, "a \\u escape is half of a surrogate pair")),
    .init(name: "syntax-leading-zero", content: .text(#"{"user":01}"#),
          reason: invalidJSON(9, "expected ',' or '}' in an object")),
    .init(name: "syntax-comment", content: .text(#"{"user":"u-1001" /* c */}"#),
          reason: invalidJSON(17, "expected ',' or '}' in an object")),
    .init(name: "syntax-nan", content: .text(#"{"user":NaN}"#), reason: invalidJSON(8, "expected a JSON value")),
    .init(name: "syntax-deep-nesting",
          content: .text(#"{"x":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}"),
          reason: invalidJSON(36, "nested deeper than 32 levels")),
    .init(name: "syntax-duplicate-nested-key", content: .text(#"{"x":{"a":1,"a":2},"user":"u-1001"}"#),
          reason: invalidJSON(12, "a key appears twice in one object")),
]

private let structureCases: [MalformedCase] = [
    .init(name: "top-array", content: .text("[" + object(validAuthorization) + "]"),
          reason: "top level must be a JSON object, got array"),
    .init(name: "top-string", content: .text(q(validUser)), reason: "top level must be a JSON object, got string"),
    .init(name: "top-number", content: .text("42"), reason: "top level must be a JSON object, got number"),
    .init(name: "top-null", content: .text("null"), reason: "top level must be a JSON object, got null"),
    .init(name: "top-boolean", content: .text("true"), reason: "top level must be a JSON object, got boolean"),
    .init(name: "duplicate-code",
          content: .text(object(validAuthorization + [("code", q(secretMarker + "-other"))])),
          reason: "field code appears more than once"),
    .init(name: "duplicate-user-by-escape",
          content: .text(#"{"user":"u-1001","us\u0065r":"u-1002"}"#), reason: "field user appears more than once"),
    .init(name: "type-unknown", content: .text(authorization(replacing: "type", with: q("grant"))),
          reason: #"type must be "authorization" or "revocation""#),
    .init(name: "type-capitalised", content: .text(authorization(replacing: "type", with: q("Authorization"))),
          reason: #"type must be "authorization" or "revocation""#),
    .init(name: "type-number", content: .text(authorization(replacing: "type", with: "1")),
          reason: "type must be a string, got number"),
    .init(name: "revocation-without-user", content: .text(object([("type", q("revocation"))])),
          reason: "user is missing"),
    .init(name: "revocation-reason-too-long",
          content: .text(object([("type", q("revocation")), ("user", q(validUser)),
                                 ("reason", q(String(repeating: "r", count: 513)))])),
          reason: "reason is 513 characters long, at most 512 allowed"),
    .init(name: "revocation-reason-number",
          content: .text(object([("type", q("revocation")), ("user", q(validUser)), ("reason", "7")])),
          reason: "reason must be a string, got number"),
    .init(name: "revocation-reason-control",
          content: .text(object([("type", q("revocation")), ("user", q(validUser)), ("reason", q(#"bye\u001b[2J"#))])),
          reason: "reason has a character outside printable ASCII at position 4 (U+001B)"),
]

private let userCases: [MalformedCase] = [
    .init(name: "user-missing", content: .text(authorization(without: "user")), reason: "user is missing"),
    .init(name: "user-key-capitalised",
          content: .text(object([("User", q(validUser)), ("code", q(validCode)), ("code_verifier", q(validVerifier))])),
          reason: "user is missing"),
    .init(name: "user-number", content: .text(authorization(replacing: "user", with: "1001")),
          reason: "user must be a string, got number"),
    .init(name: "user-null", content: .text(authorization(replacing: "user", with: "null")),
          reason: "user must be a string, got null"),
    .init(name: "user-empty", content: .text(authorization(replacing: "user", with: q(""))), reason: "user is empty"),
    .init(name: "user-too-long",
          content: .text(authorization(replacing: "user", with: q(String(repeating: "u", count: 129)))),
          reason: "user is 129 characters long, at most 128 allowed"),
    .init(name: "user-space", content: .text(authorization(replacing: "user", with: q("u 1001"))),
          reason: "user has a character outside A-Z a-z 0-9 . _ : @ - at position 2 (U+0020)"),
    .init(name: "user-cyrillic-a", content: .text(authorization(replacing: "user", with: q("\u{430}dmin"))),
          reason: "user has a character outside A-Z a-z 0-9 . _ : @ - at position 1 (U+0430)"),
    .init(name: "user-fullwidth-digit", content: .text(authorization(replacing: "user", with: q("u-\u{FF11}001"))),
          reason: "user has a character outside A-Z a-z 0-9 . _ : @ - at position 3 (U+FF11)"),
    .init(name: "user-unicode-hyphen", content: .text(authorization(replacing: "user", with: q("u\u{2010}1001"))),
          reason: "user has a character outside A-Z a-z 0-9 . _ : @ - at position 2 (U+2010)"),
    .init(name: "user-escaped-newline", content: .text(authorization(replacing: "user", with: q(#"u-1001\n"#))),
          reason: "user has a character outside A-Z a-z 0-9 . _ : @ - at position 7 (U+000A)"),
    .init(name: "user-path", content: .text(authorization(replacing: "user", with: q("../etc"))),
          reason: "user has a character outside A-Z a-z 0-9 . _ : @ - at position 3 (U+002F)"),
]

private let codeCases: [MalformedCase] = [
    .init(name: "code-missing", content: .text(authorization(without: "code")), reason: "code is missing"),
    .init(name: "code-number", content: .text(authorization(replacing: "code", with: "12345")),
          reason: "code must be a string, got number"),
    .init(name: "code-array", content: .text(authorization(replacing: "code", with: "[" + q(validCode) + "]")),
          reason: "code must be a string, got array"),
    .init(name: "code-empty", content: .text(authorization(replacing: "code", with: q(""))), reason: "code is empty"),
    .init(name: "code-too-long",
          content: .text(authorization(replacing: "code", with: q(secretMarker + String(repeating: "c", count: 2044)))),
          reason: "code is 2049 characters long, at most 2048 allowed"),
    .init(name: "code-bell", content: .text(authorization(replacing: "code", with: q(secretMarker + #"-code\u0007x"#))),
          reason: "code has a character outside printable ASCII at position 11"),
    .init(name: "code-non-ascii", content: .text(authorization(replacing: "code", with: q(secretMarker + "-c\u{F6}de"))),
          reason: "code has a character outside printable ASCII at position 8"),
    .init(name: "code-delete", content: .text(authorization(replacing: "code", with: q(secretMarker + "\u{7F}"))),
          reason: "code has a character outside printable ASCII at position 6"),
]

private let verifierAndStateCases: [MalformedCase] = [
    .init(name: "verifier-too-short",
          content: .text(authorization(replacing: "code_verifier", with: q(secretMarker + String(repeating: "v", count: 37)))),
          reason: "code_verifier is 42 characters long, at least 43 required"),
    .init(name: "verifier-too-long",
          content: .text(authorization(replacing: "code_verifier", with: q(secretMarker + String(repeating: "v", count: 124)))),
          reason: "code_verifier is 129 characters long, at most 128 allowed"),
    .init(name: "verifier-plus",
          content: .text(authorization(replacing: "code_verifier", with: q(secretMarker + "+" + String(repeating: "v", count: 40)))),
          reason: "code_verifier has a character outside A-Z a-z 0-9 - . _ ~ at position 6"),
    .init(name: "verifier-padding",
          content: .text(authorization(replacing: "code_verifier", with: q(secretMarker + String(repeating: "v", count: 40) + "="))),
          reason: "code_verifier has a character outside A-Z a-z 0-9 - . _ ~ at position 46"),
    .init(name: "verifier-object", content: .text(authorization(replacing: "code_verifier", with: "{}")),
          reason: "code_verifier must be a string, got object"),
    .init(name: "verifier-and-state-missing", content: .text(authorization(without: "code_verifier")),
          reason: "code_verifier is missing and there is no state to look it up by"),
    .init(name: "verifier-null-no-state", content: .text(authorization(replacing: "code_verifier", with: "null")),
          reason: "code_verifier is missing and there is no state to look it up by"),
    .init(name: "state-empty", content: .text(authorization(replacing: "state", with: q(""))), reason: "state is empty"),
    .init(name: "state-too-long",
          content: .text(authorization(replacing: "state", with: q(secretMarker + String(repeating: "s", count: 508)))),
          reason: "state is 513 characters long, at most 512 allowed"),
    .init(name: "state-tab", content: .text(authorization(replacing: "state", with: q(secretMarker + #"\tx"#))),
          reason: "state has a character outside printable ASCII at position 6"),
    .init(name: "state-boolean", content: .text(authorization(replacing: "state", with: "true")),
          reason: "state must be a string, got boolean"),
]

private let receivedAtCases: [MalformedCase] = [
    .init(name: "received-words", content: .text(authorization(replacing: "received_at", with: q("yesterday"))),
          reason: "received_at is not an RFC 3339 date-time such as 2026-11-26T10:00:00Z"),
    .init(name: "received-no-zone",
          content: .text(authorization(replacing: "received_at", with: q("2026-11-18T08:00:00"))),
          reason: "received_at is not an RFC 3339 date-time such as 2026-11-26T10:00:00Z"),
    .init(name: "received-february-30",
          content: .text(authorization(replacing: "received_at", with: q("2026-02-30T08:00:00Z"))),
          reason: "received_at is not an RFC 3339 date-time such as 2026-11-26T10:00:00Z"),
    .init(name: "received-unix-number", content: .text(authorization(replacing: "received_at", with: "1795000000")),
          reason: "received_at must be a string, got number"),
    .init(name: "received-ancient",
          content: .text(authorization(replacing: "received_at", with: q("1970-01-01T00:00:00Z"))),
          reason: "received_at is \(Int(testNow.timeIntervalSince1970))s old, more than max_code_age 600s: the code has expired"),
    .init(name: "received-just-expired",
          content: .text(authorization(replacing: "received_at", with: q(rfc3339(testNow.addingTimeInterval(-660))))),
          reason: "received_at is 660s old, more than max_code_age 600s: the code has expired"),
    .init(name: "received-future",
          content: .text(authorization(replacing: "received_at", with: q(rfc3339(testNow.addingTimeInterval(600))))),
          reason: "received_at is 600s in the future, more than the 300s allowed for clock skew"),
    .init(name: "received-missing-old-mtime",
          content: .textModified(object(validAuthorization), secondsBeforeNow: 3600),
          reason: "received_at is missing and the file's mtime is 3600s old, more than max_code_age 600s: the code has expired"),
]

private let optionalFieldCases: [MalformedCase] = [
    .init(name: "api-key-empty", content: .text(authorization(replacing: "api_key", with: q(""))),
          reason: "api_key is empty"),
    .init(name: "api-key-too-long",
          content: .text(authorization(replacing: "api_key", with: q(String(repeating: "k", count: 257)))),
          reason: "api_key is 257 characters long, at most 256 allowed"),
    .init(name: "api-key-number", content: .text(authorization(replacing: "api_key", with: "12")),
          reason: "api_key must be a string, got number"),
    .init(name: "api-key-newline", content: .text(authorization(replacing: "api_key", with: q(#"ab\ncd"#))),
          reason: "api_key has a character outside printable ASCII at position 3 (U+000A)"),
]

private let byteLevelCases: [MalformedCase] = [
    .init(name: "utf8-invalid", content: .bytes(Array(#"{"user":"u-"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)),
          reason: "file is not valid UTF-8 (bad byte at offset 11)"),
    .init(name: "utf8-overlong-slash", content: .bytes(Array(#"{"user":"a"#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)),
          reason: "file is not valid UTF-8 (bad byte at offset 10)"),
    .init(name: "utf8-encoded-surrogate", content: .bytes(Array(#"{"user":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8)),
          reason: "file is not valid UTF-8 (bad byte at offset 9)"),
    .init(name: "nul-byte", content: .bytes(Array(#"{"user":"u-"#.utf8) + [0x00] + Array(#"1001"}"#.utf8)),
          reason: "file contains a NUL byte at offset 11"),
    .init(name: "empty", content: .bytes([]), reason: "file is empty"),
    .init(name: "whitespace-only", content: .text(" \n\t\r\n  "), reason: "file holds only whitespace, no JSON object"),
    .init(name: "byte-order-mark", content: .bytes([0xEF, 0xBB, 0xBF] + Array(object(validAuthorization).utf8)),
          reason: "file starts with a UTF-8 byte order mark; write the JSON object without one"),
    .init(name: "oversize",
          content: .text(object(validAuthorization) + String(repeating: " ", count: 65537 - object(validAuthorization).utf8.count)),
          reason: "file is 65537 bytes, more than the 65536 allowed"),
    .init(name: "binary-png", content: .bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D]),
          reason: "file contains a NUL byte at offset 8"),
    .init(name: "binary-garbage", content: .bytes([0xFF, 0xFE, 0x7B, 0x22, 0x9A, 0x41]),
          reason: "file is not valid UTF-8 (bad byte at offset 0)"),
]

private let fileTypeCases: [MalformedCase] = [
    .init(name: "symlink-to-valid", content: .symbolicLinkToValidFile,
          reason: "not a regular file but a symbolic link (links are not followed)"),
    .init(name: "fifo", content: .fifo, reason: "not a regular file but a FIFO"),
    .init(name: "directory", content: .directory, reason: "not a regular file but a directory"),
    .init(name: "socket", content: .socket, reason: "not a regular file but a socket"),
    .init(name: "character-device", content: .characterDevice, reason: "not a regular file but a device node"),
]

/// 2026-11-18T07:33:20Z; every test uses this clock.
let testNow = Date(timeIntervalSince1970: 1_795_000_000)

func rfc3339(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
}
