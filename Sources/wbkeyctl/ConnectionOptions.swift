import ArgumentParser
import ControlProtocol
import Foundation

/// Where the control socket is and how long to wait for it. Accepted before the
/// command (`wbkeyctl --socket P status`) or after it (`wbkeyctl status --socket P`).
struct ConnectionOptions: ParsableArguments {
    static let defaultSocket = "/run/wbkeyd/control.sock"
    static let socketVariable = "WBKEYD_SOCKET"

    @Option(
        name: .long, help: ArgumentHelp(
            "The control socket of wbkeyd. (default: $\(Self.socketVariable), else \(Self.defaultSocket))",
            valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the answer (1–86400).", valueName: "seconds"))
    var timeout: Int = 120

    func validate() throws {
        guard (1...86_400).contains(timeout) else { throw ValidationError("--timeout must be between 1 and 86400 seconds") }
    }

    var socketPath: String {
        if let socket { return socket }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.socketVariable], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultSocket
    }
}

/// `--json`: one JSON document instead of aligned text, for scripts.
struct OutputFormat: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document instead of aligned text (sends the trailing word `json`).")
    var json = false
}

/// A subcommand that is one control-socket line.
protocol ControlLine: ParsableCommand {
    var connection: ConnectionOptions { get }
    var format: OutputFormat { get }
    /// The line's words, without the trailing `json`.
    var words: [String] { get }
    /// Option words to send after the arguments (besides `json`).
    var options: [String] { get }
}

extension ControlLine {
    var options: [String] { [] }

    func run() throws {
        try ControlExchange(connection: connection, json: format.json).perform(words, options: options)
    }
}

/// `--no-wait` of the actions: wbkeyctl waits for the end unless told not to.
struct WaitOption: ParsableArguments {
    @Flag(name: .long, help: "Answer within 0.3 s with what was started, as the plain socket line does; `show` tells the end.")
    var noWait = false

    var words: [String] { noWait ? [] : ["wait"] }
}

/// Sends one line and prints the answer: successes on stdout; `error:` answers on
/// stderr in text mode (so a pipe sees only data), on stdout in JSON mode (where the
/// document is the data). An `error:` answer exits 1.
struct ControlExchange {
    let connection: ConnectionOptions
    let json: Bool

    func perform(_ words: [String], options: [String] = []) throws(WBKeyCtlError) {
        let (line, json) = try Self.line(words, options: options, json: json)
        let answer = try ControlConnection(socketPath: connection.socketPath, timeoutSeconds: connection.timeout).exchange(line)
        let isError = Self.isErrorAnswer(answer, json: json)
        let output = isError && !json ? FileHandle.standardError : FileHandle.standardOutput
        output.write(Data(answer))
        if isError { throw .answeredWithError }
    }

    /// Checks the line as wbkeyd will, so a mistake is a usage error that sends nothing.
    /// A last word `json` (a revoke reason's) asks for JSON there too. An argument that
    /// reads as an option word (a user named `json`, a reason ending in `wait`) gets the
    /// `--` that keeps it an argument.
    static func line(_ words: [String], options: [String] = [], json: Bool) throws(WBKeyCtlError) -> (line: String, json: Bool) {
        let optionWords = ControlParser.optionWords(of: words.first ?? "")
        let literal = words.dropFirst().flatMap { $0.split(separator: " ").map(String.init) }
            .contains { optionWords.contains($0) || $0 == ControlParser.separator }
        let line = (words + (literal ? [ControlParser.separator] : []) + options + (json ? ["json"] : [])).joined(separator: " ")
        do {
            return (line, try ControlParser.parse(line).json)
        } catch {
            throw .usage(error.message)
        }
    }

    static func isErrorAnswer(_ answer: [UInt8], json: Bool) -> Bool {
        if answer.starts(with: Array("error:".utf8)) { return true }
        guard json, let object = try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any] else { return false }
        return object["error"] != nil
    }
}
