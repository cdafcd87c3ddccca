import ArgumentParser
import BuildInfo
import SysExits
import Daemon
import DaemonConfig
import Foundation
import Logging
import Store
import Systemd

@main
struct WBKeyd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wbkeyd",
        abstract: "Runs the WhiteBIT Fast API Key flow for a partner platform, as a systemd service.",
        // ArgumentParser's own usage line would make the subcommand look required.
        usage: """
            wbkeyd [--config <path>]
            wbkeyd <subcommand> [<options>]
            """,
        discussion: """
            Without a subcommand, runs the daemon in the foreground (as systemd does): it turns \
            authorizations delivered to the spool into sealed API keys, watches them while their \
            token lives, deletes the ones that must go, and records every step in a hash-chained \
            audit log. Admins talk to it through the control socket (`wbkeyctl` or socat). \
            SIGHUP reloads the configuration (intervals, limits, access lists; a bad file is \
            refused and the old one kept); SIGTERM or SIGINT stops it gracefully.

            EXIT STATUS (one scheme for wbkeyd, wbkeyctl, whitebit-sim and
            wbkeyd-bench: 0, 1 and sysexits.h)
              0   stopped by SIGTERM or SIGINT; a subcommand did what it says
              1   a fatal error, e.g. a failed store or audit write
                  (it stops calling WhiteBIT first); audit-verify: the
                  chain is broken; rewrap: refused
              64  a usage error: an unknown option or subcommand (EX_USAGE)
              66  audit-verify: the store cannot be read or unlocked
                  (EX_NOINPUT)
              69  demo: the simulator or daemon did not come up
                  (EX_UNAVAILABLE)
              78  the configuration or a credential file was refused, by
                  the daemon or by check-config (EX_CONFIG:
                  RestartPreventExitStatus=78 in the unit keeps systemd
                  from restarting into the same error)

            ENVIRONMENT
              CREDENTIALS_DIRECTORY  the client secret and master key, when
                                     their *_file settings are empty
                                     (systemd's LoadCredential=)
              WBKEYD_LOG_LEVEL       trace, debug, info (the default),
                                     notice, warning, error or critical
              NOTIFY_SOCKET, WATCHDOG_USEC, LISTEN_FDS, JOURNAL_STREAM
                                     set by systemd: readiness and the
                                     watchdog, wbkeyd.socket's control
                                     socket, logging to the journal
            """,
        version: BuildInfo.versionLine("wbkeyd"),
        subcommands: [CheckConfig.self, AuditVerify.self, MigrateStore.self, Rewrap.self, DemoCommand.self])

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = options.config
        umask(0o077)
        let environment = ProcessInfo.processInfo.environment
        LogSink.detect(environment: environment).bootstrap(identifier: "wbkeyd", level: Self.logLevel(environment))
        let logger = Logger(label: "wbkeyd")
        let notifier = ServiceNotifier()
        do {
            try CoreDumpGuard.engage()
        } catch {
            Self.fail("\(error)", exitCode: 1, notifier: notifier, logger: logger)
        }
        let loader = ConfigurationLoader(accounts: SystemAccountDirectory(), environment: environment)
        do {
            let loaded = try loader.load(path: config)
            let lease = loaded.configuration.store.leaseTerm(requestTimeout: loaded.configuration.whitebit.requestTimeout)
            let daemon = try await Self.waitingForStore(notifier: notifier, logger: logger, nameWait: lease * 2 + .seconds(10)) {
                try Daemon(loaded: loaded, loader: loader, accounts: SystemAccountDirectory(), logger: logger)
            }
            try await daemon.run()
        } catch let error as ConfigurationError {
            Self.fail("configuration refused:\n\(error.description)", exitCode: Self.configurationExitCode, notifier: notifier, logger: logger)
        } catch let error as CredentialError {
            Self.fail("credential refused: \(error)", exitCode: Self.configurationExitCode, notifier: notifier, logger: logger)
        } catch let error as StoreError where error.isKeyProblem {
            Self.fail("master key refused: \(error)", exitCode: Self.configurationExitCode, notifier: notifier, logger: logger)
        } catch {
            Self.fail("\(error)", exitCode: 1, notifier: notifier, logger: logger)
        }
    }

    /// A store server that cannot be reached at start (PostgreSQL restarting, the network
    /// not up yet) is waited for rather than failed on: each failed start would count
    /// towards the unit's StartLimitBurst, and after five systemd gives up for good on an
    /// outage that was the database's. While it waits, STATUS= says so, the start timeout
    /// and the watchdog are kept from firing, and nothing else runs.
    ///
    /// The same, for at most `nameWait`, when the database says this instance's name still
    /// runs: after a kill -9 or a crash the previous run's session lives on at the server
    /// until it sees the connection gone (at once on this host; within the keepalives, about
    /// a lease, for a host that vanished). Past that, two processes share one name: refused.
    static func waitingForStore<T>(
        notifier: ServiceNotifier, logger: Logger, nameWait: Duration = .zero, _ make: () throws -> T
    ) async throws -> T {
        var delay = Duration.seconds(1)
        let clock = ContinuousClock()
        var since: ContinuousClock.Instant?
        let start = clock.now
        while true {
            do {
                let made = try make()
                if let since {
                    logger.notice(
                        "the store is reachable again after \(since.duration(to: clock.now).components.seconds) s; starting",
                        metadata: ["event": "store_available"])
                }
                return made
            } catch StoreError.unavailable(let store, let message) {
                if since == nil {
                    since = clock.now
                    logger.warning(
                        "the store \(store) is unavailable (\(message)); waiting for it, retrying every few seconds",
                        metadata: ["event": "store_unavailable"])
                }
                let extend = (delay + .seconds(30)).components.seconds * 1_000_000
                _ = notifier.send([
                    "STATUS=waiting for the store: \(ServiceNotifier.statusLine(message))", "EXTEND_TIMEOUT_USEC=\(extend)", "WATCHDOG=1",
                ])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(8))
            } catch StoreError.instanceRunning(let name, let store) where start.duration(to: clock.now) < nameWait {
                logger.notice(
                    "instance \(name) still holds store \(store): a previous run's session, or another process; waiting",
                    metadata: ["event": "store_unavailable"])
                _ = notifier.send(["STATUS=waiting for instance \(name)'s previous session to end", "EXTEND_TIMEOUT_USEC=30000000", "WATCHDOG=1"])
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// EX_CONFIG of sysexits.h: a configuration that a restart cannot mend. wbkeyd.service
    /// names it in RestartPreventExitStatus=, so systemd fails the unit at once instead of
    /// restarting it into the same error until the start limit.
    static let configurationExitCode = ExitStatus.configuration

    static func fail(_ message: String, exitCode: Int32, notifier: ServiceNotifier, logger: Logger) -> Never {
        logger.critical("wbkeyd cannot run: \(message)", metadata: ["event": "daemon_degraded"])
        notifier.failing(status: "failed: \(ServiceNotifier.statusLine(message))")
        Foundation.exit(exitCode)
    }

    /// `WBKEYD_LOG_LEVEL=debug` for troubleshooting; the default is info.
    static func logLevel(_ environment: [String: String]) -> Logger.Level {
        environment["WBKEYD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    }
}

/// `--config`, accepted before or after a subcommand name. One declaration for every
/// subcommand: ArgumentParser gives a `--config` written after a subcommand to the parent's
/// option when the two declare their own, so a subcommand's own `--config` was never set.
struct ConfigOption: ParsableArguments {
    static let defaultPath = "/etc/wbkeyd/wbkeyd.toml"

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "The configuration file (TOML; etc/wbkeyd.toml has every key). The daemon and check-config default to /etc/wbkeyd/wbkeyd.toml; audit-verify and migrate-store read one only when given.",
        valueName: "path"))
    var given: String?

    var config: String { given ?? Self.defaultPath }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Checks a configuration file and its credential files: exit 0 if usable, else 78 with one line per problem.",
        discussion: """
            Loads the file as the daemon would, without starting anything: every key and \
            value, and each credential file (its mode and length), and that the master key is the \
            one the store is keyed with (by key id and check value, when the store exists). \
            As the user who runs it, it also checks the paths: the spool tree (present or \
            creatable, usable, claimed/ and rejected/ closed to others), the store's directory \
            and file, and the control socket (systemd's socket, or a directory to bind it in). \
            Credentials whose *_file setting is \
            empty are read from $CREDENTIALS_DIRECTORY, as under systemd; to check those, run \
            `CREDENTIALS_DIRECTORY=/etc/wbkeyd wbkeyd check-config --config /etc/wbkeyd/wbkeyd.toml`. \
            Run it before a restart. With --reload it decides as the running daemon does on SIGHUP, \
            by the same code: only the file, since a reload keeps the credentials, store, spool, \
            socket and WhiteBIT client it started with (a change to those is applied at the next \
            restart, and only named here). wbkeyd.service runs `check-config --reload --quiet` as \
            its first ExecReload=, so `systemctl reload wbkeyd` fails on a file the daemon would \
            refuse, the problems in the journal, and no signal is sent.
            """)

    @OptionGroup var options: ConfigOption

    @Flag(name: .long, help: "Print nothing when the configuration is usable (the problems still go to stderr).")
    var quiet = false

    @Flag(name: .long, help: "Check what a reload (SIGHUP) would apply or refuse: the file only, no credential files or paths.")
    var reload = false

    func run() throws {
        let config = options.config
        if reload {
            let report = ConfigurationReport.reloadCheck(path: config, loader: ConfigurationLoader())
            try finish(report, text: report.reloadText)
            return
        }
        var report = ConfigurationReport.check(path: config, loader: ConfigurationLoader()) { loaded, key in
            // With PostgreSQL, store.path names only the witness; the key is tried at start.
            loaded.configuration.store.backend == .sqlite
                ? MasterKeyCheck.problem(storePath: loaded.configuration.store.path, masterKey: Data(key.bytes)) : nil
        }
        if let loaded = report.loaded {
            let paths = DeploymentCheck.problems(of: loaded)
            if !paths.isEmpty { report = ConfigurationReport(path: config, problems: report.problems + paths) }
        }
        try finish(report, text: report.text)
    }

    private func finish(_ report: ConfigurationReport, text: String) throws {
        let line = text.hasSuffix("\n") ? text : text + "\n"
        if report.isValid {
            if !quiet { print(line, terminator: "") }
        } else {
            FileHandle.standardError.write(Data(line.utf8))
            throw ExitCode(WBKeyd.configurationExitCode)
        }
    }
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-verify",
        abstract: "Re-walks the audit log's keyed hash chain: exit 0 if sound, 1 naming the first bad row, 66 if the store cannot be read or unlocked.",
        discussion: """
            The chain is keyed (HMAC) with a key sealed in the store under the master key, so \
            audit-verify needs the master key: --master-key-file, else store.master_key_file of \
            --config when given, else $CREDENTIALS_DIRECTORY/master-key. It only reads the store, \
            so it works on a copy too, and on a PostgreSQL store while instances keep writing \
            (one snapshot): give its postgresql:// URL as --store, or a --config that names it; \
            its password comes from --password-file, else store.password_file of --config, else \
            $CREDENTIALS_DIRECTORY/store-password when present. A cut tail shows only against a head witnessed outside \
            the store: take the latest audit_head entry from the journal \
            (`journalctl -u wbkeyd WBKEYD_EVENT=audit_head -n 1 -o verbose`) and pass its seq and \
            hash as --expect SEQ:HASH.
            """)

    @Option(name: .long, help: ArgumentHelp(
        "The SQLite store's path or a postgresql:// URL (default: the store of --config, else /var/lib/wbkeyd/wbkeyd.sqlite3).",
        valueName: "path|url"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("The master key file (default: $CREDENTIALS_DIRECTORY/master-key).", valueName: "path"))
    var masterKeyFile: String?

    @Option(name: .long, help: ArgumentHelp("The PostgreSQL password file (default: $CREDENTIALS_DIRECTORY/store-password if present).", valueName: "path"))
    var passwordFile: String?

    /// `--config`: take the store, the master key and the password from this file.
    @OptionGroup var options: ConfigOption

    @Option(name: .long, help: ArgumentHelp("A witnessed head the chain must still hold, e.g. 42:5f3a… from an audit_head journal entry.", valueName: "seq:hash"))
    var expect: String?

    func run() throws {
        var expected: AuditHead?
        if let expect {
            let parts = expect.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let seq = Int64(parts[0]), seq > 0, parts[1].utf8.count == 64,
                parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else {
                throw ValidationError("--expect: expected SEQ:HASH (a positive seq, 64 lowercase hex digits), got \(expect)")
            }
            expected = AuditHead(seq: seq, hash: String(parts[1]))
        }
        let keys = try KeySource.resolve(masterKeyFile: masterKeyFile, config: options.given, passwordFile: passwordFile)
        let store = try keys.store(store, option: "--store")
        do {
            switch try store.verify(masterKey: keys.masterKey, expecting: expected, logger: OfflineLog.logger("audit-verify")) {
            case .sound(let rows, let head):
                print("audit chain sound: \(rows) rows" + (head.map { ", head seq \($0.seq) hash \($0.hash)" } ?? "")
                    + (expected.map { "; holds seq \($0.seq) as expected" } ?? ""))
            case .broken(let seq, let reason):
                FileHandle.standardError.write(Data("audit chain broken at seq \(seq): \(reason)\n".utf8))
                throw ExitCode(1)
            }
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("cannot verify \(store): \(error)\n".utf8))
            throw ExitCode(ExitStatus.noInput)
        } catch let error as CredentialError {
            FileHandle.standardError.write(Data("cannot verify \(store): password refused: \(error)\n".utf8))
            throw ExitCode(ExitStatus.noInput)
        }
    }
}

struct Rewrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrap",
        abstract: "Moves the store to a new master key: re-seals every secret and the audit chain key in one transaction.",
        discussion: """
            Stop wbkeyd first (a store a running wbkeyd holds is refused). Both key files are read like the master key credential (mode 0600 \
            or stricter; 32 raw bytes, 64 hex digits or base64). The chain key does not change, \
            so the audit log stays verifiable; the change is audited as master_key_rewrapped with \
            both key ids. Outstanding authorize-url links and the duplicate-code memory are keyed \
            with the old key and are dropped. Then install the new key as the master-key \
            credential and start wbkeyd; exit 0 on success, 1 naming what failed.
            """)

    @Option(name: .long, help: ArgumentHelp("The SQLite store (store.path of the configuration).", valueName: "path"))
    var store: String = "/var/lib/wbkeyd/wbkeyd.sqlite3"

    @Option(name: .long, help: ArgumentHelp("The master key the store is keyed with now.", valueName: "path"))
    var oldKeyFile: String

    @Option(name: .long, help: ArgumentHelp("The master key to move to.", valueName: "path"))
    var newKeyFile: String

    func run() throws {
        umask(0o077)
        do {
            let old = try KeySource.readKey(oldKeyFile, option: "--old-key-file")
            let new = try KeySource.readKey(newKeyFile, option: "--new-key-file")
            // Opening creates a missing store; rewrap must not make an empty one.
            guard FileManager.default.fileExists(atPath: store) else {
                throw StoreError.missingFile(path: store)
            }
            let database = try StoreDatabase.openHeld(path: store)
            defer { try? database.close() }
            let outcome = try StoreRewrap.rewrap(store: database, oldMasterKey: old, newMasterKey: new)
            print("rewrapped \(store): \(outcome.boxes) sealed secrets and the audit chain key moved from key id "
                + "\(outcome.oldKeyID) to \(outcome.newKeyID); \(outcome.droppedFingerprints) fingerprints dropped")
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("rewrap refused: \(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as CredentialError {
            FileHandle.standardError.write(Data("rewrap refused: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
