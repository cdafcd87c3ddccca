import BuildInfo
import ControlSocket
import DaemonConfig
import Foundation
import GrantLifecycle
import Logging
import Scheduler
import Sensitive
import ServiceLifecycle
import Spool
import Store
import Systemd
import UnixSignals
import WhiteBITClient

/// The running daemon: the parts, the start-up sequence that ends in READY=1, the
/// daemon's own timers, reload and stop. `main` only calls `Daemon.run`.
public final class Daemon: Sendable {
    public static let version = BuildInfo.version

    let settings: LiveSettings
    let store: GrantStore
    let engine: GrantEngine
    let intake: SpoolIntake
    let spool: SpoolDirectory
    let summary: StoreSummary
    let census = SpoolCensus()
    let scheduler: Scheduler<DaemonTimer>
    let status: DaemonStatus
    let dispatcher: ControlDispatcher
    let notifier = ServiceNotifier()
    let logger: Logger
    let witness: AuditWitness
    let presence: InstancePresence
    let accounts: any AccountDirectory
    let loader: ConfigurationLoader
    /// Tells `engine.events` of every committed audit row; kept for as long as the daemon.
    let auditTail: any Sendable
    /// The control socket's path when wbkeyd bound it itself (not passed by systemd).
    let boundSocketPath = Locked<String?>(nil)
    private let failure = Locked<String?>(nil)
    /// Set when start-up found the chain short of its witness; leads the STATUS= line.
    let auditAlarm = Locked<String?>(nil)
    private let shutdown = Locked<(@Sendable () -> Void)?>(nil)

    public init(loaded: LoadedConfiguration, loader: ConfigurationLoader, accounts: any AccountDirectory, logger: Logger) throws {
        let configuration = loaded.configuration
        let clientSecret = try CredentialFile.readClientSecret(at: loaded.credentials.clientSecret)
        let masterKey = try CredentialFile.readMasterKey(at: loaded.credentials.masterKey)
        self.settings = LiveSettings(loaded)
        self.loader = loader
        self.accounts = accounts
        self.logger = logger
        self.status = DaemonStatus(version: Self.version)
        let leaseTerm = configuration.store.leaseTerm(requestTimeout: configuration.whitebit.requestTimeout)
        let instance = configuration.store.instanceName()
        self.presence = InstancePresence(name: instance, startedAt: status.startedAt, lease: leaseTerm)
        let backend = try StoreOpening.open(loaded, logger: logger)
        // Before the summary, so the head it shows includes an `audit_keyed` row written here.
        let keyring = try StoreKeyring.unlock(masterKey: Data(masterKey.bytes), backend: backend)
        // With PostgreSQL the witness stays on this host, beside store.path: each host keeps
        // its own copy of the shared chain's head.
        self.witness = AuditWitness(storePath: configuration.store.path, chainKey: keyring.chainKey, logger: logger)
        self.store = try GrantStore(backend: backend, keyring: keyring)
        self.summary = store.summary
        let client = try WhiteBITClient(configuration: Self.clientConfiguration(configuration, secret: clientSecret), logger: logger)
        self.scheduler = Scheduler<DaemonTimer>()
        self.spool = try SpoolDirectory(root: configuration.spool.directory)
        let failure = self.failure
        let shutdown = self.shutdown
        let status = self.status
        self.engine = GrantEngine(
            store: store, client: client, scheduler: scheduler, policy: Self.policy(configuration), logger: logger,
            leases: LeaseBook(instance: instance, term: leaseTerm),
            callBudget: Self.callBudget(requestTimeout: configuration.whitebit.requestTimeout, leaseTerm: leaseTerm),
            onHalt: { reason in
                status.phase = .degraded
                failure.withLock { $0 = $0 ?? reason }
                ServiceNotifier().failing(status: "degraded: \(reason)", errno: EIO)
                shutdown.value?()
            })
        self.intake = SpoolIntake(
            spool: spool, engine: engine, census: census, maxCodeAge: configuration.spool.maxCodeAge, logger: logger)
        self.dispatcher = ControlDispatcher(
            engine: engine, summary: summary, census: census, status: status, presence: presence, settings: settings,
            accounts: accounts, logger: logger)
        self.auditTail = try store.startAuditTail(sink: engine.events)
    }

    static func clientConfiguration(_ c: DaemonConfiguration, secret: Sensitive) -> WhiteBITClient.Configuration {
        WhiteBITClient.Configuration(
            baseURL: c.whitebit.baseURL, clientID: c.whitebit.clientID, clientSecret: secret,
            redirectURI: c.whitebit.redirectURI.isEmpty ? nil : c.whitebit.redirectURI, requestTimeout: c.whitebit.requestTimeout,
            maxConcurrency: c.whitebit.maxConcurrency, rateLimit: c.whitebit.rateLimit,
            sourceAddress: c.whitebit.sourceAddress.isEmpty ? nil : c.whitebit.sourceAddress)
    }

    /// What a WhiteBIT call may take before its lease must still hold: the request timeout
    /// and 2 s. `store.lease` is held long enough for it (`leaseTerm`); a reload that
    /// raises the timeout past that is held to half the lease until the next restart.
    static func callBudget(requestTimeout: Duration, leaseTerm: Duration) -> Duration {
        min(requestTimeout + .seconds(2), leaseTerm / 2)
    }

    static func policy(_ c: DaemonConfiguration) -> LifecyclePolicy {
        LifecyclePolicy(
            infoPollInterval: c.keys.infoPollInterval, infoPollBudget: c.keys.infoPollBudget,
            reconcileInterval: c.keys.reconcileInterval, expiryMargin: c.keys.expiryMargin, maxCodeAge: c.spool.maxCodeAge,
            verifyKey: c.keys.verifyKey, probeInterval: c.keys.probeInterval)
    }

    /// Runs until SIGTERM/SIGINT (exit 0) or a failure that must stop the daemon
    /// (thrown, so the process exits non-zero with the reason).
    public func run() async throws {
        let metrics: MetricsService?
        do {
            metrics = try await bindMetrics()
        } catch {
            // Nothing started yet: close what init opened, then stop.
            await engine.client.shutdown()
            try? store.close()
            throw error
        }
        try await prepare()
        // A graceful shutdown stops the services in the reverse order: the socket first, the
        // calls last, so that nothing starts a call once they are drained.
        var services: [any Service] = [
            CallService(daemon: self), SchedulerService(daemon: self), SpoolWatchService(daemon: self), SpoolCensusService(daemon: self),
        ]
        if let metrics { services.append(metrics) }
        services.append(ControlService(daemon: self, server: try controlServer()))
        if let interval = notifier.watchdogInterval() { services.append(WatchdogService(daemon: self, interval: interval)) }
        // Trapped before any service runs: READY=1 goes out as soon as the socket listens,
        // and a SIGHUP after it but before the reload service's first step would otherwise
        // meet the default action and end the daemon (seen in the tests).
        services.append(ReloadService(daemon: self, signals: await UnixSignalsSequence(trapping: .sighup)))
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        shutdown.withLock { $0 = { Task { await group.triggerGracefulShutdown() } } }
        notifier.status("starting: \(statusLine())")
        do {
            try await group.run()
        } catch {
            failure.withLock { $0 = $0 ?? "\(error)" }
        }
        await finish()
        if let reason = failure.withLock({ $0 }) { throw DaemonFailure(reason: reason) }
    }

    /// Everything READY=1 promises, except the listening socket: store open and
    /// migrated (in init), timers rebuilt, the spool recovered and scanned once.
    func prepare() async throws {
        let head = try await engine.auditHead()
        if let mismatch = try await witness.check(store: store) {
            logger.critical(
                "audit chain no longer holds the witnessed head: \(mismatch.description)",
                metadata: ["event": "audit_witness_mismatch", "seq": "\(mismatch.witnessed.seq)", "hash": "\(mismatch.witnessed.hash)"])
            auditAlarm.value = "AUDIT WITNESS MISMATCH (\(mismatch.description))"
            try await engine.record(AuditEntry(.auditWitnessMismatch, detail: mismatch.detail), message: "audit witness mismatch")
        }
        try await engine.record(
            AuditEntry(.daemonStarted, user: nil, externalID: nil, actor: .wbkeyd,
                detail: ["version": .string(Self.version), "pid": .int(Int(getpid())), "previous_head_seq": .int(Int(head?.seq ?? 0))]),
            message: "wbkeyd \(Self.version) starting")
        let marks = try await engine.seedNonces()
        logger.info("nonce marks loaded", metadata: ["keys": "\(marks)"])
        // The grants this instance takes up, as a restart takes up its own: every grant
        // with a deadline that no live instance holds, its timer set (past-due ones fire).
        var claimed = try await presence.beat(engine, at: Date(), afresh: true)
        var timers = claimed
        while claimed == InstancePresence.claimLimit {
            claimed = try await presence.beat(engine, at: Date())
            timers += claimed
        }
        logger.info("timers rebuilt", metadata: ["grants_with_deadlines": "\(timers)", "instance": "\(presence.name)"])
        let unsettled = try await engine.settleKeyWatches()
        if unsettled > 0 { logger.info("key probes to plan", metadata: ["grants": "\(unsettled)"]) }
        await intake.recount()
        await intake.recover()
        await intake.scan()
        let now = Date()
        let c = settings.current.configuration
        await scheduler.schedule(.spoolRescan, at: now.addingTimeInterval(c.spool.rescanInterval.seconds))
        await scheduler.schedule(.housekeeping, at: now.addingTimeInterval(60))
        await scheduler.schedule(.auditWitness, at: now)
        await scheduler.schedule(.statusLine, at: now.addingTimeInterval(10))
        await scheduler.schedule(.instanceBeat, at: now.addingTimeInterval(presence.beatInterval))
    }

    func controlServer() throws -> ControlServer {
        let control = settings.current.configuration.control
        if let passed = SocketActivation.takeListenFileDescriptors().first {
            logger.info("control socket passed by systemd", metadata: ["name": "\(passed.name)"])
            return ControlServer(listener: .inherited(descriptor: passed.descriptor), logger: logger)
        }
        let gid = settings.current.access.socketGroup?.gid
        boundSocketPath.value = control.socket
        return ControlServer(listener: .path(control.socket, mode: mode_t(control.mode.bits), gid: gid), logger: logger)
    }

    func ready() async {
        status.enter(.ready)
        notifier.ready(status: statusLine())
        logger.notice("ready", metadata: ["socket": "\(settings.current.configuration.control.socket)"])
    }

    /// One of the scheduler's keys came due.
    func fire(_ timer: DaemonTimer) async {
        let c = settings.current.configuration
        switch timer {
        case .grant(let user):
            await engine.due(user)
        case .spoolRescan:
            await intake.scan()
            await scheduler.schedule(.spoolRescan, at: Date().addingTimeInterval(c.spool.rescanInterval.seconds))
        case .housekeeping:
            await housekeeping(retention: c.store.auditRetention, maxCodeAge: c.spool.maxCodeAge)
            await scheduler.schedule(.housekeeping, at: Date().addingTimeInterval(3600))
        case .auditWitness:
            // Every 10 s, but the witness speaks only when the head moved (or 10 min passed).
            if let head = try? await engine.auditHead() { witness.witness(head) }
            await scheduler.schedule(.auditWitness, at: Date().addingTimeInterval(AuditWitness.checkInterval))
        case .statusLine:
            if status.phase == .ready { notifier.status(statusLine()) }
            await scheduler.schedule(.statusLine, at: Date().addingTimeInterval(10))
        case .instanceBeat:
            var claimed = 0
            do {
                claimed = try await presence.beat(engine, at: Date())
            } catch {
                await engine.halt("instance heartbeat write failed: \(error)")
            }
            // A takeover larger than one beat's claims goes on at once.
            let next = claimed == InstancePresence.claimLimit ? 0 : presence.beatInterval
            await scheduler.schedule(.instanceBeat, at: Date().addingTimeInterval(next))
        }
    }

    func housekeeping(retention: Duration, maxCodeAge: Duration) async {
        let now = Date()
        do {
            let pruning = try await store.housekeep(
                retention: retention, ingestionsBefore: now.addingTimeInterval(-max(2 * maxCodeAge.seconds, 86_400)), now: now)
            if case let .refused(doomed, rows, cutoff) = pruning {
                // Loud, but not fatal: nothing was deleted, and the log keeps growing until
                // an operator looks (a clock step forward, or a much shortened retention).
                logger.critical(
                    "audit pruning refused: it would delete \(doomed) of \(rows) rows (older than \(cutoff)); nothing deleted",
                    metadata: ["event": "audit_prune_refused"])
            }
            _ = try store.checkpoint()
        } catch {
            await engine.halt("housekeeping write failed: \(error)")
        }
    }

    func statusLine() -> String {
        let stored = summary.snapshot
        let byState = GrantState.allCases.compactMap { state in stored.grants[state].map { "\($0) \(state.rawValue)" } }
        let backlog = census.backlog()
        var parts = auditAlarm.value.map { [$0] } ?? []
        parts.append(byState.isEmpty ? "no grants" : byState.joined(separator: ", "))
        parts.append("spool \(backlog?.new ?? 0) waiting")
        if let next = stored.nextDeadline {
            parts.append("next deadline in \(max(0, Int(next.timeIntervalSinceNow)))s")
        }
        return parts.joined(separator: "; ")
    }

    /// After the services stopped (`CallService` drained the calls and their commits):
    /// record the stop as the run's last row, close the store. A run that never got its
    /// services going (a failed start) stops its calls here.
    func finish() async {
        status.enter(.stopping)
        notifier.stopping(status: "stopping")
        await engine.stopStartingCalls()
        await engine.client.shutdown()
        if failure.withLock({ $0 }) == nil {
            try? await presence.stopped(store, at: Date())
            _ = try? await engine.record(
                AuditEntry(.daemonStopped, user: nil, externalID: nil, actor: .wbkeyd, detail: ["version": .string(Self.version)]),
                message: "wbkeyd stopped")
        }
        if let head = try? await engine.auditHead() { witness.witness(head, force: true) }
        try? store.close()
    }
}

public struct DaemonFailure: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
