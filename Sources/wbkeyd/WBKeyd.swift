import ArgumentParser
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

            EXIT STATUS
              0   stopped by SIGTERM or SIGINT
              1   a fatal error, e.g. a failed store or audit write
                  (it stops calling WhiteBIT first)
              64  a usage error: an unknown option or subcommand
              78  the configuration or a credential file was refused
                  (EX_CONFIG: RestartPreventExitStatus=78 in the unit
                  keeps systemd from restarting into the same error)

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
        version: Daemon.version,
        subcommands: [CheckConfig.self, AuditVerify.self, DemoCommand.self])

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
            let daemon = try Daemon(loaded: loaded, loader: loader, accounts: SystemAccountDirectory(), logger: logger)
            try await daemon.run()
        } catch let error as ConfigurationError {
            Self.fail("configuration refused:\n\(error.description)", exitCode: Self.configurationExitCode, notifier: notifier, logger: logger)
        } catch let error as CredentialError {
            Self.fail("credential refused: \(error)", exitCode: Self.configurationExitCode, notifier: notifier, logger: logger)
        } catch {
            Self.fail("\(error)", exitCode: 1, notifier: notifier, logger: logger)
        }
    }

    /// EX_CONFIG of sysexits.h: a configuration that a restart cannot mend. wbkeyd.service
    /// names it in RestartPreventExitStatus=, so systemd fails the unit at once instead of
    /// restarting it into the same error until the start limit.
    static let configurationExitCode: Int32 = 78

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

/// `--config`, accepted before or after a subcommand name.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file (TOML; etc/wbkeyd.toml has every key).", valueName: "path"))
    var config: String = "/etc/wbkeyd/wbkeyd.toml"
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Checks a configuration file and its credential files: exit 0 if usable, else 1 with one line per problem.",
        discussion: """
            Loads the file as the daemon would, without starting anything: every key and \
            value, and each credential file (its mode and length). Credentials whose *_file setting is \
            empty are read from $CREDENTIALS_DIRECTORY, as under systemd; to check those, run \
            `CREDENTIALS_DIRECTORY=/etc/wbkeyd wbkeyd check-config --config /etc/wbkeyd/wbkeyd.toml`. \
            Run it before `systemctl reload wbkeyd`.
            """)

    @OptionGroup var options: ConfigOption

    func run() throws {
        let config = options.config
        let report = ConfigurationReport.check(path: config, loader: ConfigurationLoader())
        if report.isValid {
            print(report.text, terminator: report.text.hasSuffix("\n") ? "" : "\n")
        } else {
            FileHandle.standardError.write(Data((report.text + (report.text.hasSuffix("\n") ? "" : "\n")).utf8))
            throw ExitCode(1)
        }
    }
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-verify",
        abstract: "Re-walks the audit log's hash chain: exit 0 if sound, 1 naming the first bad row, 2 if the store cannot be read.",
        discussion: """
            Needs only read access to the store (no master key), so it works on a copy too. \
            Compare its head with the latest audit_head entry in the journal \
            (`journalctl -u wbkeyd WBKEYD_EVENT=audit_head -n 1`), the witness that the chain \
            was not rewritten from the start.
            """)

    @Option(name: .long, help: ArgumentHelp("The SQLite store (store.path of the configuration).", valueName: "path"))
    var store: String = "/var/lib/wbkeyd/wbkeyd.sqlite3"

    func run() throws {
        do {
            switch try AuditVerifier.verify(storePath: store) {
            case .sound(let rows, let head):
                print("audit chain sound: \(rows) rows" + (head.map { ", head seq \($0.seq) hash \($0.hash)" } ?? ""))
            case .broken(let seq, let reason):
                FileHandle.standardError.write(Data("audit chain broken at seq \(seq): \(reason)\n".utf8))
                throw ExitCode(1)
            }
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("cannot verify \(store): \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
