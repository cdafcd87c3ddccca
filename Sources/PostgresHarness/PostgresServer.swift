import Foundation
import WhiteBITSimHarness

/// A real PostgreSQL server of Debian's package for tests and benchmarks: a cluster made by
/// initdb in a private temporary directory, run by an account that is not root, listening
/// on a Unix socket in that directory and on a free loopback port (docs/postgres-harness.md).
///
/// The superuser `postgres` is trusted on the socket; the login role `wbkeyd` has a password
/// made for this server (scram-sha-256), needed over TCP and trusted on the socket.
public actor PostgresServer {
    public static let superuser = "postgres"
    public static let loginRole = "wbkeyd"

    public nonisolated let installation: PostgresInstallation
    /// Everything of the server: `data/`, `socket/`, `server.log`, `wbkeyd-password`.
    public nonisolated let directory: String
    public nonisolated let dataDirectory: String
    public nonisolated let socketDirectory: String
    public nonisolated let port: Int
    /// The `wbkeyd` role's password; `passwordFile` holds the same bytes (no newline), mode 0600.
    public nonisolated let password: String
    public nonisolated let passwordFile: String
    /// The server's output, every run appended.
    public nonisolated let logPath: String

    private let options: PostgresServerOptions
    private let account: ServerAccount
    private let log: ServerLog
    private var postmaster: Postmaster?

    private struct Postmaster {
        let pid: pid_t
        let exit: OneShot<ProcessTermination>
        /// The postmaster and every process it started have closed their output.
        let outputClosed: OneShot<Void>
    }

    private init(setup: ClusterSetup, port: Int, options: PostgresServerOptions) {
        installation = setup.installation
        directory = setup.directory
        dataDirectory = setup.dataDirectory
        socketDirectory = setup.socketDirectory
        password = setup.password
        passwordFile = setup.passwordFile
        account = setup.account
        log = setup.log
        logPath = setup.log.path
        self.port = port
        self.options = options
    }

    deinit {
        // Last resort for a caller that forgot to stop it: never leave it running.
        if let postmaster, postmaster.exit.peek == nil { Foundation.kill(postmaster.pid, SIGKILL) }
    }

    /// A new cluster, started; `remove()` ends it. Tests that can share one use `shared()`.
    public static func start(_ options: PostgresServerOptions = PostgresServerOptions()) async throws -> PostgresServer {
        let setup = try await ClusterSetup.make()
        do {
            // Another process may take the port between its probe and postgres's bind.
            for attempt in 1...5 {
                let server = PostgresServer(setup: setup, port: try ClusterSetup.freeLoopbackPort(), options: options)
                do {
                    try await server.launchPostmaster()
                    try await server.createLoginRole()
                    return server
                } catch {
                    await server.stop()
                    guard attempt < 5, setup.log.contains("Address already in use") else { throw error }
                }
            }
            preconditionFailure("the last attempt returns or throws")
        } catch {
            ExitCleanup.removeDirectory(setup.directory)
            throw error
        }
    }

    /// The postmaster has not exited.
    public var isRunning: Bool {
        guard let postmaster else { return false }
        return postmaster.exit.peek == nil
    }

    /// The postmaster's pid while it runs.
    public var pid: pid_t? { isRunning ? postmaster?.pid : nil }

    public nonisolated func url(database: String) -> String {
        "postgresql://\(Self.loginRole)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    public nonisolated func socketURL(database: String) -> String {
        "postgresql://\(Self.loginRole)@localhost:\(port)/\(database)?host=\(socketDirectory)&sslmode=disable"
    }

    /// A new, empty database owned by `wbkeyd` (a copy of template1: milliseconds). Without
    /// a name, one no other call of this process gets.
    public func createDatabase(name: String? = nil) async throws -> PostgresDatabase {
        let name = name ?? DatabaseName.fresh()
        guard DatabaseName.isValid(name) else { throw PostgresHarnessError.invalidName(name) }
        _ = try await execute("CREATE DATABASE \"\(name)\" OWNER \(Self.loginRole)", database: "postgres")
        return PostgresDatabase(name: name, url: url(database: name), socketURL: socketURL(database: name))
    }

    /// Runs `sql` as the superuser through the socket with psql; returns its unaligned,
    /// tuples-only output (`|` between columns), without the last newline.
    public func execute(_ sql: String, database: String) async throws -> String {
        guard isRunning else { throw PostgresHarnessError.notRunning(what: "psql -d \(database)") }
        let output = try await GuardedLaunch.run(
            installation.psql, psqlArguments(database: database) + ["-c", sql], shownAs: "psql -d \(database) -c \(sql)")
        return output.hasSuffix("\n") ? String(output.dropLast()) : output
    }

    /// Fast shutdown (SIGINT: sessions are ended, then a checkpoint); returns once the
    /// postmaster and its children are gone. The data stays for `restart()`.
    @discardableResult
    public func stop() async -> ProcessTermination? {
        await end(with: SIGINT)
    }

    /// SIGKILL to the postmaster, as a crash would; its children exit when they see it
    /// gone. `restart()` then recovers from the write-ahead log.
    @discardableResult
    public func kill() async -> ProcessTermination? {
        await end(with: SIGKILL)
    }

    /// Stops the server if it runs, then starts it again on the same data and port. After
    /// `kill()`, waits out the children still holding the shared memory or the port.
    public func restart() async throws {
        await stop()
        let deadline = ContinuousClock.now + options.startTimeout
        while true {
            do {
                return try await launchPostmaster()
            } catch {
                let leftOver = ["Address already in use", "pre-existing shared memory block", "lock file"].contains { log.contains($0) }
                guard leftOver, ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Stops the server and deletes its directory (`WBKEYD_HARNESS_KEEP=1` keeps it).
    public func remove() async {
        await stop()
        ExitCleanup.removeDirectory(directory)
    }

    // MARK: - The postmaster

    private func launchPostmaster() async throws(PostgresHarnessError) {
        let settings = options.commandLineSettings(port: port, socketDirectory: socketDirectory)
        let (path, arguments) = account.command(installation.postgres, ["-D", dataDirectory] + settings)
        let child = try await GuardedLaunch.launch(path: path, arguments: arguments, environment: GuardedLaunch.environment())
        let exit = OneShot<ProcessTermination>()
        ChildSpawn.reap(child.pid, into: exit)
        let started = Postmaster(pid: child.pid, exit: exit, outputClosed: log.follow([child.stdoutReadEnd, child.stderrReadEnd]))
        postmaster = started
        ExitCleanup.track(pid: child.pid, directory: directory)
        try await awaitReady(started)
    }

    /// Ready when postmaster.pid names this process and says `ready` (its eighth line,
    /// written once the sockets listen and recovery is over).
    private func awaitReady(_ started: Postmaster) async throws(PostgresHarnessError) {
        let deadline = ContinuousClock.now + options.startTimeout
        while true {
            if let termination = started.exit.peek {
                _ = await ExitCleanup.wait(for: started.outputClosed, upTo: .seconds(5))
                ExitCleanup.untrack(pid: started.pid)
                throw .exitedBeforeReady(termination: termination, log: logPath, lastLines: log.lastLines)
            }
            let lines = ((try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8)) ?? "")
                .split(separator: "\n", omittingEmptySubsequences: false)
            if lines.count >= 8, lines[0] == String(started.pid), lines[7].trimmingCharacters(in: .whitespaces) == "ready" { return }
            guard ContinuousClock.now < deadline else {
                _ = await end(with: SIGKILL)
                throw .notReady(within: options.startTimeout, log: logPath, lastLines: log.lastLines)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func end(with signal: Int32) async -> ProcessTermination? {
        guard let postmaster else { return nil }
        if postmaster.exit.peek == nil {
            Foundation.kill(postmaster.pid, signal)
            if await ExitCleanup.wait(for: postmaster.exit, upTo: .seconds(60)) == nil { Foundation.kill(postmaster.pid, SIGKILL) }
        }
        let termination = await postmaster.exit.value
        _ = await ExitCleanup.wait(for: postmaster.outputClosed, upTo: .seconds(10))
        ExitCleanup.untrack(pid: postmaster.pid)
        return termination
    }

    private func createLoginRole() async throws(PostgresHarnessError) {
        // From a file, not `-c`: the password must not be in any command line or error.
        let script = directory + "/create-role.sql"
        let sql = "SET password_encryption = 'scram-sha-256';\nCREATE ROLE \(Self.loginRole) LOGIN PASSWORD '\(password)';\n"
        try ClusterSetup.writePrivateFile(script, sql)
        defer { unlink(script) }
        _ = try await GuardedLaunch.run(
            installation.psql, psqlArguments(database: "postgres") + ["-f", script], shownAs: "psql -f create-role.sql")
    }

    private func psqlArguments(database: String) -> [String] {
        ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", String(port), "-U", Self.superuser, "-d", database]
    }
}
