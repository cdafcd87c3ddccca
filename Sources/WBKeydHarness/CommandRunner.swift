import Foundation
import WhiteBITSimHarness

/// What a command that ran to its end printed, and how it ended.
public struct CommandResult: Sendable {
    public let termination: ProcessTermination
    public let standardOutput: String
    public let standardError: String

    /// The exit status; nil when a signal ended the command.
    public var exitStatus: Int32? { termination.exitStatus }
}

/// Runs short commands (`wbkeyd check-config`, `wbkeyd audit-verify`, `sqlite3`) to their
/// end without blocking a thread of Swift's pool.
public enum CommandRunner {
    public static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
        let child = try await ChildLauncher.launch(path: path, arguments: arguments, environment: ChildLauncher.environment(with: environment))
        let exit = OneShot<ProcessTermination>()
        ChildSpawn.reap(child.pid, into: exit)
        let standardOutput = OutputLog(streams: [child.stdoutReadEnd])
        let standardError = OutputLog(streams: [child.stderrReadEnd])
        let termination = await exit.value
        await standardOutput.closed.value
        await standardError.closed.value
        return CommandResult(
            termination: termination, standardOutput: String(decoding: standardOutput.bytes, as: UTF8.self),
            standardError: String(decoding: standardError.bytes, as: UTF8.self))
    }

    /// `wbkeyd ARGUMENTS` (a subcommand: check-config, audit-verify).
    public static func wbkeyd(_ arguments: [String]) async throws -> CommandResult {
        try await run(try DaemonProcess.executablePath(), arguments)
    }

    /// The first executable called `name` on `$PATH`.
    public static func onPath(_ name: String) throws(HarnessError) -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let path = "\(directory)/\(name)"
            if access(path, X_OK) == 0 { return path }
        }
        throw .executableNotFound(name: name, path: "$PATH", hint: "install it (Debian package \(name))")
    }
}
