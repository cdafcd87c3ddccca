import ArgumentParser
import DaemonConfig
import Foundation
import Logging
import Store

struct MigrateStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-store",
        abstract: "Copies a whole store into an empty one (SQLite to PostgreSQL, or back) and verifies the audit chain there: exit 0 when it does, 1 naming what failed.",
        discussion: """
            Stop every wbkeyd that uses the source first (a SQLite store a running wbkeyd holds \
            is refused). The source's chain is verified, then copied in one transaction on the \
            target: the grants with their sealed secrets as stored (never opened), the audit \
            chain with its seq and hashes, the duplicate-code memory, outstanding authorize-url \
            links, the nonce marks and the store's keys. The target must hold no wbkeyd data (a \
            new SQLite path, or an empty PostgreSQL database: its schema is made). Then the \
            chain is walked on the target under the master key and must end at the source's \
            head. The source is left as it was: keep it until wbkeyd has run on the target. The \
            master key comes from --master-key-file, else store.master_key_file of --config, \
            else $CREDENTIALS_DIRECTORY/master-key; a PostgreSQL password from --password-file, \
            else store.password_file of --config, else $CREDENTIALS_DIRECTORY/store-password \
            when present (one password: for a copy between two PostgreSQL databases, both use it).
            """)

    @Option(name: .long, help: ArgumentHelp("The store to copy: a SQLite path or a postgresql:// URL.", valueName: "path|url"))
    var from: String

    @Option(name: .long, help: ArgumentHelp("The empty store to copy into: a SQLite path or a postgresql:// URL.", valueName: "path|url"))
    var to: String

    @Option(name: .long, help: ArgumentHelp("The master key file (default: $CREDENTIALS_DIRECTORY/master-key).", valueName: "path"))
    var masterKeyFile: String?

    @Option(name: .long, help: ArgumentHelp("The PostgreSQL password file (default: $CREDENTIALS_DIRECTORY/store-password if present).", valueName: "path"))
    var passwordFile: String?

    /// `--config`: take the master key and the PostgreSQL password from this file.
    @OptionGroup var options: ConfigOption

    func run() throws {
        umask(0o077)
        let keys = try KeySource.resolve(masterKeyFile: masterKeyFile, config: options.given, passwordFile: passwordFile)
        let source = try keys.store(from, option: "--from")
        let target = try keys.store(to, option: "--to")
        let logger = OfflineLog.logger("migrate-store")
        do {
            // Held first, so that the chain verified is the one copied.
            let from = try source.open(existing: true, logger: logger)
            defer { try? from.close() }
            let head: AuditHead?
            switch try source.verify(masterKey: keys.masterKey, expecting: nil, logger: logger) {
            case .sound(_, let sourceHead): head = sourceHead
            case .broken(let seq, let reason):
                throw Refusal("the source's audit chain is broken at seq \(seq): \(reason); nothing copied (audit-verify tells more)")
            }
            let into = try target.open(existing: false, logger: logger)
            let report: StoreCopy.Report
            do {
                report = try StoreCopy.copy(from: from, to: into)
                try into.close()
            } catch {
                try? into.close()
                throw error
            }
            switch try target.verify(masterKey: keys.masterKey, expecting: head, logger: logger) {
            case .sound(let rows, let targetHead):
                print("copied \(source) to \(target): \(report.grants) grants, \(report.auditRows) audit rows, "
                    + "\(report.ingestions) duplicate-code fingerprints, \(report.pendingStates) authorize-url links, "
                    + "\(report.nonceMarks) nonce marks")
                print("audit chain sound on \(target): \(rows) rows"
                    + (targetHead.map { ", head seq \($0.seq) hash \($0.hash), as on the source" } ?? ", empty as on the source"))
            case .broken(let seq, let reason):
                throw Refusal("the copy's audit chain does not verify at seq \(seq): \(reason); do not switch to \(target)")
            }
        } catch let refusal as Refusal {
            throw fail(refusal.message)
        } catch let error as StoreError {
            throw fail("\(error)")
        } catch let error as CredentialError {
            throw fail("password refused: \(error)")
        }
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("migrate-store refused: \(message)\n".utf8))
        return ExitCode(1)
    }

    private struct Refusal: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}

/// Offline subcommands print their own outcome; a library's log lines only when they warn,
/// on standard error.
enum OfflineLog {
    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: "wbkeyd.\(label)", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        return logger
    }
}
