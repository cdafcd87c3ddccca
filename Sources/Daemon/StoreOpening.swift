import DaemonConfig
import Foundation
import Logging
import PostgresStore
import Sensitive
import Store

/// `[store] backend` made real (docs/design.md §13): the SQLite file, or the PostgreSQL
/// database named by `store.url` with the password credential. `wbkeyd migrate-store` and
/// `audit-verify` map a URL given on their command line with the same `options`.
public enum StoreOpening {
    static func open(_ loaded: LoadedConfiguration, logger: Logger) throws -> any Store.StoreBackend {
        let settings = loaded.configuration.store
        switch settings.backend {
        case .sqlite:
            return SQLiteBackend(try StoreDatabase.openHeld(path: settings.path))
        case .postgresql:
            guard let url = settings.storeURL else {
                throw StoreError.unsupported(operation: "opening a PostgreSQL store without store.url", backend: "postgresql")
            }
            let password = try loaded.credentials.storePassword.map { try CredentialFile.readStorePassword(at: $0) }
            return try PostgresBackend.open(options: options(url, password: password), logger: logger,
                hold: .instance(
                    settings.instanceName(), idleLimit: settings.leaseTerm(requestTimeout: loaded.configuration.whitebit.requestTimeout)))
        }
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
