/// One setting by its dotted key, its value rendered as TOML. Reload diffs and the
/// check-config summary both work from this one list, so they cannot disagree about what
/// the keys are or how a value reads.
public struct ConfigurationSetting: Sendable, Equatable {
    public let key: String
    public let value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// `keys`, from `keys.reconcile_interval`.
    public var section: String { String(key.prefix { $0 != "." }) }
    /// `reconcile_interval`, from `keys.reconcile_interval`.
    public var name: String { String(key.drop { $0 != "." }.dropFirst()) }
}

extension DaemonConfiguration {
    /// Every key of docs/design.md §3 in the order of the example file.
    public var settings: [ConfigurationSetting] {
        let entries: [(String, String)] = [
            ("whitebit.base_url", TOMLRendering.string(whitebit.baseURL)),
            ("whitebit.client_id", TOMLRendering.string(whitebit.clientID)),
            ("whitebit.client_secret_file", TOMLRendering.string(whitebit.clientSecretFile)),
            ("whitebit.redirect_uri", TOMLRendering.string(whitebit.redirectURI)),
            ("whitebit.request_timeout", TOMLRendering.duration(whitebit.requestTimeout)),
            ("whitebit.max_concurrency", String(whitebit.maxConcurrency)),
            ("whitebit.rate_limit", TOMLRendering.number(whitebit.rateLimit)),
            ("whitebit.source_address", TOMLRendering.string(whitebit.sourceAddress)),
            ("spool.directory", TOMLRendering.string(spool.directory)),
            ("spool.rescan_interval", TOMLRendering.duration(spool.rescanInterval)),
            ("spool.max_code_age", TOMLRendering.duration(spool.maxCodeAge)),
            ("keys.info_poll_interval", TOMLRendering.duration(keys.infoPollInterval)),
            ("keys.info_poll_budget", TOMLRendering.duration(keys.infoPollBudget)),
            ("keys.reconcile_interval", TOMLRendering.duration(keys.reconcileInterval)),
            ("keys.expiry_margin", TOMLRendering.duration(keys.expiryMargin)),
            ("keys.verify_key", String(keys.verifyKey)),
            ("keys.probe_interval", keys.probeInterval.map(TOMLRendering.duration) ?? TOMLRendering.string("off")),
            ("store.path", TOMLRendering.string(store.path)),
            ("store.master_key_file", TOMLRendering.string(store.masterKeyFile)),
            ("store.audit_retention", TOMLRendering.duration(store.auditRetention)),
            ("store.backend", TOMLRendering.string(store.backend.rawValue)),
            ("store.url", TOMLRendering.string(StoreURL.shown(store.url))),
            ("store.password_file", TOMLRendering.string(store.passwordFile)),
            ("store.instance", TOMLRendering.string(store.instance)),
            ("store.lease", TOMLRendering.duration(store.lease)),
            ("control.socket", TOMLRendering.string(control.socket)),
            ("control.mode", TOMLRendering.string(control.mode.description)),
            ("control.admin_group", TOMLRendering.string(control.adminGroup)),
            ("control.socket_group", TOMLRendering.string(control.socketGroup)),
            ("control.secret_readers", TOMLRendering.array(control.secretReaders.map(\.description))),
            ("control.secret_reads_per_minute", String(control.secretReadsPerMinute)),
            ("control.agent_users", TOMLRendering.array(control.agentUsers.map(\.description))),
            ("control.secret_delivery", String(control.secretDelivery)),
            ("agent.sign_paths", TOMLRendering.array(agent.signPaths)),
            ("metrics.listen", TOMLRendering.string(metrics.listen)),
        ]
        return entries.map { ConfigurationSetting(key: $0.0, value: $0.1) }
    }
}

/// Values written back as TOML, so that the check-config summary reads like a config file.
enum TOMLRendering {
    static func string(_ text: String) -> String {
        var rendered = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": rendered += "\\\""
            case "\\": rendered += "\\\\"
            case "\n": rendered += "\\n"
            case "\t": rendered += "\\t"
            case "\r": rendered += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                rendered += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: rendered.unicodeScalars.append(scalar)
            }
        }
        return rendered + "\""
    }

    static func duration(_ duration: Duration) -> String {
        string(ConfigDuration.format(duration))
    }

    /// `10` for a whole number, `0.5` otherwise.
    static func number(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return "\(value)"
    }

    static func array(_ strings: [String]) -> String {
        "[" + strings.map(string).joined(separator: ", ") + "]"
    }
}
