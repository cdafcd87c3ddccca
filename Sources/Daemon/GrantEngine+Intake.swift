import Foundation
import GrantLifecycle
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
                if try await store.wasIngested(fingerprint: fingerprint) {
                    try await record(
                        .duplicateAuthorization(user: user, file: file),
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
        let authorization = Authorization(receivedAt: request.receivedAt, apiKey: request.apiKey, code: request.code, verifier: verifier)
        let (lifecycle, now, roll, lease) = (self.lifecycle, Date(), Double.random(in: 0..<1), leases.check(for: user))
        let transition = try await commit(user: user) { store in
            try await store.ingest(
                authorization, user: user, fingerprint: fingerprint, consumingState: stateFingerprint, file: file, lifecycle: lifecycle,
                now: now, roll: roll, lease: lease)
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
        guard let found = try await store.pendingState(fingerprint: stateFingerprint, now: Date()), found.user == user else { return nil }
        return found.verifier
    }

    /// A revocation from the spool: only for users wbkeyd knows (false for another); for a
    /// grant another instance holds, queued for it.
    func revokeFromSpool(user: String, reason: String) async throws -> Bool {
        do {
            return try await apply(.revokeRequested(reason: reason), user: user) != nil
        } catch LeaseRefusal.heldElsewhere(_, let owner) {
            try await queueRevocation(user: user, reason: reason, actor: .wbkeyd, owner: owner)
            return true
        }
    }

    /// An audit row outside any grant transition (daemon events, rejections, reads).
    @discardableResult
    func record(_ entry: AuditEntry, message: String, level: Logger.Level = .info, metadata: Logger.Metadata = [:]) async throws -> AuditRow {
        if let haltReason { throw EngineHalted(reason: haltReason) }
        let row: AuditRow
        do {
            row = try await store.append(entry)
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
        let fingerprint = sealer.fingerprint(Sensitive(delivery), context: "rejected spool file")
        let recorded: Bool
        do {
            recorded = try await store.appendOnce(entry, fingerprint: fingerprint, at: Date())
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
        if let id = entry.externalID { fields["external_id"] = "\(id)" }
        logger.log(level: level, "\(message)", metadata: fields)
    }
}
