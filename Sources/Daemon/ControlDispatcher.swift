import ControlProtocol
import ControlSocket
import DaemonConfig
import Foundation
import GrantLifecycle
import Logging
import Store
import WhiteBITClient

/// Answers one control-socket line: parse, check the peer's tier (from SO_PEERCRED
/// and the group database, never from the client), run, render. Every failure is
/// one `error: …` line.
struct ControlDispatcher: Sendable {
    let engine: GrantEngine
    /// `status` and `metrics` answer from these two and from the client's counters: no
    /// table read, no directory listing, no wait for the engine or the intake (both may
    /// be busy with a burst). How fresh each is: see `StoreSummary` and `SpoolCensus`.
    let summary: StoreSummary
    let census: SpoolCensus
    let status: DaemonStatus
    let presence: InstancePresence
    let settings: LiveSettings
    let accounts: any AccountDirectory
    let logger: Logger
    let refusals = RefusalAuditGate()
    let lookups = AccountLookupThread()
    let secretReads = SecretReadBuckets()

    func answer(_ line: String, peer: PeerCredentials) async -> String {
        let request: ControlRequest
        do {
            request = try ControlParser.parse(line)
        } catch {
            return ReplyRenderer(json: ControlParser.asksForJSON(line), now: Date()).error(error.message)
        }
        let renderer = ReplyRenderer(json: request.json, now: Date())
        if let refusal = await refusal(of: request, peer: peer, renderer: renderer) { return refusal }
        if case .secret = request.command {
            let perMinute = settings.current.configuration.control.secretReadsPerMinute
            guard secretReads.take(uid: peer.uid, perMinute: perMinute) else {
                await refuse(request.command, peer: peer, reason: "over control.secret_reads_per_minute (\(perMinute))")
                return renderer.error(
                    "too many secret reads: uid \(peer.uid) may read \(perMinute) per minute (control.secret_reads_per_minute); try again shortly")
            }
        }
        do {
            return try await run(request.command, renderer: renderer, actor: .uid(peer.uid), wait: request.wait)
        } catch let error as GrantEngine.CommandError {
            return renderer.error(error.description)
        } catch {
            return renderer.error("\(error)")
        }
    }

    /// The answer for a peer whose tier does not allow the command; nil when it does.
    func refusal(of request: ControlRequest, peer: PeerCredentials, renderer: ReplyRenderer) async -> String? {
        let access = await lookups.access(settings.current.access, peer: peer, accounts: accounts)
        let required = request.command.requiredTier
        let allowed = switch required {
        case .anyone: true
        case .admin: access.allows(.admin)
        // docs/design.md §12: agents may take secrets out while delivery is on.
        case .secretReader: access.allows(.secretReader) || access.allows(.agent)
        case .agent: access.allows(.agent)
        case .agentOrAdmin: access.allows(.agent) || access.allows(.admin)
        }
        guard allowed else {
            await refuse(request.command, peer: peer, reason: "needs \(required.description)")
            return renderer.error("permission denied: `\(request.command.name)` is for \(required.description) (you are uid \(peer.uid))")
        }
        if case .secret = request.command, !settings.current.configuration.control.secretDelivery {
            await refuse(request.command, peer: peer, reason: "control.secret_delivery is false")
            return renderer.error(
                "`secret` is refused for everyone: control.secret_delivery is false (agent mode); use `sign`, `balance` or `history`")
        }
        return nil
    }

    /// Logs every refusal; audits the first per uid and minute (`RefusalAuditGate`) with
    /// the command word and the reason, never the arguments: a mistyped command line can
    /// hold anything. A failed audit write halts the engine as any other would.
    private func refuse(_ command: ControlCommand, peer: PeerCredentials, reason: String) async {
        logger.warning(
            "control command refused",
            metadata: ["command": "\(command.name)", "uid": "\(peer.uid)", "pid": "\(peer.pid)", "reason": "\(reason)"])
        guard let suppressed = refusals.admit(uid: peer.uid) else { return }
        do {
            try await engine.recordRefusal(command: command.name, reason: reason, suppressed: suppressed, actor: .uid(peer.uid))
        } catch {
            logger.error("the refusal could not be audited", metadata: ["error": "\(error)"])
        }
    }

    /// The answer to `help` and `status` (either in JSON), given on the control
    /// socket's event loop: both are open to anyone, log nothing, and read only
    /// in-memory aggregates. Nil for every other line, which goes to `answer`.
    func immediateAnswer(_ line: String) -> String? {
        guard let request = try? ControlParser.parse(line) else { return nil }
        let renderer = ReplyRenderer(json: request.json, now: Date())
        switch request.command {
        case .help: return renderer.message(Self.help)
        case .status: return renderer.status(statusView())
        default: return nil
        }
    }

    private func run(_ command: ControlCommand, renderer: ReplyRenderer, actor: AuditActor, wait: Bool) async throws -> String {
        // Without `wait`, an action answers within the bound socat's default `-t` allows.
        let bound: Duration? = wait ? nil : ControlRequest.answerBound
        switch command {
        case .help:
            return renderer.message(Self.help)
        case .status:
            return renderer.status(statusView())
        case .grants(let state):
            return renderer.grants(try await engine.grantViews(state: state))
        case .show(let user):
            guard let grant = try await engine.grantView(user) else { return renderer.error("no grant for \(user)") }
            return renderer.show(grant, audit: try await engine.auditViews(limit: 20, user: user))
        case .audit(let count, let user):
            return renderer.audit(try await engine.auditViews(limit: count, user: user))
        case .metrics:
            let exposition = try await Metrics.exposition(engine: engine, summary: summary, census: census, status: status)
            return renderer.json ? renderer.message("", fields: ["metrics": exposition.families]) : exposition.text
        case .authorizeURL(let user):
            let whitebit = settings.current.configuration.whitebit
            let url = try await engine.authorizeURL(
                user: user, baseURL: whitebit.baseURL, clientID: whitebit.clientID, redirectURI: whitebit.redirectURI, actor: actor)
            return renderer.message(url, fields: ["user": user, "url": url, "expires_in_s": 600])
        case .reconcile(let user, let dryRun):
            let report = if let user {
                try await engine.reconcile(user: user, dryRun: dryRun, actor: actor, within: bound ?? .seconds(10))
            } else {
                GrantEngine.ReconcileReport(text: try await engine.reconcileAll(dryRun: dryRun, actor: actor, within: bound), finished: true)
            }
            return renderer.message(report.text, fields: ["dry_run": dryRun, "result": report.text, "finished": report.finished])
        case .revoke(let user, let reason):
            let grant: GrantView
            do {
                grant = try await engine.revoke(user: user, reason: reason, actor: actor, within: bound ?? .seconds(5))
            } catch LeaseRefusal.heldElsewhere(_, let owner) {
                try await engine.queueRevocation(user: user, reason: reason, actor: actor, owner: owner)
                let text = "\(user): revocation queued for instance \(owner), which holds the grant and applies it at its next heartbeat; "
                    + "`show \(user)` tells the end"
                return renderer.message(text, fields: ["user": user, "queued_for": owner, "finished": false])
            }
            // Still revoking with no attempt made: the DELETE is under way, its end comes later.
            let finished = grant.state != .revoking || grant.attempts > 0
            var text = "\(user): \(grant.state.rawValue)\(grant.reason.map { " (\($0))" } ?? "")"
            if !finished { text += "; the DELETE is under way: `show \(user)` and `audit \(user)` tell the end" }
            return renderer.message(
                text, fields: ["user": user, "state": grant.state.rawValue, "reason": grant.reason as Any, "finished": finished])
        case .secret(let user):
            return renderer.secret(try await engine.secret(user: user, actor: actor))
        case .events, .wait:
            // Answered by `respond` on a held connection (ControlDispatcher+Held).
            return renderer.error("`\(command.name)` needs a connection of its own")
        case .balance(let user, let account, let ticker):
            let read: AccountRead = account == .main ? .mainBalance : .spotBalance
            let parameters: [String: JSONValue] = ticker.map { ["ticker": .string($0)] } ?? [:]
            return renderer.accountRead(try await engine.accountRead(read, parameters: parameters, user: user, actor: actor))
        case .history(let user, let kind, let fields):
            let read: AccountRead = switch kind {
            case .transactions: .transactions
            case .converts: .converts
            case .orders: .orders
            case .deals: .deals
            }
            let parameters = fields.mapValues(Self.json)
            return renderer.accountRead(try await engine.accountRead(read, parameters: parameters, user: user, actor: actor))
        case .sign(let user, let path, let body):
            let allowed = settings.current.configuration.agent.signPaths
            return renderer.signedRequest(try await engine.sign(user: user, path: path, body: body, allowedPaths: allowed, actor: actor))
        case .backup(let path):
            // The copy goes on when the answer cannot wait for it; the audit row tells its end.
            let engine = self.engine, logger = self.logger
            let copy = Task {
                do {
                    return try await engine.backup(to: path, actor: actor)
                } catch {
                    logger.error("backup to \(path) failed: \(error)", metadata: ["path": "\(path)"])
                    throw error
                }
            }
            let made: StoreBackup? = if let bound {
                try await GrantEngine.bounded(bound) { try await copy.value }
            } else {
                try await copy.value
            }
            guard let made else {
                let text = "backup to \(path) started; `audit 5` shows store_backed_up (or an error in the journal) when it ends"
                return renderer.message(text, fields: ["path": path, "finished": false])
            }
            let text = "backed up to \(path): \(made.bytes) bytes, audit seq \(made.auditSeq)"
            return renderer.message(text, fields: ["path": path, "bytes": made.bytes, "audit_seq": made.auditSeq, "finished": true])
        }
    }

    static func json(_ value: HistoryValue) -> JSONValue {
        switch value {
        case .integer(let number): .number(String(number))
        case .string(let text): .string(text)
        case .integers(let numbers): .array(numbers.map { .number(String($0)) })
        case .strings(let texts): .array(texts.map { .string($0) })
        }
    }

    func statusView() -> StatusView {
        let stored = summary.snapshot
        let backlog = census.backlog()
        let counters = engine.client.counters
        let head = stored.auditHead
        return StatusView(
            version: status.version, uptimeSeconds: Int(Date().timeIntervalSince(status.startedAt)), phase: status.phase.rawValue,
            grants: stored.grants,
            spool: SpoolView(
                new: backlog?.new ?? 0, claimed: backlog?.claimed ?? 0, rejected: backlog?.rejected ?? 0,
                oldestAgeSeconds: backlog?.oldestNewAge.map { Int($0.components.seconds) }),
            nextDeadline: stored.nextDeadline,
            whitebit: WhiteBITView(
                requests: counters.totalRequests, errors: counters.errors,
                lastError: counters.lastError.map { "\(AuditTimestamp.format($0.at)) \($0.description)" }),
            audit: AuditHeadView(seq: Int(head?.seq ?? 0), hash: head?.hash ?? AuditChain.genesisPrevHash),
            lastReload: status.lastReload.map { ReloadView(at: $0.at, outcome: $0.applied ? "applied" : "refused", problem: $0.problem) },
            cluster: presence.cluster.map { [holders = presence.grantsByOwner] i in
                InstanceView(
                    name: i.name, host: i.host, pid: Int(i.pid), startedAt: i.startedAt, lastSeen: i.lastSeen, stoppedAt: i.stoppedAt,
                    isSelf: i.name == presence.name, grants: holders[i.name] ?? 0)
            })
    }

    static let help = """
        commands (one per connection; add `json` for a JSON answer):
          help                          this text
          status                        version, phase, grants by state, spool, WhiteBIT, audit head, instances
          grants [STATE]                one row per grant
          show USER                     one grant in full, with its recent audit events
          audit [N] [USER]              the last N audit rows (default 20)
          metrics                       Prometheus text exposition
          authorize-url USER            admin: a WhiteBIT authorization URL with fresh PKCE and state
          reconcile [USER] [dry-run] [wait]
                                        admin: ask WhiteBIT now; dry-run changes nothing
          revoke USER [REASON] [wait]   admin: delete the user's key
          backup PATH [wait]            admin: a consistent copy of the store to PATH (absolute, new; mode 0600)
          secret USER                   root, secret_readers, agent_users: external id, api key and secret (audited)
          balance USER main|spot [TICKER]
                                        agents and admins: WhiteBIT's balance through the user's key
          history USER transactions|converts|orders|deals [FIELD=VALUE ...]
                                        agents and admins: WhiteBIT's history through the user's key
          sign USER PATH [JSON-BODY]    agents: a signed request (url, body, headers) to send yourself
          events [USER]                 agents and admins: stays open; one JSON line per committed audit row
          wait USER STATE[,STATE…] [TIMEOUT]
                                        when the grant is in one of the states (TIMEOUT default 30s, at most 1h)
        reconcile, revoke and backup answer within 0.3 s with what they started (and its
        end if it came); `show`/`audit` tell the end, or add `wait` to wait for it.
        `--` makes the words before it arguments as written: `show json --`.
        """
}
