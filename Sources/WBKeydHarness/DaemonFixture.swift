import Foundation
import PostgresHarness
import Sensitive
import Synchronization
import WhiteBITSimHarness

/// A real `wbkeyd` beside a real `whitebit-sim`, in a private temporary directory: the
/// credentials (the simulator's client secret and a random master key, both 0600), the
/// spool, the config file, the store and the control socket. One fixture per test; it
/// can stop and start the daemon again on the same directory and store.
///
///     try await DaemonFixture.withDaemon { daemon in
///         let consent = try await daemon.consentAndSubmit(user: "u-1")
///         try await daemon.awaitEvent("secret_secured", user: "u-1")
///         print(try await daemon.control("grants"))
///     }
public final class DaemonFixture: Sendable {
    public struct Options: Sendable {
        /// Arguments of the fixture's own simulator (`--token-lifetime 4s`, `--key-delay 2s`).
        public var simArguments: [String]
        /// A simulator to use instead of starting one; the fixture does not stop it.
        public var sim: SimProcess?
        /// Config keys as `section.key` over the fixture's defaults (`.absent` removes one).
        public var config: [String: TOMLValue]
        public var clientSecret: Sensitive
        public var clientSecretMode: mode_t
        public var masterKeyMode: mode_t
        /// Extra environment for wbkeyd (`WBKEYD_LOG_LEVEL=debug`).
        public var environment: [String: String]
        public var readyTimeout: Duration
        /// The private directory's name before its random suffix (`wbkeyd-demo` for the demo).
        public var directoryPrefix: String
        /// Runs wbkeyd as this uid and gid (through `setpriv`) instead of this process's own,
        /// with the fixture's directory given to it: root may rename anything, so whatever
        /// depends on file permissions must be seen with a daemon that is not root.
        public var runAs: DaemonAccount?
        /// The master key's 32 bytes; nil: random. Instances sharing one database need the
        /// same one.
        public var masterKey: [UInt8]?

        public init(
            simArguments: [String] = [], sim: SimProcess? = nil, config: [String: TOMLValue] = [:],
            clientSecret: Sensitive = SimDefaults.clientSecret, clientSecretMode: mode_t = 0o600, masterKeyMode: mode_t = 0o600,
            environment: [String: String] = [:], readyTimeout: Duration = .seconds(60),
            directoryPrefix: String = "wbkeyd-e2e", runAs: DaemonAccount? = nil
        ) {
            self.simArguments = simArguments
            self.sim = sim
            self.config = config
            self.clientSecret = clientSecret
            self.clientSecretMode = clientSecretMode
            self.masterKeyMode = masterKeyMode
            self.environment = environment
            self.readyTimeout = readyTimeout
            self.directoryPrefix = directoryPrefix
            self.runAs = runAs
        }
    }

    public let paths: DaemonPaths
    public let sim: SimProcess
    public let options: Options
    /// The 32 random bytes of the master key file (tests search outputs for them).
    public let masterKey: [UInt8]
    /// The database the store is in when the tests run on PostgreSQL
    /// (`WBKEYD_TEST_STORE=postgresql`); nil: the SQLite file at `paths.store`.
    public let storeDatabase: PostgresStoreUnderTest?
    private let ownsSim: Bool
    private let runs = Mutex<[DaemonProcess]>([])

    /// The simulator's admin API: the WhiteBIT user, faults, state.
    public var admin: SimAdminClient { sim.admin }

    private init(
        paths: DaemonPaths, sim: SimProcess, ownsSim: Bool, options: Options, masterKey: [UInt8], storeDatabase: PostgresStoreUnderTest?
    ) {
        self.storeDatabase = storeDatabase
        self.paths = paths
        self.sim = sim
        self.ownsSim = ownsSim
        self.options = options
        self.masterKey = masterKey
    }

    // MARK: setting up

    /// Makes the directory, credentials, spool and config, and starts (or takes) the
    /// simulator; the daemon is not started (`start()` does that).
    public static func prepare(_ options: Options = Options()) async throws -> DaemonFixture {
        let paths = DaemonPaths(directory: try DaemonPaths.makePrivateDirectory(prefix: options.directoryPrefix))
        do {
            try paths.makeTree()
            let masterKey = options.masterKey ?? randomMasterKey()
            try writeFile(paths.clientSecretFile, Array((options.clientSecret.revealed + "\n").utf8), mode: options.clientSecretMode)
            try writeFile(paths.masterKeyFile, masterKey, mode: options.masterKeyMode)
            let sim: SimProcess
            if let given = options.sim { sim = given } else { sim = try await SimProcess.start(arguments: options.simArguments) }
            let fixture = DaemonFixture(
                paths: paths, sim: sim, ownsSim: options.sim == nil, options: options, masterKey: masterKey,
                storeDatabase: try await PostgresStoreUnderTest.chosen(options))
            try fixture.writeConfig(fixture.defaultConfig.merging(options.config))
            if let account = options.runAs { try account.takeOver(paths.directory) }
            return fixture
        } catch {
            try? FileManager.default.removeItem(atPath: paths.directory)
            throw error
        }
    }

    /// `prepare` and `start`.
    public static func start(_ options: Options = Options()) async throws -> DaemonFixture {
        let fixture = try await prepare(options)
        do {
            try await fixture.start()
        } catch {
            await fixture.stop()
            throw error
        }
        return fixture
    }

    /// Starts a fixture, runs `body` with it, and stops everything whatever `body` does.
    public static func withDaemon<Result: Sendable>(
        _ options: Options = Options(), isolation: isolated (any Actor)? = #isolation,
        _ body: (DaemonFixture) async throws -> Result
    ) async throws -> Result {
        let fixture = try await start(options)
        do {
            let result = try await body(fixture)
            await fixture.stop()
            return result
        } catch {
            await fixture.stop()
            throw error
        }
    }

    /// The config every fixture starts from: the simulator's default client, this
    /// directory's paths, a short `/info` poll, and admin and secret rights for the
    /// account running the tests. Signed key checks are off, so that the OAuth side's
    /// tests see exactly its audit rows; `KeyWatchTests` and the secret search turn them on.
    public var defaultConfig: DaemonConfigFile {
        var config = DaemonConfigFile(values: [
            "whitebit.base_url": .string(sim.baseURL),
            "whitebit.client_id": .string(SimDefaults.clientID),
            "whitebit.client_secret_file": .string(paths.clientSecretFile),
            "whitebit.redirect_uri": .string(SimDefaults.redirectURI),
            "spool.directory": .string(paths.spoolRoot),
            "keys.info_poll_interval": "250ms",
            "keys.verify_key": .bool(false),
            "keys.probe_interval": "off",
            "store.path": .string(paths.store),
            "store.master_key_file": .string(paths.masterKeyFile),
            "store.backend": storeDatabase == nil ? .absent : "postgresql",
            "store.url": storeDatabase.map { .string($0.database.url) } ?? .absent,
            "store.password_file": storeDatabase.map { .string($0.server.passwordFile) } ?? .absent,
            "control.socket": .string(paths.controlSocket),
            "control.admin_group": "",
        ])
        if getuid() != 0, let group = getgrgid(getgid()).map({ String(cString: $0.pointee.gr_name) }),
            let user = getpwuid(getuid()).map({ String(cString: $0.pointee.pw_name) })
        {
            config["control.admin_group"] = .string(group)
            config["control.secret_readers"] = .strings(["user:\(user)"])
        }
        return config
    }

    /// `control.agent_users` naming the account that runs this process, so that it may
    /// `sign` (docs/design.md §12) as the partner application would; nothing for root, who may.
    public static var selfAsAgent: [String: TOMLValue] {
        guard getuid() != 0, let user = getpwuid(getuid()).map({ String(cString: $0.pointee.pw_name) }) else { return [:] }
        return ["control.agent_users": .strings(["user:\(user)"])]
    }

    /// Writes the config file (for a reload, or a bad config before `start`).
    public func writeConfig(_ config: DaemonConfigFile) throws {
        try writeFile(paths.configFile, Array(config.rendered.utf8), mode: 0o600)
    }

    private static func randomMasterKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        while true {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // wbkeyd refuses 32 printable bytes as a probable short text key.
            if !bytes.allSatisfy({ (0x20...0x7E).contains($0) }) { return bytes }
        }
    }

    // MARK: the daemon's runs

    /// Starts wbkeyd on this directory (first start or after a stop) and, unless told
    /// otherwise, waits for READY=1. Throws `stillRunning` when a run is still alive.
    @discardableResult
    public func start(awaitReady: Bool = true) async throws -> DaemonProcess {
        if let previous = runs.withLock({ $0.last }) {
            if previous.isRunning { throw HarnessError.stillRunning(pid: previous.pid) }
            // Its notify socket must be closed and unlinked before the new run binds the path.
            _ = await previous.termination
        }
        let process = try await DaemonProcess.launch(
            arguments: ["--config", paths.configFile], environment: options.environment, notifySocketPath: paths.notifySocket,
            runAs: options.runAs)
        runs.withLock { $0.append(process) }
        if awaitReady { try await process.awaitReady(timeout: options.readyTimeout) }
        return process
    }

    /// Starts again after `kill9()` or `terminate()`: same directory, store and spool.
    @discardableResult
    public func restart() async throws -> DaemonProcess {
        try await start()
    }

    /// The current (or last) run.
    public var process: DaemonProcess {
        get throws {
            guard let last = runs.withLock({ $0.last }) else { throw HarnessError.notRunning(what: "process") }
            return last
        }
    }

    /// Every run so far, oldest first.
    public var allRuns: [DaemonProcess] { runs.withLock { $0 } }

    /// SIGKILL to the running daemon; returns once it is gone.
    @discardableResult
    public func kill9() async throws -> ProcessTermination {
        try await process.kill9()
    }

    /// SIGTERM to the running daemon; returns its exit status.
    @discardableResult
    public func terminate() async throws -> ProcessTermination {
        try await process.terminate()
    }

    /// Stops the daemon (SIGTERM, SIGKILL after 10 s) and the fixture's own simulator, and
    /// removes the directory (kept when `WBKEYD_HARNESS_KEEP` is set, for a post-mortem).
    public func stop() async {
        for run in allRuns where run.isRunning { await run.terminate(timeout: .seconds(10)) }
        for run in allRuns { _ = await run.termination }
        if ownsSim { await sim.stop() }
        if ProcessInfo.processInfo.environment["WBKEYD_HARNESS_KEEP"] == nil {
            try? FileManager.default.removeItem(atPath: paths.directory)
        }
    }

    /// Every byte wbkeyd printed, over all runs.
    public var allOutput: [UInt8] { allRuns.flatMap(\.outputBytes) }

    // MARK: its log

    /// Where the current run's output stands now; await from here to see only what follows.
    public var logMark: LogMark {
        let runs = allRuns
        return LogMark(run: runs.count - 1, line: runs.last?.lineCount ?? 0)
    }

    /// The first line of the current run (from `since` when it is a mark of this run) that
    /// matches `predicate`, waiting for it.
    @discardableResult
    public func awaitLine(
        since mark: LogMark? = nil, timeout: Duration = .seconds(60), describedAs wanted: String = "matching the predicate",
        where predicate: @escaping @Sendable (DaemonLogLine) -> Bool
    ) async throws -> DaemonLogLine {
        let runs = allRuns
        guard let current = runs.last else { throw HarnessError.notRunning(what: "awaitLine") }
        let since = mark.flatMap { $0.run == runs.count - 1 ? $0.line : nil } ?? 0
        return try await current.awaitLine(since: since, timeout: timeout, describedAs: wanted, where: predicate)
    }

    /// The line of `event` (for `user` when given), e.g. `secret_secured` for `u-1`.
    @discardableResult
    public func awaitEvent(
        _ event: String, user: String? = nil, since mark: LogMark? = nil, timeout: Duration = .seconds(60)
    ) async throws -> DaemonLogLine {
        try await awaitLine(since: mark, timeout: timeout, describedAs: "\(event)\(user.map { " for \($0)" } ?? "")") {
            $0.isEvent(event, user: user)
        }
    }

    // MARK: the control socket

    /// One command over a real connection to the control socket; the whole answer.
    public func control(_ line: String, timeout: Duration = .seconds(30)) async throws -> String {
        try await ControlClient.send(line, to: paths.controlSocket, timeout: timeout)
    }

    /// Asks `grants json` until `user`'s grant is in `state` (or `deadline` passes), for
    /// waits that have no log line to await. Answers the last state seen.
    @discardableResult
    public func awaitState(_ state: String, user: String, deadline: Duration = .seconds(60)) async throws -> String? {
        let end = ContinuousClock.now.advanced(by: deadline)
        var last: String?
        repeat {
            last = try await grantState(user)
            if last == state { return last }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < end
        return last
    }

    /// The state of `user`'s grant as `grants json` reports it; nil when there is none.
    public func grantState(_ user: String) async throws -> String? {
        let answer = try await control("grants json")
        guard let object = try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any],
            let grants = object["grants"] as? [[String: Any]]
        else { throw HarnessError.unexpectedOutput(command: "grants json", detail: String(answer.prefix(300))) }
        return grants.first { $0["user"] as? String == user }?["state"] as? String
    }

    // MARK: subcommands

    /// `wbkeyd ARGUMENTS` to its end (`audit-verify`, `check-config`).
    public func wbkeyd(_ arguments: [String]) async throws -> CommandResult {
        try await CommandRunner.wbkeyd(arguments)
    }

    /// `wbkeyd audit-verify --store --master-key-file` on this fixture's store (its file, or
    /// its database with `--password-file`) and key,
    /// with `extra` arguments (`--expect SEQ:HASH`).
    public func auditVerify(_ extra: [String] = []) async throws -> CommandResult {
        let store = storeDatabase.map { ["--store", $0.database.url, "--password-file", $0.server.passwordFile] } ?? ["--store", paths.store]
        return try await wbkeyd(["audit-verify"] + store + ["--master-key-file", paths.masterKeyFile] + extra)
    }
}
