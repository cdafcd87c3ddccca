import DaemonConfig
import Foundation
import Logging
import PostgresStore
import Sensitive
import Store

/// `[store] backend` made real (docs/design.md §13): the SQLite file, or the PostgreSQL
/// database named by `store.url` with the password credential. `wbkeyd migrate-store` and
/// `audit-verify` open a URL given on their command line the same way.
public enum StoreOpening {
    static func open(_ loaded: LoadedConfiguration, logger: Logger) throws -> any Store.StoreBackend {
        let settings = loaded.configuration.store
        switch settings.backend {
        case .sqlite:
            let database = try StoreDatabase.open(path: settings.path)
            do {
                // Held until the process ends (see StoreFileLock).
                _ = try StoreFileLock.acquire(path: settings.path)
            } catch {
                try? database.close()
                throw error
            }
            return SQLiteBackend(database)
        case .postgresql:
            guard let url = settings.storeURL else {
                throw StoreError.unsupported(operation: "opening a PostgreSQL store without store.url", backend: "postgresql")
            }
            let password = try loaded.credentials.storePassword.map { try CredentialFile.readStorePassword(at: $0) }
            return try open(url: url, password: password, logger: logger, exclusive: true)
        }
    }

    /// `exclusive`: this process is the one that writes the database (a daemon,
    /// `migrate-store`); another that holds it is refused as `inUse`.
    public static func open(url: StoreURL, password: Sensitive?, logger: Logger, exclusive: Bool) throws(StoreError) -> any Store.StoreBackend {
        try PostgresBackend.open(options: options(url, password: password), logger: logger, exclusive: exclusive)
    }

    public static func options(_ url: StoreURL, password: Sensitive?) -> PostgresStoreOptions {
        let endpoint: PostgresStoreOptions.Endpoint
        if let directory = url.socketDirectory {
            endpoint = .socket(directory: directory, port: url.port)
        } else {
            let host: String = switch url.host {
            case .name(let text), .ipv4(let text), .ipv6(let text): text
            case nil: "localhost"
            }
            endpoint = .tcp(host: host, port: url.port)
        }
        let tls: PostgresStoreOptions.TLSMode = switch url.sslMode {
        case .disable: .disable
        case .require: .require
        case .verifyCA: .verifyCA
        case .verifyFull: .verifyFull
        }
        return PostgresStoreOptions(
            endpoint: endpoint, user: url.user, database: url.database, password: password, tls: tls,
            rootCertificatePath: url.sslRootCert)
    }
}
