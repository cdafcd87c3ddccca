/// What a reload (SIGHUP) would change, key by key, and which changes the running daemon
/// can take on and which wait for a restart.
///
/// A restart is needed where the running process holds something built from the setting
/// that cannot be swapped under work in flight:
/// - `store.path`, `store.master_key_file`, `store.backend`, `store.url`,
///   `store.password_file`, `store.instance`, `store.lease`: the open database, the key its
///   secrets are sealed with, and the name and lease this instance holds grants under;
///   switching any mid-run would split one grant's history across stores or owners.
/// - `spool.directory`: the inotify watches and claimed files of the running spool stage.
/// - `control.socket`, `control.mode`: the bound socket (which systemd may have passed in).
/// - `metrics.listen`: the bound listener; a new address is taken at the next restart, and
///   until then the old one keeps serving (one scraper's target never vanishes mid-reload).
/// - `whitebit.base_url`, `whitebit.client_id`, `whitebit.client_secret_file`: every held
///   token belongs to one OAuth client at one WhiteBIT; changing them live would mix the
///   tokens of two clients in one process.
///
/// Everything else is applied live: intervals and budgets (they take effect at the next
/// deadline computed; a spool rescan due later than the new interval is brought forward),
/// request timeout, concurrency and rate limits, the code age limit, audit retention (at
/// the next hourly housekeeping), the redirect URI used for new authorize-urls and token
/// exchanges, `whitebit.source_address` (the rebuilt client's new connections leave from
/// the new address; calls in flight finish on the old client's), and the access lists (with
/// the group of a control socket wbkeyd bound).
public struct ConfigurationChanges: Sendable, Equatable {
    public enum Effect: String, Sendable, Equatable {
        case appliedLive = "applied live"
        case needsRestart = "needs a restart"
    }

    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public let key: String
        public let oldValue: String
        public let newValue: String
        public let effect: Effect

        /// `keys.reconcile_interval: "15m" -> "10m" (applied live)`
        public var description: String { "\(key): \(oldValue) -> \(newValue) (\(effect.rawValue))" }
    }

    public static let restartKeys: Set<String> = [
        "whitebit.base_url", "whitebit.client_id", "whitebit.client_secret_file",
        "spool.directory",
        "store.path", "store.master_key_file", "store.backend", "store.url", "store.password_file", "store.instance", "store.lease",
        "control.socket", "control.mode",
        "metrics.listen",
    ]

    /// Every changed key, in the order of the config file.
    public let changes: [Change]

    public init(from old: DaemonConfiguration, to new: DaemonConfiguration) {
        let oldValues = Dictionary(uniqueKeysWithValues: old.settings.map { ($0.key, $0.value) })
        changes = new.settings.compactMap { setting in
            guard let before = oldValues[setting.key], before != setting.value else { return nil }
            let effect: Effect = Self.restartKeys.contains(setting.key) ? .needsRestart : .appliedLive
            return Change(key: setting.key, oldValue: before, newValue: setting.value, effect: effect)
        }
    }

    public var isEmpty: Bool { changes.isEmpty }

    public var changedKeys: [String] { changes.map(\.key) }

    /// Keys whose new value only takes effect after `systemctl restart wbkeyd`.
    public var keysNeedingRestart: [String] {
        changes.filter { $0.effect == .needsRestart }.map(\.key)
    }

    /// Keys the running daemon takes on at once.
    public var keysAppliedLive: [String] {
        changes.filter { $0.effect == .appliedLive }.map(\.key)
    }

    public var needsRestart: Bool { !keysNeedingRestart.isEmpty }
}
