import Foundation
import GRDB
import Lifecycle
import Logging
import Sensitive
import Spool
import Store

/// What arrives through the spool, and audit rows that belong to no transition.
extension GrantEngine {
    enum IngestOutcome: Sendable, Equatable {
        case received
        case duplicate
        /// Not stored, for this reason (free of secrets): the file goes to rejected/.
        case refused(String)
    }

    static let stateRefusal = "state does not match a pending authorize-url for this user (unknown, used or expired)"

    /// Stores a new authorization, sealed, and starts its grant on the way, in one
    /// transaction with its audit row. The same (user, code) twice is recorded once.
    ///
    /// Without a `code_verifier`, `state` names a pending `authorize-url`: its user is
    /// checked before anything is changed, and the state is used up in the same commit
    /// that stores the grant. A file naming the wrong user thus leaves the owner's state
    /// alone, and a crash between the two cannot lose the authorization.
    func ingest(_ request: AuthorizationRequest, file: String) async throws -> IngestOutcome {
        let user = request.user
        let fingerprint = sealer.fingerprint(request.code, context: "authorization code of \(user)")
        return try await withLock(user) { () async throws -> IngestOutcome in
            var verifier = request.codeVerifier
            var stateFingerprint: String?
            if verifier == nil, let state = request.state {
                // Seen before (a crash after the commit, before the unlink): a duplicate,
                // whose state is rightly gone.
                if try await store.pool.read({ db in try GrantRecords.wasIngested(fingerprint: fingerprint, in: db) }) {
                    try await record(
                        AuditEntry(.authorizationDuplicate, user: user, externalId: nil, actor: .wbkeyd, detail: ["file": .string(file)]),
                        message: "duplicate authorization ignored", metadata: ["file": "\(file)"])
                    return .duplicate
                }
                let found = sealer.fingerprint(state, context: "authorize-url state")
                guard let pending = try await pendingVerifier(stateFingerprint: found, user: user) else {
                    return .refused(Self.stateRefusal)
                }
                verifier = pending
                stateFingerprint = found
            }
            guard let verifier else { return .refused("code_verifier missing and no state given") }
            return try await ingestLocked(request, verifier: verifier, fingerprint: fingerprint, usingState: stateFingerprint, file: file)
        }
    }

    private func ingestLocked(
        _ request: AuthorizationRequest, verifier: Sensitive, fingerprint: String, usingState stateFingerprint: String?, file: String
    ) async throws -> IngestOutcome {
        let user = request.user
        let sealedCode = sealer.seal(request.code, binding: SealBinding(kind: .authorizationCode, user: user))
        let sealedVerifier = sealer.seal(verifier, binding: SealBinding(kind: .codeVerifier, user: user))
        let step = TransactionStep(lifecycle: lifecycle, audit: audit, now: Date(), roll: Double.random(in: 0..<1))
        let audit = self.audit
        let receivedAt = AuditTimestamp.format(request.receivedAt)
        let transition = try await commit(user: user) { db in
            guard try GrantRecords.recordIngestion(fingerprint: fingerprint, user: user, at: step.now, in: db) else {
                _ = try audit.append(
                    AuditEntry(.authorizationDuplicate, user: user, externalId: nil, actor: .wbkeyd, detail: ["file": .string(file)]),
                    in: db)
                return nil
            }
            if let stateFingerprint { try GrantRecords.forgetPendingState(fingerprint: stateFingerprint, in: db) }
            _ = try audit.append(
                AuditEntry(.authorizationReceived, user: user, externalId: nil, actor: .wbkeyd,
                    detail: ["file": .string(file), "received_at": .string(receivedAt), "with_api_key": .bool(request.apiKey != nil)]),
                in: db)
            return try step.run(
                .authorizationReceived(receivedAt: request.receivedAt, apiKey: request.apiKey), user: user, actor: .wbkeyd,
                create: true,
                extras: { t, db in
                    // A code already too old fails in this same decision: nothing to keep.
                    guard !t.wipeAuthorization else { return }
                    try GrantRecords.setAuthorization(code: sealedCode, verifier: sealedVerifier, user: user, in: db)
                }, in: db)
        }
        let outcome: IngestOutcome = transition == nil ? .duplicate : .received
        guard admitRoutineLine() else { return outcome }
        logger.info(
            outcome == .received ? "authorization received" : "duplicate authorization ignored",
            metadata: [
                "event": outcome == .received ? "authorization_received" : "authorization_duplicate", "user": "\(user)",
                "file": "\(file)",
            ])
        return outcome
    }

    /// The verifier kept for an `authorize-url` state, when the state is live and was
    /// issued for `user`; nothing is changed (`ingest` uses the state up when it commits).
    private func pendingVerifier(stateFingerprint: String, user: String) async throws -> Sensitive? {
        let now = Date()
        let found = try await store.pool.read { db in
            try GrantRecords.pendingState(fingerprint: stateFingerprint, now: now, in: db)
        }
        guard let found, found.user == user else { return nil }
        return try? sealer.open(found.sealedVerifier, binding: SealBinding(kind: .pendingStateVerifier, user: user))
    }

    /// A revocation from the spool: only for users wbkeyd knows.
    func revokeFromSpool(user: String, reason: String) async throws -> Transition? {
        try await apply(.revokeRequested(reason: reason), user: user)
    }

    /// An audit row outside any grant transition (daemon events, rejections, reads).
    @discardableResult
    func record(_ entry: AuditEntry, message: String, level: Logger.Level = .info, metadata: Logger.Metadata = [:]) async throws -> AuditRow {
        if let haltReason { throw EngineHalted(reason: haltReason) }
        let audit = self.audit
        let row: AuditRow
        do {
            row = try await committer.write { db in try audit.append(entry, in: db) }
        } catch {
            halt("audit write failed: \(error)")
            throw error
        }
        log(entry, message: message, level: level, metadata: metadata)
        return row
    }

    /// The audit row of a refused spool file, written once per delivery: a crash between
    /// this commit and the file's move to rejected/ leaves it in claimed/, and refusing it
    /// again at start must not audit it twice. `delivery` names this one delivery (name,
    /// inode, size, mtime), kept as a keyed fingerprint beside the ingested codes. False
    /// when the refusal was recorded before.
    func recordRejection(
        _ entry: AuditEntry, delivery: String, message: String, level: Logger.Level, metadata: Logger.Metadata
    ) async throws -> Bool {
        if let haltReason { throw EngineHalted(reason: haltReason) }
        let audit = self.audit
        let fingerprint = sealer.fingerprint(Sensitive(delivery), context: "rejected spool file")
        let now = Date()
        let recorded: Bool
        do {
            recorded = try await committer.write { db in
                guard try GrantRecords.recordIngestion(fingerprint: fingerprint, user: entry.user ?? "", at: now, in: db) else {
                    return false
                }
                _ = try audit.append(entry, in: db)
                return true
            }
        } catch {
            halt("audit write failed: \(error)")
            throw error
        }
        if recorded { log(entry, message: message, level: level, metadata: metadata) }
        return recorded
    }

    private func log(_ entry: AuditEntry, message: String, level: Logger.Level, metadata: Logger.Metadata) {
        var fields = metadata
        fields["event"] = "\(entry.event.rawValue)"
        if let user = entry.user { fields["user"] = "\(user)" }
        if let id = entry.externalId { fields["external_id"] = "\(id)" }
        logger.log(level: level, "\(message)", metadata: fields)
    }
}
