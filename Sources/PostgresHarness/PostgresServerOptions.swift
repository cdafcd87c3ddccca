/// How a test server is set up. The defaults trade durability for speed, which no test of
/// wbkeyd's logic needs; a benchmark that measures commits sets `fsync = true`.
public struct PostgresServerOptions: Sendable {
    /// Off: no fsync and no full-page writes, which only a crash of the machine would
    /// show. Commits stay synchronous: what a commit returned must survive `kill()`, which
    /// the store's crash tests rely on. On: PostgreSQL's own defaults.
    public var fsync: Bool
    public var maxConnections: Int
    /// Further `name = value` settings passed as `-c name=value`, after the harness's own.
    public var settings: [String: String]
    public var startTimeout: Duration

    public init(fsync: Bool = false, maxConnections: Int = 200, settings: [String: String] = [:], startTimeout: Duration = .seconds(60)) {
        self.fsync = fsync
        self.maxConnections = maxConnections
        self.settings = settings
        self.startTimeout = startTimeout
    }

    /// The postgres command line's settings for a server on `port` with its socket in
    /// `socketDirectory`.
    func commandLineSettings(port: Int, socketDirectory: String) -> [String] {
        var named: [(String, String)] = [
            ("listen_addresses", "127.0.0.1"),
            ("port", String(port)),
            ("unix_socket_directories", socketDirectory),
            ("max_connections", String(maxConnections)),
            ("logging_collector", "off"),
            ("log_destination", "stderr"),
            ("log_line_prefix", "%m [%p] "),
        ]
        if !fsync { named += [("fsync", "off"), ("full_page_writes", "off")] }
        named += settings.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return named.flatMap { ["-c", "\($0.0)=\($0.1)"] }
    }
}
