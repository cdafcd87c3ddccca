/// What `wbkeyd check-config` prints. On success: the effective settings as TOML, with the
/// place each credential comes from (never the credential) and what the names resolved to.
/// On failure: one line per problem, `PATH: KEY: reason`.
public struct ConfigurationReport: Sendable, Equatable {
    public let path: String
    public let loaded: LoadedConfiguration?
    public let problems: [ConfigurationProblem]

    public init(loaded: LoadedConfiguration) {
        self.path = loaded.path
        self.loaded = loaded
        self.problems = []
    }

    public init(path: String, problems: [ConfigurationProblem]) {
        self.path = path
        self.loaded = nil
        self.problems = problems
    }

    /// Loads the file and then opens both credential files as the daemon would at start,
    /// so that a file with the wrong mode is caught by the check and not by the restart.
    /// The credentials are read and dropped at once. `matchesStore` checks the master key
    /// against the store (its key id and check value) and returns the reason it does not fit,
    /// or nil; it lives with the store, which this module does not know.
    public static func check(
        path: String, loader: ConfigurationLoader,
        matchesStore: (LoadedConfiguration, MasterKey) -> String? = { _, _ in nil }
    ) -> ConfigurationReport {
        let loaded: LoadedConfiguration
        do {
            loaded = try loader.load(path: path)
        } catch {
            return ConfigurationReport(path: path, problems: error.problems)
        }
        var problems: [ConfigurationProblem] = []
        do {
            _ = try CredentialFile.readClientSecret(at: loaded.credentials.clientSecret)
        } catch {
            problems.append(ConfigurationProblem(file: path, key: error.key, reason: "\(error.path) \(error.reason)"))
        }
        do {
            let key = try CredentialFile.readMasterKey(at: loaded.credentials.masterKey)
            if let reason = matchesStore(loaded, key) {
                problems.append(ConfigurationProblem(file: path, key: loaded.credentials.masterKey.key, reason: reason))
            }
        } catch {
            problems.append(ConfigurationProblem(file: path, key: error.key, reason: "\(error.path) \(error.reason)"))
        }
        if let storePassword = loaded.credentials.storePassword {
            do {
                _ = try CredentialFile.readStorePassword(at: storePassword)
            } catch {
                problems.append(ConfigurationProblem(file: path, key: error.key, reason: "\(error.path) \(error.reason)"))
            }
        }
        return problems.isEmpty ? ConfigurationReport(loaded: loaded) : ConfigurationReport(path: path, problems: problems)
    }

    public var isValid: Bool { loaded != nil && problems.isEmpty }

    /// What a running daemon decides on SIGHUP (`Daemon.reload`): the file loaded by the
    /// same `ConfigurationLoader.load`, and nothing else. A reload keeps the credentials,
    /// store, spool and socket it started with (`ConfigurationChanges.restartKeys`), so
    /// their files and paths are not its business: they are checked by the full check
    /// before a restart. Under systemd 252 an `ExecReload=` process cannot read
    /// `$CREDENTIALS_DIRECTORY` at all, which is why this check must not need it.
    public static func reloadCheck(path: String, loader: ConfigurationLoader) -> ConfigurationReport {
        do {
            return ConfigurationReport(loaded: try loader.load(path: path))
        } catch {
            return ConfigurationReport(path: path, problems: error.problems)
        }
    }

    /// What `check-config --reload` prints for a file a reload would apply: which keys
    /// wait for the next restart, as the daemon's reload warns for each one that changed.
    public var reloadText: String {
        guard isValid else { return text }
        let restartOnly = DaemonConfiguration().settings.map(\.key).filter(ConfigurationChanges.restartKeys.contains)
        return "# \(path): a reload would apply this file; a change to "
            + restartOnly.joined(separator: ", ")
            + " takes effect at the next restart (check it with `wbkeyd check-config` before restarting)\n"
    }

    /// The text to print, ending in a newline.
    public var text: String {
        guard let loaded, problems.isEmpty else {
            return problems.map { "\($0)\n" }.joined()
        }
        var lines = ["# \(path): configuration is valid"]
        var section = ""
        let notes = Self.notes(for: loaded)
        for setting in effectiveSettings(of: loaded) {
            if setting.section != section {
                section = setting.section
                lines += ["", "[\(section)]"]
            }
            var line = "\(setting.name) = \(setting.value)"
            if let note = notes[setting.key] { line += "  # \(note)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The settings with credential files as the paths they resolve to.
    private func effectiveSettings(of loaded: LoadedConfiguration) -> [ConfigurationSetting] {
        loaded.configuration.settings.map { setting in
            switch setting.key {
            case loaded.credentials.clientSecret.key:
                ConfigurationSetting(key: setting.key, value: TOMLRendering.string(loaded.credentials.clientSecret.path))
            case loaded.credentials.masterKey.key:
                ConfigurationSetting(key: setting.key, value: TOMLRendering.string(loaded.credentials.masterKey.path))
            case loaded.credentials.storePassword?.key:
                ConfigurationSetting(key: setting.key, value: TOMLRendering.string(loaded.credentials.storePassword?.path ?? ""))
            default:
                setting
            }
        }
    }

    private static func notes(for loaded: LoadedConfiguration) -> [String: String] {
        var notes: [String: String] = [:]
        for location in [loaded.credentials.clientSecret, loaded.credentials.masterKey] + [loaded.credentials.storePassword].compactMap({ $0 }) {
            notes[location.key] = switch location.source {
            case .configured: "credential read from this file"
            case .credentialsDirectory: "credential from $CREDENTIALS_DIRECTORY (setting empty)"
            }
        }
        let configuration = loaded.configuration
        if configuration.store.backend == .postgresql {
            notes["store.path"] = "only its .witness file: backend is postgresql"
            if loaded.credentials.storePassword == nil {
                notes["store.password_file"] = "none: the server must authenticate wbkeyd without a password"
            }
            if configuration.store.instance.isEmpty {
                notes["store.instance"] = "empty: the host name, \(configuration.store.instanceName())"
            }
        }
        let term = configuration.store.leaseTerm(requestTimeout: configuration.whitebit.requestTimeout)
        if term > configuration.store.lease {
            notes["store.lease"] = "held as \(TOMLRendering.duration(term)): twice whitebit.request_timeout and 2 s"
        }
        if configuration.whitebit.redirectURI.isEmpty {
            notes["whitebit.redirect_uri"] = "none: redirect_uri is not sent"
        }
        if configuration.whitebit.sourceAddress.isEmpty {
            notes["whitebit.source_address"] = "none: connections leave from the address the routing picks"
        }
        notes["control.admin_group"] = loaded.access.adminGroup.map { "gid \($0.gid): its members and root run admin commands" } ?? "admin commands: root only"
        let readers = loaded.access.secretReaderUsers.map { "user \($0.name) (uid \($0.uid))" }
            + loaded.access.secretReaderGroups.map { "group \($0.name) (gid \($0.gid))" }
        notes["control.secret_readers"] = readers.isEmpty ? "secret: root only" : "root, " + readers.joined(separator: ", ")
        let agents = loaded.access.agentUsers.map { "user \($0.name) (uid \($0.uid))" }
            + loaded.access.agentGroups.map { "group \($0.name) (gid \($0.gid))" }
        notes["control.agent_users"] = agents.isEmpty ? "balance, history, sign: root only (and admins for balance, history)" : "root, " + agents.joined(separator: ", ")
        if !configuration.control.secretDelivery {
            notes["control.secret_delivery"] = "agent mode: `secret` is refused for everyone, root too"
        }
        return notes
    }
}
