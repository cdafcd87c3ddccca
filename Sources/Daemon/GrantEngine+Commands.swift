import ControlProtocol
import Foundation
import GrantLifecycle
import PKCE
import Sensitive
import Store

/// What the control socket asks of the engine: views of the store, and the admin
/// actions (revoke, reconcile, authorize-url, secret), each audited with its actor.
extension GrantEngine {
    struct CommandError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    // The views read the store on a reader connection and need nothing of the actor's
    // state: nonisolated, so a command does not queue behind a burst of grant work.

    nonisolated func grantViews(state: GrantState?, limit: Int = 100_000) async throws -> [GrantView] {
        try await store.grants(state: state, limit: limit).map(Self.view)
    }

    nonisolated func grantView(_ user: String) async throws -> GrantView? {
        try await store.grant(user: user).map(Self.view)
    }

    /// The grant as `show` and `grants` give it, with the instance that holds it.
    static func view(_ stored: StoredGrant) -> GrantView {
        var view = view(stored.grant)
        view.owner = stored.lease?.owner
        return view
    }

    nonisolated func auditViews(limit: Int, user: String?) async throws -> [AuditRowView] {
        return try await store.auditRows(limit: limit, user: user).map(Self.view)
    }

    nonisolated func auditHead() async throws -> AuditHead? {
        return try await store.auditHead()
    }

    static func view(_ g: Grant) -> GrantView {
        GrantView(
            user: g.user, state: g.state, externalID: g.externalID, tokenExpiresAt: g.tokenExpiresAt, updatedAt: g.updatedAt,
            reason: g.reason, apiKey: g.apiKey, hasSecret: g.hasSecret, nextActionAt: [g.stepAt, g.exchangeAt].compactMap { $0 }.min(),
            attempts: max(g.stepAttempts, g.exchangeAttempts),
            key: KeyWatchView(
                identity: g.keyIdentity?.rawValue, check: g.keyCheck?.rawValue, checkedAt: g.keyCheckedAt, usedAt: g.keyUsedAt,
                nextCheckAt: g.probeAt))
    }

    static func view(_ r: AuditRow) -> AuditRowView {
        AuditRowView(
            seq: Int(r.seq), at: r.at, event: r.event.rawValue, user: r.user, externalID: r.externalID, actor: r.actor.text,
            detail: r.detail)
    }

    /// Requests deletion and answers after the first DELETE attempt or `within` (5 s by
    /// docs/design.md §5; less when the client cannot wait), with the state at that moment.
    /// A revocation for a grant another live instance holds: kept in the store for it (or
    /// whichever instance takes the grant over), which applies it at its next heartbeat.
    func queueRevocation(user: String, reason: String?, actor: AuditActor, owner: String) async throws {
        if let haltReason { throw EngineHalted(reason: haltReason) }
        do {
            try await store.queue(QueuedRevocation(user: user, reason: reason ?? "requested by \(actor.text)", actor: actor, at: Date()))
        } catch {
            halt("store write failed: \(error)")
            throw error
        }
        logger.notice(
            "revocation queued for the instance that holds the grant",
            metadata: ["event": "revocation_queued", "user": "\(user)", "owner": "\(owner)", "actor": "\(actor.text)"])
    }

    func revoke(user: String, reason: String?, actor: AuditActor, within: Duration = .seconds(5)) async throws -> GrantView {
        guard let t = try await apply(.revokeRequested(reason: reason ?? "requested by \(actor.text)"), user: user, actor: actor) else {
            throw CommandError("no grant for \(user)")
        }
        let deadline = ContinuousClock.now.advanced(by: within)
        var grant = t.grant
        while grant.state == .revoking, grant.stepAttempts == 0, ContinuousClock.now < deadline {
            await waitForChange(of: user, timeout: ContinuousClock.now.duration(to: deadline))
            guard let current = try await grantView(user) else { break }
            if current.state != .revoking || current.attempts > 0 { return current }
        }
        grant = try await store.grant(user: user)?.grant ?? grant
        return Self.view(grant)
    }

    /// What a reconcile reported, and whether it had ended when the report was made.
    struct ReconcileReport: Sendable {
        var text: String
        var finished: Bool
    }

    /// Runs a reconcile of one grant now and reports what changed within `within`; `dryRun`
    /// asks WhiteBIT and reports what would change, changing nothing (and is an error
    /// when WhiteBIT has not answered within `within`: there is nothing to look up later).
    func reconcile(user: String, dryRun: Bool, actor: AuditActor, within: Duration = .seconds(10)) async throws -> ReconcileReport {
        guard let stored = try await store.grant(user: user) else {
            throw CommandError("no grant for \(user)")
        }
        let before = stored.grant
        guard before.holdsLiveToken(at: Date()), [.active, .disabled, .awaitingKey].contains(before.state) else {
            return ReconcileReport(
                text: "\(user): \(before.state.rawValue), nothing to reconcile (reconcile needs a live token and a key to look at)", finished: true)
        }
        logger.notice("reconcile requested", metadata: ["user": "\(user)", "actor": "\(actor.text)", "dry_run": "\(dryRun)"])
        if dryRun {
            guard let sealed = stored.sealedToken,
                let token = try? sealer.open(sealed, binding: SealBinding(kind: .accessToken, user: user))
            else { throw CommandError("the token of \(user) cannot be opened") }
            let client = self.client
            guard let info = try await Self.bounded(within, { try await client.apiKeyInfo(token: token) }) else {
                throw CommandError(
                    "WhiteBIT did not answer within \(Self.seconds(within)); nothing was changed. Add the option word `wait` "
                        + "(with socat: `socat -t 30 …`) or use `wbkeyctl reconcile --dry-run \(user)`, which waits")
            }
            let t = lifecycle.transition(before, on: .keyInfo(KeyInfo(exists: info.exists, isEnabled: info.isEnabled, externalID: info.externalID)), at: Date())
            return ReconcileReport(
                text: Self.describe(user: user, from: before, to: t.grant, events: t.audit.map(\.event.rawValue), dryRun: true), finished: true)
        }
        let since = try await auditHead()?.seq ?? 0
        try await apply(.reconcileRequested, user: user, actor: actor)
        let deadline = ContinuousClock.now.advanced(by: within)
        var after = before
        var running: Bool
        repeat {
            await waitForChange(of: user, timeout: ContinuousClock.now.duration(to: deadline))
            after = try await store.grant(user: user)?.grant ?? after
            running = after.stepAt.map { $0 <= Date() } ?? false || inFlight.contains(user)
        } while running && ContinuousClock.now < deadline
        // What the reconcile wrote: the audit rows of this user since it was asked for.
        let events = try await store.auditRows(limit: 100, user: user)
            .filter { $0.seq > since }.map(\.event.rawValue)
        var text = Self.describe(user: user, from: before, to: after, events: events, dryRun: false)
        if running {
            text += "; still asking WhiteBIT after \(Self.seconds(within)): `show \(user)` and `audit \(user)` tell the end"
        }
        return ReconcileReport(text: text, finished: !running)
    }

    /// The value of `work`, or nil when it takes longer than `limit` (then it is cancelled).
    static func bounded<Value: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> Value) async throws -> Value? {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// "0.3 s", "10 s": a bound as the answers name it.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }

    /// Reconciles every grant that holds a live token; reports how many. A dry run asks
    /// about up to 200 of them, one after another, for as long as `within` lasts.
    func reconcileAll(dryRun: Bool, actor: AuditActor, within: Duration? = nil) async throws -> String {
        let now = Date()
        let candidates = try await store.grants(state: nil, limit: 1_000_000).map(\.grant)
            .filter { $0.holdsLiveToken(at: now) && [.active, .disabled, .awaitingKey].contains($0.state) }
        if dryRun {
            var lines: [String] = []
            let deadline = within.map { ContinuousClock.now.advanced(by: $0) }
            var asked = 0
            for grant in candidates.prefix(200) {
                let left = deadline.map { ContinuousClock.now.duration(to: $0) } ?? .seconds(10)
                guard left > .zero else { break }
                lines.append((try? await reconcile(user: grant.user, dryRun: true, actor: actor, within: left))?.text
                    ?? "\(grant.user): could not ask WhiteBIT")
                asked += 1
            }
            let shown = min(candidates.count, 200)
            if asked < shown, let within {
                lines.append("… \(shown - asked) more not asked within \(Self.seconds(within)); add the option word `wait` for all")
            }
            if candidates.count > 200 { lines.append("… \(candidates.count - 200) more not shown") }
            return lines.isEmpty ? "no grant holds a live token; nothing to reconcile" : lines.joined(separator: "\n")
        }
        var elsewhere: [String: Int] = [:]
        for grant in candidates {
            do {
                try await apply(.reconcileRequested, user: grant.user, actor: actor)
            } catch LeaseRefusal.heldElsewhere(_, let owner) {
                elsewhere[owner, default: 0] += 1
            }
        }
        let started = candidates.count - elsewhere.values.reduce(0, +)
        let others = elsewhere.sorted { $0.key < $1.key }.map { "\($0.value) held by \($0.key)" }
        return "reconcile started for \(started) grant(s)\(others.isEmpty ? "" : "; not here: " + others.joined(separator: ", ") + " (ask there)")"
            + "; see `grants` and `audit` for the outcome"
    }

    /// One line: the move, or the key replaced within the same state, or nothing, and the
    /// audit events that came of it (a drift can end in the state it began in).
    static func describe(user: String, from before: Grant, to after: Grant, events: [String], dryRun: Bool) -> String {
        var line: String
        if before.state != after.state {
            line = "\(user): \(dryRun ? "would move" : "moved") from \(before.state.rawValue) to \(after.state.rawValue)"
        } else if before.externalID != after.externalID {
            line = "\(user): \(after.state.rawValue), key \(before.externalID ?? "none") \(dryRun ? "would be replaced" : "replaced") by \(after.externalID ?? "none")"
        } else if events.isEmpty {
            line = "\(user): \(before.state.rawValue), no change\(dryRun ? " would be made" : "")"
        } else {
            line = "\(user): \(after.state.rawValue)"
        }
        if !events.isEmpty { line += " (\(events.joined(separator: ", ")))" }
        return line
    }

    /// A fresh PKCE pair and state; the verifier stays sealed here for 10 minutes.
    func authorizeURL(user: String, baseURL: String, clientID: String, redirectURI: String, actor: AuditActor) async throws -> String {
        guard !redirectURI.isEmpty else { throw CommandError("whitebit.redirect_uri is not set; authorize-url needs it") }
        let pair = PKCEPair.generate()
        let state = PKCE.makeState()
        let fingerprint = sealer.fingerprint(Sensitive(state), context: "authorize-url state")
        try await store.putPendingState(fingerprint: fingerprint, user: user, verifier: pair.verifier, expiresAt: Date().addingTimeInterval(600))
        // Who asked, for whom: never the verifier or the state, which would let a reader
        // of the audit log finish the flow in the user's place.
        try await record(
            AuditEntry(.authorizeURLIssued, user: user, externalID: nil, actor: actor, detail: ["expires_in_s": 600]),
            message: "authorization URL issued", level: .notice, metadata: ["actor": "\(actor.text)"])
        var components = URLComponents(string: baseURL)!
        components.path = "/auth/login"
        components.queryItems = [
            URLQueryItem(name: "clientId", value: clientID), URLQueryItem(name: "redirect_uri", value: redirectURI),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "code_challenge", value: pair.challenge),
            URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: ":", with: "%3A")
        return components.string!
    }

    /// The key pair of a user, for a permitted reader; audited as `secret_read`.
    func secret(user: String, actor: AuditActor) async throws -> SecretView {
        guard let stored = try await store.grant(user: user) else {
            throw CommandError("no grant for \(user)")
        }
        guard let sealed = stored.sealedSecret, let externalID = stored.secretExternalID else {
            throw CommandError("no secret is held for \(user) (state \(stored.grant.state.rawValue))")
        }
        let secret: Sensitive
        do {
            secret = try sealer.open(sealed, binding: SealBinding(kind: .apiSecret, user: user, externalID: externalID))
        } catch {
            throw CommandError("the sealed secret of \(user) cannot be opened: \(error)")
        }
        try await record(
            AuditEntry(.secretRead, user: user, externalID: externalID, actor: actor, detail: [:]),
            message: "secret read", level: .notice, metadata: ["actor": "\(actor.text)"])
        // The key value to sign with: what verification proved (docs/design.md §12).
        let identity = stored.grant.signingIdentity ?? externalID
        return SecretView(user: user, externalID: externalID, apiKey: identity, apiSecret: secret)
    }

    /// A control command refused to `actor`: the command word and why, never its
    /// arguments. `suppressed`: refusals by the same uid left out since the last row.
    func recordRefusal(command: String, reason: String, suppressed: Int, actor: AuditActor) async throws {
        try await record(
            AuditEntry(.commandRefused, user: nil, externalID: nil, actor: actor,
                       detail: ["command": .string(command), "reason": .string(reason), "suppressed": .int(suppressed)]),
            message: "control command refused (audited)", level: .notice, metadata: ["actor": "\(actor.text)"])
    }
}

extension GrantEngine {
    /// `backup PATH`: a consistent copy of the store, audited as `store_backed_up`. The copy
    /// runs on a reader connection, beside the engine's own work.
    nonisolated func backup(to path: String, actor: AuditActor) async throws -> StoreBackup {
        if let problem = StoreBackup.problem(with: path) { throw CommandError(problem) }
        let store = self.store
        let made = try await Task.detached { try store.backup(to: path) }.value
        try await record(
            AuditEntry(.storeBackedUp, user: nil, externalID: nil, actor: actor,
                detail: ["path": .string(path), "bytes": .int(Int(made.bytes)), "audit_seq": .int(Int(made.auditSeq))]),
            message: "store backed up to \(path)", level: .notice, metadata: ["actor": "\(actor.text)"])
        return made
    }
}
