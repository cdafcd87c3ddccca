import Foundation
import WhiteBITSimHarness

/// What went wrong while finding, setting up or driving a test PostgreSQL server. Carries
/// what a failing test needs (which program, which path, the last lines of the server's
/// log), never the `wbkeyd` role's password.
public enum PostgresHarnessError: Error, Sendable, CustomStringConvertible {
    case installationNotFound(missing: String, searched: String)
    case accountNotFound(name: String)
    case setupFailed(what: String, path: String, errno: Int32)
    case spawnFailed(path: String, errno: Int32)
    case commandFailed(command: String, termination: ProcessTermination, standardError: String)
    case exitedBeforeReady(termination: ProcessTermination, log: String, lastLines: [String])
    case notReady(within: Duration, log: String, lastLines: [String])
    case notRunning(what: String)
    case invalidName(String)

    public var description: String {
        switch self {
        case .installationNotFound(let missing, let searched):
            return "PostgreSQL server programs not found: no \(missing) in \(searched) (Debian package postgresql; scripts/install-deps installs it)"
        case .accountNotFound(let name):
            return "no account or group \(name) to run PostgreSQL as (initdb and postgres refuse root)"
        case .setupFailed(let what, let path, let code):
            return "\(what) failed for \(path): \(String(cString: strerror(code)))"
        case .spawnFailed(let path, let code):
            return "cannot start \(path): \(String(cString: strerror(code)))"
        case .commandFailed(let command, let termination, let standardError):
            return "\(command) ended with \(termination): \(standardError.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .exitedBeforeReady(let termination, let log, let lines):
            return "postgres ended (\(termination)) before it was ready; last lines of \(log):\n" + Self.tail(lines)
        case .notReady(let within, let log, let lines):
            return "postgres was not ready within \(within); last lines of \(log):\n" + Self.tail(lines)
        case .notRunning(let what):
            return "\(what): the PostgreSQL server is not running"
        case .invalidName(let name):
            return "database name \"\(name)\" must be 1 to 63 letters, digits or _"
        }
    }

    static func tail(_ lines: [String]) -> String {
        lines.suffix(25).map { "  | " + $0 }.joined(separator: "\n")
    }
}
