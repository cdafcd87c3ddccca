import GrantLifecycle

/// Parses what a client sent. Everything is checked here, before the daemon sees
/// it: the line is printable ASCII, users are valid user references, numbers are
/// in range. Error messages name what was wrong and never echo more than a word.
public enum ControlParser {
    public static let maxLineBytes = 4096
    public static let defaultAuditCount = 20
    public static let maxAuditCount = 1000
    /// `wait`'s TIMEOUT when none is given, and the longest one accepted.
    public static let defaultWaitTimeout: Duration = .seconds(30)
    public static let maxWaitTimeout: Duration = .seconds(3600)
    public static let maxBackupPathBytes = 1024

    public static func parse(_ line: String) throws(ControlError) -> ControlRequest {
        guard line.utf8.count <= maxLineBytes else { throw ControlError("line longer than \(maxLineBytes) bytes") }
        guard line.unicodeScalars.allSatisfy({ $0.isASCII && ($0.value >= 0x20 && $0.value < 0x7F || $0 == "\t") }) else {
            throw ControlError("the line must be printable ASCII")
        }
        let words = Self.words(line)
        guard let name = words.first else { throw ControlError("empty command; try `help`") }
        if name == "sign" {
            // The JSON body is taken from the line as written (its spaces, a `--` inside
            // a string): only a trailing `json` is an option word.
            var arguments = Array(words.dropFirst())
            let json = arguments.last == "json"
            if json { arguments.removeLast() }
            return ControlRequest(command: try sign(line: line, arguments: arguments, json: json), json: json)
        }
        let split = try split(name: name, rest: Array(words.dropFirst()))
        let command = try command(named: name, arguments: split.arguments, options: split.options)
        return ControlRequest(command: command, json: split.options.contains("json"), wait: split.options.contains("wait"))
    }

    /// Option words after the arguments: `json` for every command, and these for some.
    public static func optionWords(of command: String) -> Set<String> {
        switch command {
        case "reconcile": ["json", "dry-run", "wait"]
        case "revoke", "backup": ["json", "wait"]
        default: ["json"]
        }
    }

    /// The separator that makes arguments literal: a user named `json` or `dry-run`.
    public static let separator = "--"

    /// Splits a command's words into arguments and option words. With a `--` word, the
    /// last one splits: every word before it is an argument as written, every word after
    /// it must be an option of the command (`show json --`, `reconcile dry-run -- dry-run`,
    /// `revoke u-1 please wait -- json`). Without one, trailing option words are options
    /// (`audit 5 json`, `reconcile u-1 dry-run`), as they always were.
    static func split(name: String, rest: [String]) throws(ControlError) -> (arguments: [String], options: Set<String>) {
        let allowed = optionWords(of: name)
        if let index = rest.lastIndex(of: separator) {
            var options: Set<String> = []
            for word in rest[(index + 1)...] {
                guard allowed.contains(word) else {
                    throw ControlError(
                        "\(quoted(word)) after `--` is no option of \(quoted(name)); its options: \(allowed.sorted().joined(separator: ", "))")
                }
                options.insert(word)
            }
            return (Array(rest[..<index]), options)
        }
        var arguments = rest
        var options: Set<String> = []
        while let last = arguments.last, allowed.contains(last) {
            options.insert(last)
            arguments.removeLast()
        }
        return (arguments, options)
    }

    /// Whether the client wants its answer as JSON: the option word `json` after a
    /// command. Errors about a line that does not parse are answered in the form it asked for.
    public static func asksForJSON(_ line: String) -> Bool {
        let words = words(line)
        guard let name = words.first else { return false }
        if let index = words.lastIndex(of: separator) { return words[(index + 1)...].contains("json") }
        return words.count > 1 && words.dropFirst().reversed().prefix(while: optionWords(of: name).contains).contains("json")
    }

    static func words(_ line: String) -> [String] {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    static func command(named name: String, arguments: [String], options: Set<String> = []) throws(ControlError) -> ControlCommand {
        switch name {
        case "help": try expectNoArguments(name, arguments); return .help
        case "status": try expectNoArguments(name, arguments); return .status
        case "metrics": try expectNoArguments(name, arguments); return .metrics
        case "grants":
            guard arguments.count <= 1 else { throw usage("grants [STATE]") }
            guard let word = arguments.first else { return .grants(state: nil) }
            guard let state = GrantState(rawValue: word) else {
                throw ControlError("unknown state \(quoted(word)); states: \(GrantState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .grants(state: state)
        case "show":
            guard arguments.count == 1 else { throw usage("show USER") }
            return .show(user: try user(arguments[0]))
        case "audit":
            return try audit(arguments)
        case "authorize-url":
            guard arguments.count == 1 else { throw usage("authorize-url USER") }
            return .authorizeURL(user: try user(arguments[0]))
        case "reconcile":
            guard arguments.count <= 1 else { throw usage("reconcile [USER] [dry-run] [wait]") }
            return .reconcile(user: try arguments.first.map { word throws(ControlError) in try user(word) }, dryRun: options.contains("dry-run"))
        case "revoke":
            guard let first = arguments.first else { throw usage("revoke USER [REASON] [wait]") }
            let reason = arguments.dropFirst().joined(separator: " ")
            guard reason.count <= 200 else { throw ControlError("reason longer than 200 characters") }
            return .revoke(user: try user(first), reason: reason.isEmpty ? nil : reason)
        case "secret":
            guard arguments.count == 1 else { throw usage("secret USER") }
            return .secret(user: try user(arguments[0]))
        case "events":
            guard arguments.count <= 1 else { throw usage("events [USER]") }
            return .events(user: try arguments.first.map { word throws(ControlError) in try user(word) })
        case "wait":
            return try wait(arguments)
        case "balance": return try balance(arguments)
        case "history": return try history(arguments)
        case "backup":
            guard arguments.count == 1 else { throw usage("backup PATH [wait]") }
            let path = arguments[0]
            guard path.hasPrefix("/"), path.utf8.count <= maxBackupPathBytes else {
                throw ControlError("the backup path must be absolute (and at most \(maxBackupPathBytes) bytes)")
            }
            return .backup(path: path)
        default:
            throw ControlError("unknown command \(quoted(name)); try `help`")
        }
    }

    static func audit(_ arguments: [String]) throws(ControlError) -> ControlCommand {
        guard arguments.count <= 2 else { throw usage("audit [N] [USER]") }
        var count = defaultAuditCount
        var rest = arguments[...]
        if let first = rest.first, first.allSatisfy(\.isASCIIDigit) {
            guard let n = Int(first), (1...maxAuditCount).contains(n) else {
                throw ControlError("N must be between 1 and \(maxAuditCount)")
            }
            count = n
            rest = rest.dropFirst()
        }
        guard rest.count <= 1 else { throw usage("audit [N] [USER]") }
        return .audit(count: count, user: try rest.first.map { word throws(ControlError) in try user(word) })
    }

    static func wait(_ arguments: [String]) throws(ControlError) -> ControlCommand {
        guard (2...3).contains(arguments.count) else { throw usage("wait USER STATE[,STATE…] [TIMEOUT]") }
        let who = try user(arguments[0])
        var states: [GrantState] = []
        for word in arguments[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard let state = GrantState(rawValue: word) else {
                throw ControlError("unknown state \(quoted(word)); states: \(GrantState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !states.contains(state) { states.append(state) }
        }
        let timeout = try arguments.count == 3 ? waitTimeout(arguments[2]) : defaultWaitTimeout
        return .wait(user: who, states: states, timeout: timeout)
    }

    /// The duration syntax of wbkeyd.toml (docs/design.md §3): one integer and one unit of
    /// ms, s, m, h, here at most `maxWaitTimeout`.
    static func waitTimeout(_ word: String) throws(ControlError) -> Duration {
        let digits = word.prefix(while: \.isASCIIDigit)
        let unit = word.dropFirst(digits.count)
        let hint = "write a number and a unit (ms, s, m, h), e.g. 30s, at most \(maxWaitTimeout.components.seconds)s"
        guard !digits.isEmpty, digits.count <= 9, let n = Int64(digits) else {
            throw ControlError("bad timeout \(quoted(word)): \(hint)")
        }
        let timeout: Duration
        switch unit {
        case "ms": timeout = .milliseconds(n)
        case "s": timeout = .seconds(n)
        case "m": timeout = .seconds(n * 60)
        case "h": timeout = .seconds(n * 3600)
        default: throw ControlError("bad timeout \(quoted(word)): \(hint)")
        }
        guard timeout <= maxWaitTimeout else { throw ControlError("bad timeout \(quoted(word)): longer than \(maxWaitTimeout.components.seconds)s") }
        return timeout
    }

    /// docs/design.md §4: 1–128 of `A-Z a-z 0-9 . _ : @ -`.
    public static func isValidUser(_ word: String) -> Bool {
        (1...128).contains(word.utf8.count)
            && word.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
                    || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "-")
            }
    }

    static func user(_ word: String) throws(ControlError) -> String {
        guard isValidUser(word) else {
            throw ControlError("invalid user reference: 1–128 characters of A-Z a-z 0-9 . _ : @ -")
        }
        return word
    }

    static func expectNoArguments(_ name: String, _ arguments: [String]) throws(ControlError) {
        guard arguments.isEmpty else { throw usage(name) }
    }

    static func usage(_ text: String) -> ControlError {
        ControlError("usage: \(text) [json]")
    }

    /// At most 32 characters of a word the client sent, so an error cannot be used
    /// to reflect a long payload back.
    static func quoted(_ word: String) -> String {
        "`" + String(word.prefix(32)) + (word.count > 32 ? "…" : "") + "`"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
