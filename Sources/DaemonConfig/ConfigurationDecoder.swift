import TOMLKit

/// Maps a parsed TOML document onto `DaemonConfiguration`: types and syntax of each value,
/// unknown sections and keys. Whether a well-typed value is sane is the validator's job.
struct ConfigurationDecoder {
    static let sections = ["whitebit", "spool", "keys", "store", "control", "agent", "metrics"]

    struct Decoded {
        var configuration = DaemonConfiguration()
        var problems: [ConfigurationProblem] = []
        /// Sections and dotted keys already reported; validation leaves them alone.
        var faulted: Set<String> = []

        func isFaulted(_ key: String) -> Bool {
            faulted.contains(key) || faulted.contains(String(key.prefix { $0 != "." }))
        }
    }

    let file: String

    func decode(_ root: TOMLTable) -> Decoded {
        var decoded = Decoded()
        decodeSection("whitebit", of: root, into: &decoded) { reader, settings in
            Self.decodeWhiteBIT(&reader, into: &settings.whitebit)
        }
        decodeSection("spool", of: root, into: &decoded) { reader, settings in
            Self.decodeSpool(&reader, into: &settings.spool)
        }
        decodeSection("keys", of: root, into: &decoded) { reader, settings in
            Self.decodeKeys(&reader, into: &settings.keys)
        }
        decodeSection("store", of: root, into: &decoded) { reader, settings in
            Self.decodeStore(&reader, into: &settings.store)
        }
        decodeSection("control", of: root, into: &decoded) { reader, settings in
            Self.decodeControl(&reader, into: &settings.control)
        }
        decodeSection("agent", of: root, into: &decoded) { reader, settings in
            if let values = reader.strings("sign_paths") { settings.agent.signPaths = values }
        }
        decodeSection("metrics", of: root, into: &decoded) { reader, settings in
            if let value = reader.string("listen") { settings.metrics.listen = value }
        }
        for (name, value) in root where !Self.sections.contains(name) {
            let reason: String
            if value.type == .table {
                let guess = TOMLSectionReader.closest(to: name, among: Self.sections)
                reason = "unknown section" + (guess.map { "; did you mean [\($0)]?" } ?? "")
            } else {
                reason = "unknown key; every setting belongs in a section such as [whitebit]"
            }
            decoded.problems.append(ConfigurationProblem(file: file, key: name, reason: reason))
        }
        return decoded
    }

    private func decodeSection(
        _ name: String, of root: TOMLTable, into decoded: inout Decoded,
        _ body: (inout TOMLSectionReader, inout DaemonConfiguration) -> Void
    ) {
        guard let value = root[name] else { return }
        guard let table = value.table else {
            let reason = "must be a table ([\(name)]), not \(TOMLSectionReader.name(of: value.type))"
            decoded.problems.append(ConfigurationProblem(file: file, key: name, reason: reason))
            decoded.faulted.insert(name)
            return
        }
        var reader = TOMLSectionReader(file: file, section: name, table: table)
        body(&reader, &decoded.configuration)
        reader.reportUnknownKeys()
        decoded.problems += reader.problems
        decoded.faulted.formUnion(reader.faultedKeys)
    }

    private static func decodeWhiteBIT(_ reader: inout TOMLSectionReader, into settings: inout DaemonConfiguration.WhiteBIT) {
        if let value = reader.string("base_url") { settings.baseURL = value }
        if let value = reader.string("client_id") { settings.clientID = value }
        if let value = reader.string("client_secret_file") { settings.clientSecretFile = value }
        if let value = reader.string("redirect_uri") { settings.redirectURI = value }
        if let value = reader.duration("request_timeout") { settings.requestTimeout = value }
        if let value = reader.integer("max_concurrency") { settings.maxConcurrency = value }
        if let value = reader.number("rate_limit") { settings.rateLimit = value }
        if let value = reader.string("source_address") { settings.sourceAddress = value }
    }

    private static func decodeSpool(_ reader: inout TOMLSectionReader, into settings: inout DaemonConfiguration.Spool) {
        if let value = reader.string("directory") { settings.directory = value }
        if let value = reader.duration("rescan_interval") { settings.rescanInterval = value }
        if let value = reader.duration("max_code_age") { settings.maxCodeAge = value }
    }

    private static func decodeKeys(_ reader: inout TOMLSectionReader, into settings: inout DaemonConfiguration.Keys) {
        if let value = reader.duration("info_poll_interval") { settings.infoPollInterval = value }
        if let value = reader.duration("info_poll_budget") { settings.infoPollBudget = value }
        if let value = reader.duration("reconcile_interval") { settings.reconcileInterval = value }
        if let value = reader.duration("expiry_margin") { settings.expiryMargin = value }
        if let value = reader.boolean("verify_key") { settings.verifyKey = value }
        if let value = reader.durationOrOff("probe_interval") { settings.probeInterval = value }
    }

    private static func decodeStore(_ reader: inout TOMLSectionReader, into settings: inout DaemonConfiguration.Store) {
        let path = reader.string("path")
        if let path { settings.path = path }
        if let value = reader.string("master_key_file") { settings.masterKeyFile = value }
        if let value = reader.duration("audit_retention") { settings.auditRetention = value }
        if let value = reader.string("backend") {
            if let backend = StoreBackend(rawValue: value) {
                settings.backend = backend
            } else {
                reader.record("backend", "\(TOMLRendering.string(value)) must be \"sqlite\" or \"postgresql\"")
            }
        }
        if let value = reader.string("url") { settings.url = value }
        if let value = reader.string("password_file") { settings.passwordFile = value }
        if let value = reader.string("instance") { settings.instance = value }
        if let value = reader.duration("lease") { settings.lease = value }
    }

    private static func decodeControl(_ reader: inout TOMLSectionReader, into settings: inout DaemonConfiguration.Control) {
        if let value = reader.string("socket") { settings.socket = value }
        if let value = reader.string("mode") {
            do {
                settings.mode = try SocketMode(parsing: value)
            } catch {
                reader.record("mode", "\"\(value)\": \(error)")
            }
        }
        if let value = reader.string("admin_group") { settings.adminGroup = value }
        if let value = reader.string("socket_group") { settings.socketGroup = value }
        if let values = reader.strings("secret_readers") {
            settings.secretReaders = values.map(SecretReader.init(parsing:))
        }
        if let value = reader.integer("secret_reads_per_minute") { settings.secretReadsPerMinute = value }
        if let values = reader.strings("agent_users") {
            settings.agentUsers = values.map(SecretReader.init(parsing:))
        }
        if let value = reader.bool("secret_delivery") { settings.secretDelivery = value }
    }
}
