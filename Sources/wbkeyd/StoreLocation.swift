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

    var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgresql(let url, _): url.text
        }
    }

    /// The store as a backend, held against a running wbkeyd (the SQLite file's lock until
    /// the process ends, the database's instance lock). `existing`: a SQLite file must be
    /// there already (opening one creates it).
    func open(existing: Bool, logger: Logger) throws -> (any Store.StoreBackend) {
        switch self {
        case .sqlite(let path):
            if existing, !FileManager.default.fileExists(atPath: path) { throw StoreError.missingFile(path: path) }
            return SQLiteBackend(try StoreDatabase.openHeld(path: path))
        case .postgresql(let url, let password):
            return try PostgresBackend.open(options: Self.options(url, password), logger: logger, hold: .whole)
        }
    }

    /// Walks the chain where it is stored (`AuditVerifier` on a file, `PostgresAuditVerifier`
    /// on a database).
    func verify(masterKey: Data, expecting: AuditHead?, logger: Logger) throws -> AuditVerification {
        switch self {
        case .sqlite(let path):
            return try AuditVerifier.verify(storePath: path, masterKey: masterKey, expecting: expecting)
        case .postgresql(let url, let password):
            return try PostgresAuditVerifier.verify(
                options: Self.options(url, password), masterKey: masterKey, expecting: expecting, logger: logger)
        }
    }

    /// The connection options the daemon would use, with the password read now.
    private static func options(_ url: StoreURL, _ password: CredentialLocation?) throws -> PostgresStoreOptions {
        StoreOpening.options(url, password: try password.map { location throws(CredentialError) in try CredentialFile.readStorePassword(at: location) })
    }
}
