/// The settings of wbkeyd.toml as written (docs/design.md §3), with the defaults of that section.
/// Names (admin group, secret readers) and credential file settings are kept as the operator
/// wrote them; what they resolve to lives in `LoadedConfiguration`, because resolving them
/// depends on the machine (the account database, `$CREDENTIALS_DIRECTORY`).
public struct DaemonConfiguration: Sendable, Equatable {
    public var whitebit: WhiteBIT
    public var spool: Spool
    public var keys: Keys
    public var store: Store
    public var control: Control
    public var agent: Agent
    public var metrics: Metrics

    public init(
        whitebit: WhiteBIT = WhiteBIT(), spool: Spool = Spool(), keys: Keys = Keys(),
        store: Store = Store(), control: Control = Control(), agent: Agent = Agent(), metrics: Metrics = Metrics()
    ) {
        self.whitebit = whitebit
        self.spool = spool
        self.keys = keys
        self.store = store
        self.control = control
        self.agent = agent
        self.metrics = metrics
    }

    /// `[whitebit]`: where WhiteBIT is and how hard wbkeyd may push it.
    public struct WhiteBIT: Sendable, Equatable {
        public var baseURL: String = "https://whitebit.com"
        /// No default: the OAuth client is the partner's own, so an empty value is refused.
        public var clientID: String = ""
        /// Empty: `$CREDENTIALS_DIRECTORY/client-secret`.
        public var clientSecretFile: String = ""
        /// Empty: no `redirect_uri` is sent and `authorize-url` leaves it out.
        public var redirectURI: String = ""
        public var requestTimeout: Duration = .seconds(10)
        public var maxConcurrency: Int = 8
        /// Requests per second (token bucket); fractions allowed, e.g. 0.5.
        public var rateLimit: Double = 10
        /// The local IPv4 or IPv6 address every connection to WhiteBIT is sent from
        /// (WhiteBIT's limits are per IP, docs/whitebit-api.md §5.4, so instances on one
        /// host can each spend their own budget); empty: the address the routing picks.
        public var sourceAddress: String = ""

        public init() {}
    }

    /// `[spool]`: the Maildir-style drop directory for authorizations (docs/design.md §4).
    public struct Spool: Sendable, Equatable {
        public var directory: String = "/var/spool/wbkeyd"
        public var rescanInterval: Duration = .seconds(30)
        public var maxCodeAge: Duration = .seconds(600)

        public init() {}
    }

    /// `[keys]`: how wbkeyd watches a key once it holds a token.
    public struct Keys: Sendable, Equatable {
        public var infoPollInterval: Duration = .seconds(2)
        public var infoPollBudget: Duration = .seconds(30)
        /// Jittered by the scheduler; this is the mean.
        public var reconcileInterval: Duration = .seconds(15 * 60)
        public var expiryMargin: Duration = .seconds(5 * 60)
        /// One signed read right after a secret is sealed (docs/design.md §12).
        public var verifyKey: Bool = true
        /// Dormant and disabled keys: one signed read per interval; nil is `off`.
        public var probeInterval: Duration? = .seconds(24 * 3_600)

        public init() {}
    }

    /// `[store]`: the database (SQLite file or PostgreSQL, docs/design.md §13) and the key
    /// that seals its secrets.
    public struct Store: Sendable, Equatable {
        /// The SQLite file. With `backend = "postgresql"` no database is made there: it only
        /// names where this host keeps its audit witness (`PATH.witness`, docs/audit.md),
        /// a local copy of the shared chain's head.
        public var path: String = "/var/lib/wbkeyd/wbkeyd.sqlite3"
        /// Empty: `$CREDENTIALS_DIRECTORY/master-key`.
        public var masterKeyFile: String = ""
        public var auditRetention: Duration = .seconds(400 * 86_400)
        public var backend: StoreBackend = .sqlite
        /// `postgresql://USER@HOST:PORT/DB?sslmode=…`; required with `backend = "postgresql"`,
        /// refused with SQLite. See `StoreURL`.
        public var url: String = ""
        /// Empty: `$CREDENTIALS_DIRECTORY/store-password` if that file exists, else no
        /// password (peer or trust authentication). Only with `backend = "postgresql"`.
        public var passwordFile: String = ""
        /// This instance's name among those sharing one database; empty: the host name
        /// (`instanceName`).
        public var instance: String = ""
        /// How long another instance waits before it takes over the grants of one that
        /// stopped renewing (docs/design.md §13); renewed every third of it.
        public var lease: Duration = .seconds(30)

        public init() {}

        /// The parsed URL; nil when the backend is SQLite or the URL is invalid (the
        /// validator refuses a loaded file with an invalid one).
        public var storeURL: StoreURL? {
            backend == .postgresql ? try? StoreURL(parsing: url) : nil
        }

        /// `instance`, or the host name when it is empty.
        public func instanceName(hostName: () -> String = StoreInstance.hostName) -> String {
            instance.isEmpty ? hostName() : instance
        }

        /// The lease as held: `lease`, or longer when a WhiteBIT call could not fit in it.
        /// A call starts only while the lease has its timeout and 2 s left, and a renewal
        /// comes every third of the lease, so the lease must be at least twice that.
        public func leaseTerm(requestTimeout: Duration) -> Duration {
            max(lease, (requestTimeout + .seconds(2)) * 2)
        }
    }

    /// `[control]`: the admin socket and who may do what on it (docs/design.md §7).
    public struct Control: Sendable, Equatable {
        public var socket: String = "/run/wbkeyd/control.sock"
        public var mode: SocketMode = SocketMode(0o660)
        /// Empty: only root may run admin commands.
        public var adminGroup: String = "wbkeyd-admin"
        /// The group of a socket wbkeyd binds itself; empty: `adminGroup`. Connecting needs
        /// it (with mode 0660), so agents and secret readers who are not admins are members
        /// of this group, and so are the admins (docs/design.md §12).
        public var socketGroup: String = ""
        public var secretReaders: [SecretReader] = []
        /// `secret` reads one uid may make per minute (a token bucket that holds as many).
        public var secretReadsPerMinute: Int = 6
        /// Who may run `balance`, `history` and `sign` (docs/design.md §12): the partner
        /// application's account or group, without being an admin.
        public var agentUsers: [SecretReader] = []
        /// False: `secret` is refused for everyone, root too; wbkeyd signs and reads instead.
        public var secretDelivery: Bool = true

        public init() {}
    }

    /// `[agent]`: what wbkeyd signs for the partner application (docs/design.md §12).
    public struct Agent: Sendable, Equatable {
        /// The six signed account reads of docs/whitebit-api.md §4: all read-only, so a
        /// partner that may sign can read everything the consent shows and move nothing.
        /// Trading or withdrawal paths are signed only if the operator adds them here.
        public static let readPaths = [
            "/api/v4/main-account/balance", "/api/v4/trade-account/balance", "/api/v4/main-account/history",
            "/api/v4/convert/history", "/api/v4/trade-account/order/history", "/api/v4/trade-account/executed-history",
        ]

        public var signPaths: [String] = Agent.readPaths

        public init() {}
    }

    /// `[metrics]`: the optional HTTP listener a Prometheus server scrapes (docs/design.md §8).
    public struct Metrics: Sendable, Equatable {
        /// `HOST:PORT`; empty: no listener (the default). See `MetricsListenAddress`.
        public var listen: String = ""

        public init() {}

        /// The parsed address; nil when the listener is off or the value is invalid (the
        /// validator refuses a loaded file with an invalid one).
        public var listenAddress: MetricsListenAddress? {
            listen.isEmpty ? nil : try? MetricsListenAddress(parsing: listen)
        }
    }
}

/// Where the metrics listener binds: a literal address, never a name that DNS could move
/// elsewhere (`localhost` is the one name, and means 127.0.0.1), and never the wildcard:
/// the endpoint has no authentication, so the operator names the one interface it is for.
public struct MetricsListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// `127.0.0.1`, `::1` (without brackets).
    public let host: String
    /// 0 binds a port the kernel picks (logged at start; for tests).
    public let port: Int

    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case noPort
        case badPort
        case notAnAddress
        case wildcard

        public var description: String {
            switch self {
            case .noPort: "must be HOST:PORT, e.g. \"127.0.0.1:9867\" or \"[::1]:9867\""
            case .badPort: "the port must be a number in 0–65535"
            case .notAnAddress: "the host must be a literal IPv4 address, a bracketed IPv6 address or localhost"
            case .wildcard: "listens on every interface; name one address (127.0.0.1 for a Prometheus on this machine)"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { throw .noPort }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            guard IPLiteral.isIPv6(String(hostPart)) else { throw .notAnAddress }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .noPort }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard hostPart.lowercased() == "localhost" || IPLiteral.isIPv4(String(hostPart)) else {
                throw hostPart.contains(":") ? .noPort : .notAnAddress
            }
        }
        guard !portPart.isEmpty, portPart.utf8.allSatisfy({ (0x30...0x39).contains($0) }), portPart.count <= 5,
              let port = Int(portPart), (0...65_535).contains(port)
        else { throw .badPort }
        let host = hostPart.lowercased() == "localhost" ? "127.0.0.1" : String(hostPart)
        guard !IPLiteral.isUnspecified(host) else { throw .wildcard }
        self.host = host
        self.port = port
    }

    public var isLoopback: Bool { LoopbackHost.contains(host) }

    /// `127.0.0.1:9867`, `[::1]:9867`
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The permission bits of the control socket, written in the config as an octal string
/// (`"0660"`) because a TOML integer `0660` would be read as decimal six hundred sixty.
public struct SocketMode: Sendable, Hashable, CustomStringConvertible {
    public let bits: UInt16

    public init(_ bits: UInt16) {
        self.bits = bits
    }

    /// Why a mode string was refused.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case notOctal
        case specialBits
        case ownerCannotReadWrite

        public var description: String {
            switch self {
            case .notOctal: "must be 3 or 4 octal digits, e.g. \"0660\""
            case .specialBits: "setuid, setgid and sticky bits are not allowed on a socket"
            case .ownerCannotReadWrite: "must give the owner read and write, e.g. \"0600\" or \"0660\""
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        guard (3...4).contains(text.count), text.allSatisfy({ ("0"..."7").contains($0) }),
              let bits = UInt16(text, radix: 8)
        else { throw .notOctal }
        guard bits & 0o7000 == 0 else { throw .specialBits }
        guard bits & 0o600 == 0o600 else { throw .ownerCannotReadWrite }
        self.bits = bits
    }

    /// Four digits with a leading zero, as `chmod` and the config write it.
    public var description: String {
        let digits = String(bits, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// One entry of `control.secret_readers`: `user:NAME`, `group:NAME`, or a bare `NAME`
/// that is looked up as a user first and as a group if no such user exists.
public enum SecretReader: Sendable, Hashable, CustomStringConvertible {
    case user(String)
    case group(String)
    case userOrGroup(String)

    public init(parsing text: String) {
        if text.hasPrefix("user:") {
            self = .user(String(text.dropFirst(5)))
        } else if text.hasPrefix("group:") {
            self = .group(String(text.dropFirst(6)))
        } else {
            self = .userOrGroup(text)
        }
    }

    public var name: String {
        switch self {
        case .user(let name), .group(let name), .userOrGroup(let name): name
        }
    }

    /// The entry as the operator wrote it.
    public var description: String {
        switch self {
        case .user(let name): "user:\(name)"
        case .group(let name): "group:\(name)"
        case .userOrGroup(let name): name
        }
    }
}
