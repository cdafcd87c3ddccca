import Foundation
import Synchronization

/// A real `whitebit-sim` child process on a free loopback port.
///
/// The child gets a pipe as stdin and `--exit-on-stdin-eof`: if the process that started it
/// dies without calling `stop()` (a crashed test run), the pipe closes and the simulator
/// exits by itself, so no orphan outlives its parent.
public final class SimProcess: Sendable {
    /// How the child ended.
    public typealias Termination = ProcessTermination

    public let pid: pid_t
    public let port: Int
    /// `http://127.0.0.1:PORT`, as the simulator announced it.
    public let baseURL: String
    /// The `/sim/` API of this process.
    public let admin: SimAdminClient

    private let exit: OneShot<Termination>
    private let stdinWriteEnd: Mutex<Int32?>
    private let standardError: ChildOutput

    /// How long `start` waits for the listening line before giving up.
    public static let startTimeout: Duration = .seconds(30)
    /// How long `stop` waits after SIGTERM before SIGKILL.
    public static let stopTimeout: Duration = .seconds(10)
    static let listeningPrefix = "whitebit-sim listening on "

    private init(
        pid: pid_t, baseURL: String, port: Int, exit: OneShot<Termination>, stdinWriteEnd: Int32?,
        standardError: ChildOutput
    ) {
        self.pid = pid
        self.baseURL = baseURL
        self.port = port
        self.admin = SimAdminClient(baseURL: baseURL)
        self.exit = exit
        self.stdinWriteEnd = Mutex(stdinWriteEnd)
        self.standardError = standardError
    }

    deinit {
        // Last resort for a caller that forgot stop(): never leave the child running.
        if exit.peek == nil { kill(pid, SIGKILL) }
        stdinWriteEnd.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    /// The `whitebit-sim` to run: `$WHITEBIT_SIM_PATH`, else the one built next to the
    /// running executable (`.build/debug/` for `swift test`).
    public static func executablePath() throws(SimProcessError) -> String {
        if let override = ProcessInfo.processInfo.environment["WHITEBIT_SIM_PATH"], !override.isEmpty {
            guard access(override, X_OK) == 0 else { throw .executableNotFound(path: override) }
            return override
        }
        guard let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            throw .executableNotFound(path: "/proc/self/exe")
        }
        let path = URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("whitebit-sim").path
        guard access(path, X_OK) == 0 else { throw .executableNotFound(path: path) }
        return path
    }

    /// Launches `whitebit-sim` with `arguments` (plus `--port 0` unless a port is given) and
    /// returns once it has announced the port it listens on.
    public static func start(arguments: [String] = []) async throws(SimProcessError) -> SimProcess {
        let path = try executablePath()
        var fullArguments = arguments
        if !arguments.contains("--port") { fullArguments += ["--port", "0"] }
        fullArguments.append("--exit-on-stdin-eof")

        let listening = OneShot<String?>()
        let child: ChildSpawn.Child
        do {
            child = try ChildSpawn.spawn(
                executable: path, argv: [path] + fullArguments, environment: ProcessInfo.processInfo.environment,
                standardInput: .pipe)
        } catch {
            throw .spawnFailed(path: path, errno: error.errno)
        }
        let standardOutput = ChildOutput(fileDescriptor: child.stdoutReadEnd) { line in
            if line.hasPrefix(listeningPrefix) { listening.fulfil(String(line.dropFirst(listeningPrefix.count))) }
        }
        let standardError = ChildOutput(fileDescriptor: child.stderrReadEnd, onLine: { _ in })
        let exit = OneShot<Termination>()
        ChildSpawn.reap(child.pid, into: exit)
        Task {
            // Stdout closing without the line (the child failed to start) ends the wait too.
            await standardOutput.closed.value
            listening.fulfil(nil)
        }
        let timeout = Task {
            try await Task.sleep(for: startTimeout)
            listening.fulfil(nil)
        }
        let announced = await listening.value
        timeout.cancel()

        guard let url = announced, let port = url.split(separator: ":").last.flatMap({ Int($0) }) else {
            kill(child.pid, SIGKILL)
            let termination = await exit.value
            if let stdinWriteEnd = child.stdinWriteEnd { close(stdinWriteEnd) }
            let reason = termination.bySignal && termination.code == SIGKILL
                ? "no listening line within \(startTimeout)" : "it ended (\(termination)) without listening"
            throw .didNotStart(path: path, reason: reason, standardError: standardError.recentLines)
        }
        return SimProcess(
            pid: child.pid, baseURL: url, port: port, exit: exit, stdinWriteEnd: child.stdinWriteEnd,
            standardError: standardError)
    }

    /// Starts a simulator, runs `body` with it, and stops it whatever `body` does.
    public static func withRunning<Result>(
        arguments: [String] = [], isolation: isolated (any Actor)? = #isolation,
        _ body: (SimProcess) async throws -> Result
    ) async throws -> Result {
        let sim = try await start(arguments: arguments)
        do {
            let result = try await body(sim)
            await sim.stop()
            return result
        } catch {
            await sim.stop()
            throw error
        }
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `stopTimeout`). Safe to call twice.
    @discardableResult
    public func stop() async -> Termination {
        if let done = exit.peek { return done }
        kill(pid, SIGTERM)
        let pid = self.pid
        let escalation = Task {
            try await Task.sleep(for: Self.stopTimeout)
            kill(pid, SIGKILL)
        }
        let termination = await exit.value
        escalation.cancel()
        stdinWriteEnd.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
        return termination
    }

    /// Waits until the process ends by itself.
    public var termination: Termination {
        get async { await exit.value }
    }

    /// The child's last lines on stderr (its log), for failure messages.
    public var recentLogLines: [String] { standardError.recentLines }

    /// `baseURL` + `path`.
    public func url(_ path: String) -> String { baseURL + path }
}

public enum SimProcessError: Error, Sendable, CustomStringConvertible {
    case executableNotFound(path: String)
    case spawnFailed(path: String, errno: Int32)
    case didNotStart(path: String, reason: String, standardError: [String])

    public var description: String {
        switch self {
        case .executableNotFound(let path):
            "whitebit-sim not found or not executable at \(path) (run `swift build`, or set WHITEBIT_SIM_PATH)"
        case .spawnFailed(let path, let code):
            "cannot start \(path): \(String(cString: strerror(code)))"
        case .didNotStart(let path, let reason, let lines):
            "\(path) did not start: \(reason); stderr: \(lines.suffix(10).joined(separator: " | "))"
        }
    }
}
