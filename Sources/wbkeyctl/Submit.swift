import ArgumentParser
import Foundation
import Sensitive
import Spool

/// `wbkeyctl submit`: delivers one spool file the Maildir way (tmp/, fsync, rename
/// into new/), for partners that would rather shell out than write the protocol.
struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes an authorization (or, with --revoke, a revocation) into wbkeyd's spool.",
        usage: """
            wbkeyctl submit [--spool <dir>] --user <user> --code-file <path>|- \
            (--verifier-file <path>|- | --state-file <path>|-) [--received-at <rfc3339>] [--api-key <key>]
            wbkeyctl submit [--spool <dir>] --user <user> --insecure-argv --code <code> \
            (--verifier <verifier> | --state <state>) [<options>]
            wbkeyctl submit [--spool <dir>] --revoke --user <user> [--reason <reason>]
            """,
        discussion: """
            The file is written under tmp/, synced, and renamed into new/: wbkeyd never sees a \
            partial file, and a submit that returned survives a crash. The fields are checked \
            by the rules wbkeyd applies (docs/design.md §4) before anything is written; a bad one \
            is named and nothing is written (exit 64). The spool's tmp/ and new/ must exist and \
            be writable by the caller. Prints the file's path in new/; never prints the code, \
            verifier or state.

            SECURITY: the code, verifier and state are read from files or standard input. A \
            value on the command line is visible to every local user while wbkeyctl runs \
            (ps, /proc/PID/cmdline), so --code, --verifier and --state are refused unless \
            --insecure-argv is given too. `-` reads standard input; when both the code and the \
            verifier (or state) come from it, it holds two lines: the code, then the other. \
            One trailing newline of each value is dropped.

            Examples:
              wbkeyctl submit --user u-1001 --code-file - --state-file - <code-and-state.txt
              wbkeyctl submit --user u-1001 --code-file - --verifier-file v.txt <c.txt
              wbkeyctl submit --user u-1001 --code-file c.txt --state-file s.txt
              wbkeyctl submit --revoke --user u-1001 --reason "user disconnected"
            """)

    // Codes, verifiers and states are base64url and may begin with `-`: each option takes
    // the next argument as its value, whatever it looks like (`--state -Xy…` works).
    @Option(name: .long, help: ArgumentHelp("The spool directory, holding tmp/ and new/.", valueName: "dir"))
    var spool = "/var/spool/wbkeyd"

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("The partner's user reference: 1–128 of A-Z a-z 0-9 . _ : @ -", valueName: "user"))
    var user: String

    @Flag(name: .long, help: "Submit a revocation: wbkeyd deletes the user's key.")
    var revoke = false

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --revoke: why, for the audit log.", valueName: "reason"))
    var reason: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("The authorization code from the callback; only with --insecure-argv.", valueName: "code"))
    var code: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Read the code from this file; `-` reads standard input.", valueName: "path"))
    var codeFile: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("The PKCE code verifier, 43–128 of A-Z a-z 0-9 - . _ ~; only with --insecure-argv.", valueName: "verifier"))
    var verifier: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Read the verifier from this file; `-` reads standard input.", valueName: "path"))
    var verifierFile: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Read, instead of a verifier, the state of a URL from `wbkeyctl authorize-url` (wbkeyd holds its verifier) from this file; `-` reads standard input.", valueName: "path"))
    var stateFile: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("The state, on the command line; only with --insecure-argv.", valueName: "state"))
    var state: String?

    @Flag(name: .long, help: "Accept --code, --verifier and --state, whose values every local user can read in ps while wbkeyctl runs.")
    var insecureArgv = false

    @Option(name: .long, help: ArgumentHelp("When the callback arrived, RFC 3339 (default: now, from the file's mtime).", valueName: "rfc3339"))
    var receivedAt: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("The public API key, if WhiteBIT handed it to the callback.", valueName: "key"))
    var apiKey: String?

    @OptionGroup var format: OutputFormat

    func validate() throws {
        if revoke {
            let misplaced = [("--code", code), ("--code-file", codeFile), ("--verifier", verifier), ("--verifier-file", verifierFile),
                ("--state", state), ("--state-file", stateFile), ("--received-at", receivedAt), ("--api-key", apiKey)]
                .filter { $0.1 != nil }.map(\.0)
            guard misplaced.isEmpty else {
                throw ValidationError("--revoke takes only --user and --reason; \(misplaced.joined(separator: ", ")) belong to an authorization")
            }
            return
        }
        guard reason == nil else { throw ValidationError("--reason belongs to a revocation (--revoke)") }
        guard (code == nil) != (codeFile == nil) else { throw ValidationError("give the code exactly once: --code-file or --code") }
        guard [verifier, verifierFile, state, stateFile].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --verifier-file, --state-file, --verifier or --state")
        }
        let onCommandLine = [("--code", code, "--code-file"), ("--verifier", verifier, "--verifier-file"), ("--state", state, "--state-file")]
            .filter { $0.1 != nil }
        if let (option, _, instead) = onCommandLine.first, !insecureArgv {
            throw ValidationError(
                "\(option) puts its value on the command line, where every local user can read it (ps, /proc/PID/cmdline): "
                    + "use \(instead) (`-` for standard input), or add --insecure-argv to accept that")
        }
    }

    func run() throws {
        let json = try revoke ? revocation() : authorization()
        let name: SpoolEntryName
        do {
            name = try SpoolWriter.submit(root: spool, json: json)
        } catch {
            throw WBKeyCtlError.failed("cannot deliver into the spool at \(spool): \(error)")
        }
        let path = "\(spool)/new/\(name)"
        let kind = revoke ? "revocation" : "authorization"
        if format.json {
            let document = try JSONSerialization.data(
                withJSONObject: ["file": path, "type": kind, "user": user], options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: document, as: UTF8.self))
        } else {
            print("\(kind) for \(user) delivered: \(path)")
        }
    }

    private func revocation() throws(WBKeyCtlError) -> [UInt8] {
        do {
            return try SpoolSubmission.revocation(user: user, reason: reason)
        } catch {
            throw .usage(explain(error))
        }
    }

    private func authorization() throws(WBKeyCtlError) -> [UInt8] {
        var code = Sensitive(self.code ?? "")
        var verifier = self.verifier.map(Sensitive.init)
        var state = self.state.map(Sensitive.init)
        let second: (option: String, path: String)? = verifierFile.map { ("--verifier-file", $0) } ?? stateFile.map { ("--state-file", $0) }
        if codeFile == "-", let second, second.path == "-" {
            let (first, other) = try SecretInput.readTwoLines(options: "--code-file and \(second.option)")
            code = first
            if second.option == "--verifier-file" { verifier = other } else { state = other }
        } else {
            if let codeFile { code = try SecretInput.read(codeFile, option: "--code-file") }
            if let verifierFile { verifier = try SecretInput.read(verifierFile, option: "--verifier-file") }
            if let stateFile { state = try SecretInput.read(stateFile, option: "--state-file") }
        }
        var received: Date?
        if let receivedAt {
            guard let date = RFC3339.parse(receivedAt) else {
                throw .usage("--received-at: not an RFC 3339 date-time such as 2026-11-26T10:00:00Z")
            }
            received = date
        }
        do {
            return try SpoolSubmission.authorization(
                user: user, code: code, codeVerifier: verifier, state: state, receivedAt: received, apiKey: apiKey)
        } catch {
            throw .usage(explain(error))
        }
    }

    /// The spool's reason, led by the option that carried the field.
    func explain(_ rejection: SpoolRejection) -> String {
        guard let field = rejection.field else { return rejection.reason }
        return "\(option(for: field)): \(rejection.reason)"
    }

    func option(for field: SpoolField) -> String {
        switch field {
        case .type: "--revoke"
        case .user: "--user"
        case .code: codeFile == nil ? "--code" : "--code-file"
        case .codeVerifier: verifierFile == nil ? "--verifier" : "--verifier-file"
        case .state: stateFile == nil ? "--state" : "--state-file"
        case .receivedAt: "--received-at"
        case .apiKey: "--api-key"
        case .reason: "--reason"
        }
    }
}

extension SpoolRejection {
    /// The field the problem is about, where there is one.
    var field: SpoolField? {
        switch problem {
        case .duplicateField(let field), .missing(let field), .wrongType(let field, _), .empty(let field),
            .tooLong(let field, _, _), .tooShort(let field, _, _), .badCharacter(let field, _, _):
            field
        case .notRFC3339: .receivedAt
        default: nil
        }
    }
}
