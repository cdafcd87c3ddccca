import ControlProtocol
import Foundation
import GRDB
import Lifecycle
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
        try await store.pool.read { db in try GrantRecords.list(state: state, limit: limit, in: db) }.map(Self.view)
    }

    nonisolated func grantView(_ user: String) async throws -> GrantView? {
        try await store.pool.read { db in try GrantRecords.load(user: user, in: db) }.map { Self.view($0.grant) }
    }

    nonisolated func auditViews(limit: Int, user: String?) async throws -> [AuditRowView] {
        let audit = self.audit
        return try await store.pool.read { db in try audit.recent(limit: limit, user: user, in: db) }.map(Self.view)
    }

    nonisolated func auditHead() async throws -> AuditHead? {
        let audit = self.audit
        return try await store.pool.read { db in try audit.head(in: db) }
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
            seq: Int(r.seq), at: r.at, event: r.event.rawValue, user: r.user, externalID: r.externalId, actor: r.actor.text,
            detail: r.detail)
    }

    /// Requests deletion and answers after the first DELETE attempt or 5 s.
    func revoke(user: String, reason: String?, actor: AuditActor) async throws -> GrantView {
        guard let t = try await apply(.revokeRequested(reason: reason ?? "requested by \(actor.text)"), user: user, actor: actor) else {
            throw CommandError("no grant for \(user)")
        }
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        var grant = t.grant
        while grant.state == .revoking, grant.stepAttempts == 0, ContinuousClock.now < deadline {
            await waitForChange(of: user, timeout: ContinuousClock.now.duration(to: deadline))
            guard let current = try await grantView(user) else { break }
            if current.state != .revoking || current.attempts > 0 { return current }
        }
        grant = try await store.pool.read { db in try GrantRecords.load(user: user, in: db) }?.grant ?? grant
        return Self.view(grant)
    }

    /// Runs a reconcile of one grant now and reports what changed; `dryRun` asks
    /// WhiteBIT and reports what would change, changing nothing.
    func reconcile(user: String, dryRun: Bool, actor: AuditActor) async throws -> String {
        guard let stored = try await store.pool.read({ db in try GrantRecords.load(user: user, in: db) }) else {
            throw CommandError("no grant for \(user)")
        }
        let before = stored.grant
        guard before.holdsLiveToken(at: Date()), [.active, .disabled, .awaitingKey].contains(before.state) else {
            return "\(user): \(before.state.rawValue), nothing to reconcile (reconcile needs a live token and a key to look at)"
        }
        logger.notice("reconcile requested", metadata: ["user": "\(user)", "actor": "\(actor.text)", "dry_run": "\(dryRun)"])
        if dryRun {
            guard let sealed = stored.sealedToken,
                let token = try? sealer.open(sealed, binding: SealBinding(kind: .accessToken, user: user))
            else { throw CommandError("the token of \(user) cannot be opened") }
            let info = try await client.apiKeyInfo(token: token)
            let t = lifecycle.transition(before, on: .keyInfo(KeyInfo(exists: info.exists, isEnabled: info.isEnabled, externalID: info.externalID)), at: Date())
            return Self.describe(user: user, from: before, to: t.grant, events: t.audit.map(\.event.rawValue), dryRun: true)
        }
        let since = try await auditHead()?.seq ?? 0
        try await apply(.reconcileRequested, user: user, actor: actor)
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        var after = before
        repeat {
            await waitForChange(of: user, timeout: ContinuousClock.now.duration(to: deadline))
            after = try await store.pool.read { db in try GrantRecords.load(user: user, in: db) }?.grant ?? after
        } while (after.stepAt.map { $0 <= Date() } ?? false || inFlight.contains(user)) && ContinuousClock.now < deadline
        // What the reconcile wrote: the audit rows of this user since it was asked for.
        let audit = self.audit
        let events = try await store.pool.read { db in try audit.recent(limit: 100, user: user, in: db) }
            .filter { $0.seq > since }.map(\.event.rawValue)
        return Self.describe(user: user, from: before, to: after, events: events, dryRun: false)
    }

    /// Reconciles every grant that holds a live token; reports how many.
    func reconcileAll(dryRun: Bool, actor: AuditActor) async throws -> String {
        let now = Date()
        let candidates = try await store.pool.read { db in try GrantRecords.list(state: nil, limit: 1_000_000, in: db) }
            .filter { $0.holdsLiveToken(at: now) && [.active, .disabled, .awaitingKey].contains($0.state) }
        if dryRun {
            var lines: [String] = []
            for grant in candidates.prefix(200) {
                lines.append((try? await reconcile(user: grant.user, dryRun: true, actor: actor)) ?? "\(grant.user): could not ask WhiteBIT")
            }
            if candidates.count > 200 { lines.append("… \(candidates.count - 200) more not shown") }
            return lines.isEmpty ? "no grant holds a live token; nothing to reconcile" : lines.joined(separator: "\n")
        }
        for grant in candidates { try await apply(.reconcileRequested, user: grant.user, actor: actor) }
        return "reconcile started for \(candidates.count) grant(s); see `grants` and `audit` for the outcome"
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
        let sealed = sealer.seal(pair.verifier, binding: SealBinding(kind: .pendingStateVerifier, user: user))
        let expires = Date().addingTimeInterval(600)
        try await committer.write { db in
            try GrantRecords.putPendingState(fingerprint: fingerprint, user: user, sealedVerifier: sealed, expiresAt: expires, in: db)
        }
        // Who asked, for whom: never the verifier or the state, which would let a reader
        // of the audit log finish the flow in the user's place.
        try await record(
            AuditEntry(.authorizeURLIssued, user: user, externalId: nil, actor: actor, detail: ["expires_in_s": 600]),
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
        guard let stored = try await store.pool.read({ db in try GrantRecords.load(user: user, in: db) }) else {
            throw CommandError("no grant for \(user)")
        }
        guard let sealed = stored.sealedSecret, let externalID = stored.secretExternalID else {
            throw CommandError("no secret is held for \(user) (state \(stored.grant.state.rawValue))")
        }
        let secret: Sensitive
        do {
            secret = try sealer.open(sealed, binding: SealBinding(kind: .apiSecret, user: user, externalId: externalID))
        } catch {
            throw CommandError("the sealed secret of \(user) cannot be opened: \(error)")
        }
        try await record(
            AuditEntry(.secretRead, user: user, externalId: externalID, actor: actor, detail: [:]),
            message: "secret read", level: .notice, metadata: ["actor": "\(actor.text)"])
        // The key value to sign with: what verification proved (docs/design.md §12).
        let identity = stored.grant.signingIdentity ?? externalID
        return SecretView(user: user, externalID: externalID, apiKey: identity, apiSecret: secret)
    }

    /// A control command refused to `actor`: the command word and why, never its
    /// arguments. `suppressed`: refusals by the same uid left out since the last row.
    func recordRefusal(command: String, reason: String, suppressed: Int, actor: AuditActor) async throws {
        try await record(
            AuditEntry(.commandRefused, user: nil, externalId: nil, actor: actor,
                       detail: ["command": .string(command), "reason": .string(reason), "suppressed": .int(suppressed)]),
            message: "control command refused (audited)", level: .notice, metadata: ["actor": "\(actor.text)"])
    }
}
