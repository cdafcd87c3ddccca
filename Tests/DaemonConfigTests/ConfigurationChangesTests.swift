import DaemonConfig
import Testing

@Suite struct ConfigurationChangesTests {
    let base: DaemonConfiguration = {
        var configuration = DaemonConfiguration()
        configuration.whitebit.clientID = "partner-1"
        return configuration
    }()

    @Test func theSameConfigurationChangesNothing() {
        let changes = ConfigurationChanges(from: base, to: base)
        #expect(changes.isEmpty)
        #expect(!changes.needsRestart)
    }

    @Test func intervalsLimitsAndAccessListsApplyLive() {
        var new = base
        new.keys.reconcileInterval = .seconds(600)
        new.whitebit.rateLimit = 2.5
        new.whitebit.maxConcurrency = 4
        new.whitebit.requestTimeout = .seconds(5)
        new.whitebit.redirectURI = "https://partner.example/cb"
        new.spool.maxCodeAge = .seconds(300)
        new.store.auditRetention = .seconds(30 * 86_400)
        new.control.adminGroup = ""
        new.control.secretReaders = [.user("partner-app")]
        new.control.secretReadsPerMinute = 2
        new.control.socketGroup = "wbkeyd"
        new.control.agentUsers = [.group("partner")]
        new.control.secretDelivery = false
        new.whitebit.sourceAddress = "127.0.0.2"
        new.agent.signPaths = ["/api/v4/trade-account/balance"]
        let changes = ConfigurationChanges(from: base, to: new)
        #expect(changes.keysAppliedLive == [
            "whitebit.redirect_uri", "whitebit.request_timeout", "whitebit.max_concurrency", "whitebit.rate_limit",
            "whitebit.source_address", "spool.max_code_age", "keys.reconcile_interval", "store.audit_retention",
            "control.admin_group", "control.socket_group", "control.secret_readers", "control.secret_reads_per_minute",
            "control.agent_users", "control.secret_delivery", "agent.sign_paths",
        ])
        #expect(changes.changes.first { $0.key == "control.secret_delivery" }?.description
            == "control.secret_delivery: true -> false (applied live)")
        #expect(changes.changes.first { $0.key == "agent.sign_paths" }?.oldValue
            == "[" + DaemonConfiguration.Agent.readPaths.map { "\"\($0)\"" }.joined(separator: ", ") + "]")
        #expect(changes.keysNeedingRestart == [])
        #expect(!changes.needsRestart)
        #expect(changes.changes.first { $0.key == "keys.reconcile_interval" }?.description
            == "keys.reconcile_interval: \"15m\" -> \"10m\" (applied live)")
        #expect(changes.changes.first { $0.key == "whitebit.rate_limit" }?.newValue == "2.5")
        // The rebuilt client's new connections leave from the new address.
        #expect(changes.changes.first { $0.key == "whitebit.source_address" }?.description
            == "whitebit.source_address: \"\" -> \"127.0.0.2\" (applied live)")
    }

    @Test func whatTheProcessHoldsNeedsARestart() {
        var new = base
        new.whitebit.baseURL = "http://127.0.0.1:9000"
        new.whitebit.clientID = "partner-2"
        new.whitebit.clientSecretFile = "/etc/wbkeyd/client-secret"
        new.spool.directory = "/srv/spool"
        new.store.path = "/srv/wbkeyd.sqlite3"
        new.store.masterKeyFile = "/etc/wbkeyd/master-key"
        new.store.backend = .postgresql
        new.store.url = "postgresql://wbkeyd@db/wbkeyd"
        new.store.passwordFile = "/etc/wbkeyd/store-password"
        new.store.instance = "eu-1"
        new.store.lease = .seconds(60)
        new.control.socket = "/run/wbkeyd/other.sock"
        new.control.mode = SocketMode(0o600)
        new.metrics.listen = "127.0.0.1:9867"
        let changes = ConfigurationChanges(from: base, to: new)
        #expect(changes.keysNeedingRestart == [
            "whitebit.base_url", "whitebit.client_id", "whitebit.client_secret_file", "spool.directory",
            "store.path", "store.master_key_file", "store.backend", "store.url", "store.password_file", "store.instance",
            "store.lease", "control.socket", "control.mode", "metrics.listen",
        ])
        #expect(Set(changes.keysNeedingRestart) == ConfigurationChanges.restartKeys)
        #expect(changes.keysAppliedLive == [])
        #expect(changes.needsRestart)
        #expect(changes.changes.last?.description == "metrics.listen: \"\" -> \"127.0.0.1:9867\" (needs a restart)")
    }

    @Test func aMixedReloadListsBothInFileOrder() {
        var new = base
        new.control.mode = SocketMode(0o600)
        new.keys.infoPollBudget = .seconds(60)
        let changes = ConfigurationChanges(from: base, to: new)
        #expect(changes.changedKeys == ["keys.info_poll_budget", "control.mode"])
        #expect(changes.keysNeedingRestart == ["control.mode"])
        #expect(changes.keysAppliedLive == ["keys.info_poll_budget"])
    }

    @Test func everyKeyIsCoveredByTheDiff() {
        let keys = DaemonConfiguration().settings.map(\.key)
        #expect(keys.count == 35)
        #expect(Set(keys).count == keys.count)
        #expect(ConfigurationChanges.restartKeys.isSubset(of: Set(keys)))
    }
}
