import ArgumentParser
import Daemon
import DaemonConfig
import Foundation
import Logging
import PostgresStore
import Sensitive
import Store

/// A store as the offline subcommands name it: a SQLite file, or a PostgreSQL database by
/// its `postgresql://` URL (docs/design.md §13), with the password credential it needs.
enum StoreLocation: CustomStringConvertible {
    case sqlite(path: String)
    case postgresql(StoreURL, password: CredentialLocation?)

    /// A `postgresql://` or `postgres://` text is a URL, anything else a path. The URL is
    /// checked as `store.url` is; a refusal never repeats a URL that holds a password.
    static func parse(_ text: String, option: String, password: CredentialLocation?) throws -> StoreLocation {
        let lowered = text.lowercased()
        guard lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://") else {
            guard !text.isEmpty else { throw ValidationError("\(option): empty; give a SQLite path or a postgresql:// URL") }
            return .sqlite(path: text)
        }
        do {
            return .postgresql(try StoreURL(parsing: text), password: password)
        } catch {
            throw ValidationError("\(option) \(StoreURL.shown(text)): the URL \(error)")
        }
    }

    /// The configured store of a loaded configuration.
    static func configured(_ loaded: LoadedConfiguration) -> StoreLocation {
        let store = loaded.configuration.store
        if store.backend == .postgresql, let url = store.storeURL {
            return .postgresql(url, password: loaded.credentials.storePassword)
        }
        return .sqlite(path: store.path)
    }

    /// `--password-file`, else `$CREDENTIALS_DIRECTORY/store-password` when it exists, as the
    /// daemon finds it; nil: the server authenticates without a password.
    static func passwordLocation(option: String?) -> CredentialLocation? {
        if let option { return CredentialLocation(key: "--password-file", path: option, source: .configured) }
        return CredentialLocations.storePassword(setting: "", environment: ProcessInfo.processInfo.environment)
    }

    var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgresql(let url, _): url.text
        }
    }

    var isPostgreSQL: Bool {
        if case .postgresql = self { true } else { false }
    }

    /// The store as a backend, held against a running wbkeyd (the SQLite file's lock until
    /// the process ends, the database's instance lock). `existing`: a SQLite file must be
    /// there already (opening one creates it).
    func open(existing: Bool, logger: Logger) throws -> (any Store.StoreBackend) {
        switch self {
        case .sqlite(let path):
            if existing, !FileManager.default.fileExists(atPath: path) { throw StoreError.missingFile(path: path) }
            let database = try StoreDatabase.open(path: path)
            do {
                _ = try StoreFileLock.acquire(path: path)
            } catch {
                try? database.close()
                throw error
            }
            return SQLiteBackend(database)
        case .postgresql(let url, let password):
            let secret = try password.map { location throws(CredentialError) in try CredentialFile.readStorePassword(at: location) }
            return try StoreOpening.open(url: url, password: secret, logger: logger, exclusive: true)
        }
    }

    /// Walks the chain where it is stored (`AuditVerifier` on a file, `PostgresAuditVerifier`
    /// on a database).
    func verify(masterKey: Data, expecting: AuditHead?, logger: Logger) throws -> AuditVerification {
        switch self {
        case .sqlite(let path):
            return try AuditVerifier.verify(storePath: path, masterKey: masterKey, expecting: expecting)
        case .postgresql(let url, let password):
            let secret = try password.map { location throws(CredentialError) in try CredentialFile.readStorePassword(at: location) }
            return try PostgresAuditVerifier.verify(
                options: StoreOpening.options(url, password: secret), masterKey: masterKey, expecting: expecting, logger: logger)
        }
    }
}
