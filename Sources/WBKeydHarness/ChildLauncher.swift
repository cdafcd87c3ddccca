import Foundation
import WhiteBITSimHarness

/// Starts child processes with stdout and stderr on pipes and stdin on /dev/null, through
/// `die-with-parent` so that they cannot outlive this process, and reaps them.
///
/// PR_SET_PDEATHSIG fires when the *thread* that spawned the child ends, not the process,
/// and the threads of Swift's pool and of Dispatch come and go. So every spawn happens on
/// one thread that lives as long as the process: `SpawnerThread`.
enum ChildLauncher {
    /// Variables a supervisor sets for its own child; a test process run under systemd
    /// must not hand them on, or the daemon would talk to the wrong manager.
    static let supervisorVariables: Set<String> = [
        "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID",
        "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY", "INVOCATION_ID",
    ]

    /// The environment of this process without supervisor variables, plus `overrides`.
    static func environment(with overrides: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !supervisorVariables.contains($0.key) }
        environment.merge(overrides) { $1 }
        return environment
    }

    /// Stdin is /dev/null, so `Child.stdinWriteEnd` is nil.
    static func launch(path: String, arguments: [String], environment: [String: String]) async throws(HarnessError) -> ChildSpawn.Child {
        let guardPath = try guardExecutablePath()
        let argv = [guardPath, String(getpid()), path] + arguments
        let result = await SpawnerThread.shared.run { () -> Result<ChildSpawn.Child, ChildSpawn.Failure> in
            Result { () throws(ChildSpawn.Failure) in
                try ChildSpawn.spawn(executable: guardPath, argv: argv, environment: environment, standardInput: .devNull)
            }
        }
        return try result.mapError { HarnessError.spawnFailed(path: path, errno: $0.errno) }.get()
    }

    /// `$WBKEYD_HARNESS_GUARD_PATH`, else `die-with-parent` beside the running executable.
    static func guardExecutablePath() throws(HarnessError) -> String {
        try siblingExecutable(named: "die-with-parent", override: "WBKEYD_HARNESS_GUARD_PATH")
    }

    /// `$override` when set, else `name` in the directory of the running executable
    /// (`.build/debug/` for `swift test`).
    static func siblingExecutable(named name: String, override: String) throws(HarnessError) -> String {
        let hint = "run `swift build`, or set \(override)"
        if let path = ProcessInfo.processInfo.environment[override], !path.isEmpty {
            guard access(path, X_OK) == 0 else { throw .executableNotFound(name: name, path: path, hint: hint) }
            return path
        }
        guard let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            throw .executableNotFound(name: name, path: "/proc/self/exe", hint: hint)
        }
        let path = URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent(name).path
        guard access(path, X_OK) == 0 else { throw .executableNotFound(name: name, path: path, hint: hint) }
        return path
    }
}
