import Foundation
import WhiteBITSimHarness

/// What went wrong while setting up, starting or driving a daemon. Carries what a failing
/// test needs to see (paths, statuses, the last lines of output), never a secret: the
/// daemon itself never prints one, and the harness adds none.
public enum HarnessError: Error, Sendable, CustomStringConvertible {
    case executableNotFound(name: String, path: String, hint: String)
    case spawnFailed(path: String, errno: Int32)
    case setupFailed(what: String, path: String, errno: Int32)
    case exitedBeforeReady(termination: ProcessTermination, recentOutput: [String])
    case notReady(within: Duration, recentOutput: [String])
    case lineNotSeen(wanted: String, reason: String, recentOutput: [String])
    case notRunning(what: String)
    case stillRunning(pid: Int32)
    case controlFailed(socket: String, operation: String, errno: Int32)
    case commandFailed(command: String, termination: ProcessTermination, standardError: String)
    case unexpectedOutput(command: String, detail: String)

    public var description: String {
        switch self {
        case .executableNotFound(let name, let path, let hint):
            return "\(name) not found or not executable at \(path) (\(hint))"
        case .spawnFailed(let path, let code):
            return "cannot start \(path): \(String(cString: strerror(code)))"
        case .setupFailed(let what, let path, let code):
            return "\(what) failed for \(path): \(String(cString: strerror(code)))"
        case .exitedBeforeReady(let termination, let lines):
            return "wbkeyd ended (\(termination)) before READY=1; last output:\n" + Self.tail(lines)
        case .notReady(let within, let lines):
            return "wbkeyd sent no READY=1 within \(within); last output:\n" + Self.tail(lines)
        case .lineNotSeen(let wanted, let reason, let lines):
            return "no log line \(wanted): \(reason); last output:\n" + Self.tail(lines)
        case .notRunning(let what):
            return "\(what): wbkeyd is not running"
        case .stillRunning(let pid):
            return "wbkeyd (pid \(pid)) is still running; stop it first"
        case .controlFailed(let socket, let operation, let code):
            return "control socket \(socket): \(operation) failed: \(String(cString: strerror(code)))"
        case .commandFailed(let command, let termination, let standardError):
            return "\(command) ended with \(termination): \(standardError.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .unexpectedOutput(let command, let detail):
            return "\(command) answered unexpectedly: \(detail)"
        }
    }

    static func tail(_ lines: [String]) -> String {
        lines.suffix(25).map { "  | " + $0 }.joined(separator: "\n")
    }
}
