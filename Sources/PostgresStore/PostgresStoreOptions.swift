import Sensitive

/// Where the PostgreSQL store is and how to reach it (docs/design.md §13). Built by the
/// daemon from `[store] url` and the password credential; never printed with its password.
public struct PostgresStoreOptions: Sendable {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// libpq's `host=/dir`: the server's socket `dir/.s.PGSQL.PORT`.
        case socket(directory: String, port: Int)
    }

    /// TLS to the server: off, on without checking who answers, or verified against the
    /// trust roots (`verifyCA`: the chain only; `verifyFull`: the chain and the host name).
    public enum TLSMode: String, Sendable {
        case disable, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var endpoint: Endpoint
    public var user: String
    public var database: String
    public var password: Sensitive?
    public var tls: TLSMode
    /// PEM trust roots for `verify-ca` / `verify-full`; nil: the system's.
    public var rootCertificatePath: String?
    /// Readers besides the one writer.
    public var readers: Int

    public init(
        endpoint: Endpoint, user: String, database: String, password: Sensitive?, tls: TLSMode = .verifyFull,
        rootCertificatePath: String? = nil, readers: Int = 3
    ) {
        self.endpoint = endpoint
        self.user = user
        self.database = database
        self.password = password
        self.tls = tls
        self.rootCertificatePath = rootCertificatePath
        self.readers = readers
    }

    /// The store as operators see it in messages and `status`: no password.
    public var displayName: String {
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "postgresql://\(user)@\(shownHost):\(port)/\(database)"
        case .socket(let directory, let port):
            return "postgresql://\(user)@/\(database)?host=\(directory)&port=\(port)"
        }
    }
}
