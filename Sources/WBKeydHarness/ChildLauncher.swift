import Foundation
import Synchronization

/// Starts child processes with stdout and stderr on pipes and stdin on /dev/null, through
/// `die-with-parent` so that they cannot outlive this process, and reaps them.
///
/// PR_SET_PDEATHSIG fires when the *thread* that spawned the child ends, not the process,
/// and the threads of Swift's pool and of Dispatch come and go. So every spawn happens on
/// one thread that lives as long as the process: `SpawnerThread`.
enum ChildLauncher {
    struct Child: Sendable {
        let pid: pid_t
        let stdoutReadEnd: Int32
        let stderrReadEnd: Int32
    }

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

    static func launch(path: String, arguments: [String], environment: [String: String]) async throws(HarnessError) -> Child {
        let guardPath = try guardExecutablePath()
        let argv = [guardPath, String(getpid()), path] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        let result = await SpawnerThread.shared.run { () -> Result<Child, HarnessError> in
            spawn(guardPath, argv: argv, envp: envp, reportedPath: path)
        }
        return try result.get()
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

    private static func spawn(_ executable: String, argv: [String], envp: [String], reportedPath: String) -> Result<Child, HarnessError> {
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdoutPipe) == 0 else { return .failure(.spawnFailed(path: reportedPath, errno: errno)) }
        guard pipe(&stderrPipe) == 0 else {
            let code = errno
            close(stdoutPipe[0])
            close(stdoutPipe[1])
            return .failure(.spawnFailed(path: reportedPath, errno: code))
        }
        // Close-on-exec, so that no other child inherits a write end (EOF would never
        // come). Spawns of this harness all run on this one thread, so none can slip in
        // between pipe() and here (glibc's pipe2 is not visible to Swift).
        for descriptor in stdoutPipe + stderrPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // dup2 onto 1 and 2 clears close-on-exec for the child's copies only.
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        // The child must see SIGTERM, SIGINT and SIGPIPE as usual even if this process
        // blocks or ignores them.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = envp.map { strdup($0) } + [nil]
        defer { for pointer in cArguments + cEnvironment { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, cArguments, cEnvironment)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard result == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            return .failure(.spawnFailed(path: reportedPath, errno: result))
        }
        return .success(Child(pid: pid, stdoutReadEnd: stdoutPipe[0], stderrReadEnd: stderrPipe[0]))
    }

    /// Waits for the child on a thread of its own (a blocking waitpid needs no polling).
    static func reap(_ pid: pid_t, into exit: OneShot<ProcessTermination>) {
        let thread = Thread {
            var status: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(pid, &status, 0)
            } while result < 0 && errno == EINTR
            exit.fulfil(result == pid ? ProcessTermination(waitStatus: status) : ProcessTermination(code: -1, bySignal: false))
        }
        thread.start()
    }
}

/// One thread that lives as long as the process and runs every spawn (see `ChildLauncher`).
final class SpawnerThread: Sendable {
    static let shared = SpawnerThread()

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let wake = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in
            while true {
                wake.wait()
                let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                job?()
            }
        }
        thread.name = "wbkeyd-harness-spawner"
        thread.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            jobs.withLock { $0.append { continuation.resume(returning: body()) } }
            wake.signal()
        }
    }
}
