import Foundation
import WhiteBITSimHarness

/// Children of the PostgreSQL harness, started like wbkeyd's (docs/wbkeyd-harness.md):
/// through `die-with-parent`, from the one spawner thread, so that a test runner killed
/// with SIGKILL takes its servers with it; the postmaster's own children then exit when
/// they see it gone.
enum GuardedLaunch {
    /// Variables that would point psql or a server elsewhere (`PGHOST`, `PGPORT`,
    /// `PGDATA`, …) or that a supervisor set for this process only.
    static func environment(with overrides: [String: String] = [:]) -> [String: String] {
        let supervisor: Set<String> = ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY"]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") && !supervisor.contains($0.key) }
        environment["LC_ALL"] = "C"
        environment.merge(overrides) { $1 }
        return environment
    }

    static func launch(path: String, arguments: [String], environment: [String: String]) async throws(PostgresHarnessError) -> ChildSpawn.Child {
        let guardPath = try guardExecutablePath()
        let argv = [guardPath, String(getpid()), path] + arguments
        let result = await SpawnerThread.shared.run { () -> Result<ChildSpawn.Child, ChildSpawn.Failure> in
            Result { () throws(ChildSpawn.Failure) in
                try ChildSpawn.spawn(executable: guardPath, argv: argv, environment: environment, standardInput: .devNull)
            }
        }
        return try result.mapError { PostgresHarnessError.spawnFailed(path: path, errno: $0.errno) }.get()
    }

    /// Runs a short program (initdb, psql) to its end; throws with its stderr unless it
    /// exits 0. `shownAs` names it in errors, so that no argument is ever repeated there.
    static func run(_ path: String, _ arguments: [String], shownAs: String, environment: [String: String] = GuardedLaunch.environment()) async throws(PostgresHarnessError) -> String {
        let child = try await launch(path: path, arguments: arguments, environment: environment)
        let exit = OneShot<ProcessTermination>()
        ChildSpawn.reap(child.pid, into: exit)
        let standardOutput = PipeText(child.stdoutReadEnd)
        let standardError = PipeText(child.stderrReadEnd)
        let termination = await exit.value
        let output = await standardOutput.text
        let errors = await standardError.text
        guard termination.isCleanExit else { throw .commandFailed(command: shownAs, termination: termination, standardError: errors) }
        return output
    }

    /// `$WBKEYD_HARNESS_GUARD_PATH`, else `die-with-parent` beside the running executable
    /// (`.build/debug/` for `swift test`), as wbkeyd's harness finds it.
    static func guardExecutablePath() throws(PostgresHarnessError) -> String {
        if let path = ProcessInfo.processInfo.environment["WBKEYD_HARNESS_GUARD_PATH"], !path.isEmpty {
            guard access(path, X_OK) == 0 else { throw .installationNotFound(missing: "die-with-parent", searched: path) }
            return path
        }
        let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
        let directory = URL(fileURLWithPath: running).deletingLastPathComponent().path
        guard access(directory + "/die-with-parent", X_OK) == 0 else {
            throw .installationNotFound(missing: "die-with-parent (run `swift build`, or set WBKEYD_HARNESS_GUARD_PATH)", searched: directory)
        }
        return directory + "/die-with-parent"
    }
}

/// Everything a pipe carries until its last writer closes it, read on a thread of its own.
final class PipeText: Sendable {
    private let result = OneShot<String>()

    init(_ descriptor: Int32) {
        let thread = Thread { [result] in
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            close(descriptor)
            result.fulfil(String(decoding: bytes, as: UTF8.self))
        }
        thread.start()
    }

    var text: String { get async { await result.value } }
}
