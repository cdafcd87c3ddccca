import Foundation
import WBKeydHarness

/// One hostile (or merely odd) client of the control socket, and what the daemon owes it.
struct FuzzCase: Sendable, CustomStringConvertible {
    enum Owed: Sendable {
        /// One `error: …` line.
        case errorLine
        /// An answer beginning so.
        case answer(prefix: String)
        /// Some answer ending in a newline, error or not (random words may form a command).
        case someAnswer
        /// Nothing in particular: the client reset the connection itself.
        case nothing
    }

    let kind: String
    let payload: [UInt8]
    /// After the payload: close our side (end of input counts as the line's end).
    let halfClose: Bool
    /// After the payload: reset the connection instead of waiting for an answer.
    let reset: Bool
    let owed: Owed

    var description: String { "\(kind) (\(payload.count) bytes: \(String(decoding: payload.prefix(40), as: UTF8.self).debugDescription))" }

    static let commands = ["help", "status", "grants", "show", "audit", "metrics", "authorize-url", "reconcile", "revoke", "secret", "json", "dry-run"]
    static let words = [
        "u-1", "u-nobody", "active", "revoked", "dry-run", "json", "0", "-1", "1001", "99999999999999999999999",
        "../../etc/passwd", "%s%n%x", "$(id)", "`id`", "'", "\"", "\\", "{", "}", "[]", "null", "u@x:y.z_-",
        String(repeating: "u", count: 129), String(repeating: "9", count: 40),
    ]

    /// A case drawn from `generator`. Never names `u-fuzz`, whose lifecycle the test watches.
    static func random(using generator: inout SeededGenerator) -> FuzzCase {
        switch Int.random(in: 0..<100, using: &generator) {
        case 0..<25:
            let count = Int.random(in: 1...6, using: &generator)
            var parts = [commands.randomElement(using: &generator)!]
            for _ in 1..<count {
                parts.append(Bool.random(using: &generator) ? words.randomElement(using: &generator)! : printable(Int.random(in: 1...20, using: &generator), &generator))
            }
            let line = parts.joined(separator: Bool.random(using: &generator) ? " " : "  ")
            return FuzzCase(kind: "words", payload: Array((line + "\n").utf8), halfClose: false, reset: false, owed: .someAnswer)
        case 25..<40:
            var bytes = (0..<Int.random(in: 1...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // At least one byte outside printable ASCII before the first newline, so the line is invalid.
            bytes.insert(UInt8.random(in: 0x80...0xFF, using: &generator), at: 0)
            return FuzzCase(kind: "binary", payload: bytes + [10], halfClose: Bool.random(using: &generator), reset: false, owed: .errorLine)
        case 40..<45:
            let size = Int.random(in: 4097...262_144, using: &generator)
            let newline = Bool.random(using: &generator)
            return FuzzCase(
                kind: "huge", payload: [UInt8](repeating: UInt8(ascii: "a"), count: size) + (newline ? [10] : []), halfClose: !newline,
                reset: false, owed: .answer(prefix: "error: line longer than 4096 bytes\n"))
        case 45..<55:
            let (line, prefix) = valid.randomElement(using: &generator)!
            return FuzzCase(kind: "unterminated", payload: Array(line.utf8), halfClose: true, reset: false, owed: .answer(prefix: prefix))
        case 55..<70:
            let (line, prefix) = valid.randomElement(using: &generator)!
            let ending = ["\n", "\r\n"].randomElement(using: &generator)!
            return FuzzCase(kind: "valid", payload: Array((line + ending).utf8), halfClose: false, reset: false, owed: .answer(prefix: prefix))
        case 70..<80:
            let hostile = ["status\u{0}", "show \u{1B}[31mu-1", "status\u{7F}", "audit\u{8}\u{8}", "\u{0}", "grants \u{FFFF}", "help\u{2028}", "é", "status\u{0B}json"]
            let line = hostile.randomElement(using: &generator)!
            return FuzzCase(kind: "control", payload: Array((line + "\n").utf8), halfClose: false, reset: false, owed: .answer(prefix: "error: the line must be printable ASCII\n"))
        case 80..<90:
            let partial = Array("statu".utf8).prefix(Int.random(in: 0...5, using: &generator))
            return FuzzCase(kind: "reset", payload: Array(partial), halfClose: false, reset: true, owed: .nothing)
        default:
            let line = String(repeating: "x", count: Int.random(in: 0...4096, using: &generator))
            return FuzzCase(kind: "blank-or-long", payload: Array((line + "\n").utf8), halfClose: false, reset: false, owed: .errorLine)
        }
    }

    /// Lines with answers known in advance, for any state of the daemon.
    static let valid: [(String, String)] = [
        ("status", "version:"), ("status json", #"{"audit":"#), ("grants json", #"{"grants":"#), ("audit 3", "SEQ"),
        ("help json", #"{"message":"commands"#), ("metrics", "# HELP wbkeyd_up"), ("show u-nobody", "error: no grant for u-nobody\n"),
        ("status\tjson", #"{"audit":"#), ("  help  ", "commands"),
    ]

    static let eviction = "error: too many connections; closing the longest-idle one\n"

    static func printable(_ count: Int, _ generator: inout SeededGenerator) -> String {
        String((0..<count).map { _ in Character(Unicode.Scalar(UInt8.random(in: 0x21...0x7E, using: &generator))) })
    }

    /// Runs the case on a fresh connection (blocking: call off the pool) and answers a
    /// complaint, or nil when the daemon did what it owes.
    func run(socket: String) -> String? {
        let connection: RawConnection
        do { connection = try RawConnection(path: socket) } catch { return "\(self): \(error)" }
        connection.send(payload)
        if reset {
            connection.abort()
            return nil
        }
        if halfClose { connection.shutdownWrite() }
        guard let answer = connection.readAll(timeoutSeconds: 30) else { return "\(self): no answer within 30 s" }
        let text = String(decoding: answer, as: UTF8.self)
        // Making room for a newcomer is a legitimate answer to any client still waiting.
        if text == Self.eviction { return nil }
        switch owed {
        case .nothing:
            return nil
        case .someAnswer:
            guard text.hasSuffix("\n") else { return "\(self): answer \(text.prefix(80).debugDescription) does not end a line" }
            if text.hasPrefix("error: ") && text.dropLast().contains("\n") { return "\(self): a multi-line error" }
            return nil
        case .errorLine:
            guard text.hasPrefix("error: "), text.hasSuffix("\n"), !text.dropLast().contains("\n") else {
                return "\(self): wanted one error line, got \(text.prefix(80).debugDescription)"
            }
            return nil
        case .answer(let prefix):
            return text.hasPrefix(prefix) ? nil : "\(self): wanted \(prefix.debugDescription)…, got \(text.prefix(80).debugDescription)"
        }
    }
}

/// One `status` over a fresh connection, blocking; nil when no answer came.
func blockingStatus(_ socket: String) -> String? {
    guard let connection = try? RawConnection(path: socket) else { return nil }
    connection.send(Array("status\n".utf8))
    return connection.readAll(timeoutSeconds: 30).map { String(decoding: $0, as: UTF8.self) }
}

/// SplitMix64: a small seeded generator, so a failing fuzz run can be repeated
/// (`WBKEYD_FUZZ_SEED`).
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
