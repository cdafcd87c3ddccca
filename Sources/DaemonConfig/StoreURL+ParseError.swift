extension StoreURL {
    /// Why `store.url` was refused. The validator prefixes the key; no case carries the URL.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case scheme
        case fragment
        case noUser
        case passwordInURL
        case noHost
        case badHost
        case badPort
        case noDatabase
        case badDatabase
        case unknownParameter(String)
        case repeatedParameter(String)
        case emptyParameter(String)
        case badSSLMode(String)
        case badSocketDirectory
        case badRootCert
        case rootCertWithoutVerification

        public var description: String {
            switch self {
            case .scheme: "must start with postgresql:// or postgres://"
            case .fragment: "must not have a fragment (#…)"
            case .noUser: "names no user; write postgresql://USER@HOST:PORT/DATABASE"
            case .passwordInURL:
                "holds a password; the URL is shown in status and in logs, so the password belongs in store.password_file"
            case .noHost: "names no host; write postgresql://USER@HOST:PORT/DATABASE, or give ?host=/socket/directory"
            case .badHost: "the host must be a host name, an IPv4 address or a bracketed IPv6 address"
            case .badPort: "the port must be a number in 1–65535"
            case .noDatabase: "names no database; write postgresql://USER@HOST:PORT/DATABASE"
            case .badDatabase: "the database name must be at most 63 bytes, without /"
            case .unknownParameter(let name):
                "unknown query parameter \"\(name)\"; wbkeyd takes sslmode, host (a socket directory) and sslrootcert"
            case .repeatedParameter(let name): "the query parameter \(name) is given twice"
            case .emptyParameter(let name): "the query parameter \(name) has no value"
            case .badSSLMode(let mode):
                "sslmode \"\(mode)\" is not accepted; use disable, require, verify-ca or verify-full (prefer and allow could fall back to clear text unnoticed)"
            case .badSocketDirectory: "host= must be the absolute path of the server's socket directory"
            case .badRootCert: "sslrootcert must be an absolute path"
            case .rootCertWithoutVerification: "sslrootcert is only used with sslmode=verify-ca or verify-full"
            }
        }
    }
}
