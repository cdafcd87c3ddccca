import Foundation

/// Checks well-typed settings against what wbkeyd can actually run with: bands for every
/// number and duration, URL and path shapes. Keys the decoder already faulted are skipped.
struct ConfigurationValidator {
    let file: String
    let skip: (String) -> Bool
    private(set) var problems: [ConfigurationProblem] = []

    init(file: String, skip: @escaping (String) -> Bool) {
        self.file = file
        self.skip = skip
    }

    mutating func validate(_ configuration: DaemonConfiguration) {
        validateWhiteBIT(configuration.whitebit)
        validateSpool(configuration.spool)
        validateKeys(configuration.keys)
        validateStore(configuration.store)
        validateControl(configuration.control)
        validateAgent(configuration.agent)
        validateMetrics(configuration.metrics)
    }

    private mutating func validateAgent(_ settings: DaemonConfiguration.Agent) {
        for path in settings.signPaths {
            if let problem = Self.signPathProblem(path) { report("agent.sign_paths", problem) }
        }
    }

    /// A path `sign` may sign: an absolute `/api/v4/…` path as WhiteBIT's private API
    /// writes them (the body's `request`), nothing a server could read another way.
    static func signPathProblem(_ path: String) -> String? {
        let shown = "\"\(path.prefix(80))\""
        guard path.hasPrefix("/api/v4/"), path.count > "/api/v4/".count else {
            return "\(shown) is not an absolute /api/v4/… path"
        }
        let allowed = path.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard allowed else { return "\(shown) may hold only A-Z a-z 0-9 / - _ . (no query, fragment or spaces)" }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            return "\(shown) has an empty, . or .. segment"
        }
        return nil
    }

    private mutating func validateMetrics(_ settings: DaemonConfiguration.Metrics) {
        guard !settings.listen.isEmpty else { return }
        do {
            _ = try MetricsListenAddress(parsing: settings.listen)
        } catch {
            report("metrics.listen", "\(TOMLRendering.string(settings.listen)): \(error)")
        }
    }

    private mutating func validateWhiteBIT(_ settings: DaemonConfiguration.WhiteBIT) {
        check("whitebit.base_url", Self.baseURLProblem(settings.baseURL))
        check("whitebit.client_id", Self.clientIDProblem(settings.clientID))
        check("whitebit.client_secret_file", Self.optionalFilePathProblem(settings.clientSecretFile))
        if !settings.redirectURI.isEmpty {
            check("whitebit.redirect_uri", Self.urlProblem(settings.redirectURI, allowQuery: true))
        }
        check("whitebit.request_timeout", settings.requestTimeout, ConfigurationBands.requestTimeout)
        let concurrency = ConfigurationBands.maxConcurrency
        if !concurrency.contains(settings.maxConcurrency) {
            report("whitebit.max_concurrency", "\(settings.maxConcurrency) is outside \(concurrency.lowerBound)–\(concurrency.upperBound)")
        }
        let rate = ConfigurationBands.rateLimit
        if !settings.rateLimit.isFinite || !rate.contains(settings.rateLimit) {
            report("whitebit.rate_limit", "\(TOMLRendering.number(settings.rateLimit)) is outside \(TOMLRendering.number(rate.lowerBound))–\(TOMLRendering.number(rate.upperBound)) requests per second")
        }
        check("whitebit.source_address", Self.sourceAddressProblem(settings.sourceAddress))
    }

    /// A literal address, as `bind(2)` takes it: a host name would be resolved once and
    /// could name another machine's address tomorrow. Whether this host holds the address
    /// shows at the first connection (`EADDRNOTAVAIL`), as the request's transport error.
    static func sourceAddressProblem(_ text: String) -> String? {
        guard !text.isEmpty else { return nil }
        let shown = TOMLRendering.string(String(text.prefix(80)))
        guard IPLiteral.isIPv4(text) || IPLiteral.isIPv6(text) else {
            return "\(shown) is not an IPv4 or IPv6 address (a literal such as \"192.0.2.10\" or \"2001:db8::10\", "
                + "without brackets or port); empty: the address the routing picks"
        }
        guard !IPLiteral.isUnspecified(text) else {
            return "\(shown) is the wildcard address, which chooses no source; leave it empty for the address the routing picks"
        }
        return nil
    }

    private mutating func validateSpool(_ settings: DaemonConfiguration.Spool) {
        check("spool.directory", Self.absolutePathProblem(settings.directory))
        check("spool.rescan_interval", settings.rescanInterval, ConfigurationBands.rescanInterval)
        check("spool.max_code_age", settings.maxCodeAge, ConfigurationBands.maxCodeAge)
    }

    private mutating func validateKeys(_ settings: DaemonConfiguration.Keys) {
        let interval = settings.infoPollInterval
        let intervalBand = ConfigurationBands.infoPollInterval
        check("keys.info_poll_interval", interval, intervalBand)
        let budget = settings.infoPollBudget
        let ceiling = ConfigurationBands.infoPollBudgetCeiling
        // Compared only with an interval that is itself sound, so one mistake is one problem.
        let intervalIsSound = !skip("keys.info_poll_interval") && intervalBand.contains(interval)
        if budget > ceiling {
            report("keys.info_poll_budget", "\(ConfigDuration.format(budget)) is over the \(ConfigDuration.format(ceiling)) ceiling")
        } else if intervalIsSound, budget < interval {
            report("keys.info_poll_budget", "\(ConfigDuration.format(budget)) is shorter than keys.info_poll_interval (\(ConfigDuration.format(interval)))")
        }
        check("keys.reconcile_interval", settings.reconcileInterval, ConfigurationBands.reconcileInterval)
        check("keys.expiry_margin", settings.expiryMargin, ConfigurationBands.expiryMargin)
        if let probe = settings.probeInterval { check("keys.probe_interval", probe, ConfigurationBands.probeInterval) }
    }

    private mutating func validateStore(_ settings: DaemonConfiguration.Store) {
        check("store.path", Self.filePathProblem(settings.path))
        check("store.master_key_file", Self.optionalFilePathProblem(settings.masterKeyFile))
        check("store.audit_retention", settings.auditRetention, ConfigurationBands.auditRetention)
        switch settings.backend {
        case .postgresql:
            if settings.url.isEmpty {
                report("store.url", "required with backend = \"postgresql\"; postgresql://USER@HOST:PORT/DATABASE?sslmode=verify-full")
            } else {
                do {
                    _ = try StoreURL(parsing: settings.url)
                } catch {
                    report("store.url", "\(error)")
                }
            }
            check("store.password_file", Self.optionalFilePathProblem(settings.passwordFile))
        case .sqlite:
            if !settings.url.isEmpty { report("store.url", "is only used with backend = \"postgresql\" (backend is \"sqlite\")") }
            if !settings.passwordFile.isEmpty {
                report("store.password_file", "is only used with backend = \"postgresql\" (backend is \"sqlite\")")
            }
        }
        check("store.instance", StoreInstance.problem(settings.instance))
        check("store.lease", settings.lease, ConfigurationBands.lease)
    }

    private mutating func validateControl(_ settings: DaemonConfiguration.Control) {
        var socketProblem = Self.filePathProblem(settings.socket)
        let socketBytes = settings.socket.utf8.count
        if socketProblem == nil, socketBytes > ConfigurationBands.socketPathMaxBytes {
            socketProblem = "\(socketBytes) bytes is too long for a Unix socket path (at most \(ConfigurationBands.socketPathMaxBytes))"
        }
        check("control.socket", socketProblem)
        for reader in settings.secretReaders where reader.name.isEmpty {
            report("control.secret_readers", "\"\(reader)\": the name is empty")
        }
        for agent in settings.agentUsers where agent.name.isEmpty {
            report("control.agent_users", "\"\(agent)\": the name is empty")
        }
        let reads = ConfigurationBands.secretReadsPerMinute
        if !reads.contains(settings.secretReadsPerMinute) {
            report("control.secret_reads_per_minute", "\(settings.secretReadsPerMinute) is outside \(reads.lowerBound)–\(reads.upperBound)")
        }
    }

    // MARK: - Shapes

    /// The URL itself is left out of every reason: one written with a password or a token
    /// in it must not end up in the journal through this message.
    static func urlProblem(_ text: String, allowQuery: Bool) -> String? {
        guard let url = URLComponents(string: text), let scheme = url.scheme else {
            return "not an absolute URL"
        }
        guard ["https", "http"].contains(scheme.lowercased()) else { return "the scheme must be https or http" }
        guard let host = url.host, !host.isEmpty else { return "the URL has no host" }
        guard url.user == nil, url.password == nil else { return "credentials do not belong in the URL" }
        guard allowQuery || url.query == nil else { return "the URL must not have a query" }
        guard url.fragment == nil else { return "the URL must not have a fragment" }
        return nil
    }

    /// WhiteBIT's address. Over http the client secret, codes, verifiers, tokens and API
    /// secrets would cross the network in clear, so http is only for a loopback host
    /// (whitebit-sim in tests and the demo).
    static func baseURLProblem(_ text: String) -> String? {
        if let problem = urlProblem(text, allowQuery: false) { return problem }
        guard let url = URLComponents(string: text), url.scheme?.lowercased() == "http" else { return nil }
        if let host = url.host, LoopbackHost.contains(host) { return nil }
        return "http:// is only for a loopback host (127.0.0.0/8, ::1, localhost): it would send the client secret, "
            + "codes, tokens and API secrets in clear; use https"
    }

    static func clientIDProblem(_ text: String) -> String? {
        if text.isEmpty { return "required; set it to the OAuth client id WhiteBIT issued" }
        if text.count > ConfigurationBands.clientIDMaxLength {
            return "longer than \(ConfigurationBands.clientIDMaxLength) characters"
        }
        let visibleASCII = text.unicodeScalars.allSatisfy { $0.value >= 0x21 && $0.value <= 0x7E }
        return visibleASCII ? nil : "must be printable ASCII without spaces"
    }

    static func absolutePathProblem(_ text: String) -> String? {
        if text.isEmpty { return "required; an absolute path" }
        if !text.hasPrefix("/") { return "\"\(text)\" is not an absolute path" }
        return nil
    }

    /// A path that names a file (the store, the socket): absolute and not ending in `/`.
    static func filePathProblem(_ text: String) -> String? {
        if let problem = absolutePathProblem(text) { return problem }
        return text.hasSuffix("/") ? "\"\(text)\" ends in / but must name a file" : nil
    }

    /// Credential file settings: empty means `$CREDENTIALS_DIRECTORY`, else a file path.
    static func optionalFilePathProblem(_ text: String) -> String? {
        text.isEmpty ? nil : filePathProblem(text)
    }

    // MARK: - Recording

    private mutating func check(_ key: String, _ duration: Duration, _ band: DurationBand) {
        if !band.contains(duration) {
            report(key, "\(ConfigDuration.format(duration)) is outside \(band)")
        }
    }

    private mutating func check(_ key: String, _ problem: String?) {
        if let problem { report(key, problem) }
    }

    private mutating func report(_ key: String, _ reason: String) {
        guard !skip(key) else { return }
        problems.append(ConfigurationProblem(file: file, key: key, reason: reason))
    }
}
