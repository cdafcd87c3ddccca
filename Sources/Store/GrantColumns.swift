import Foundation
import GrantLifecycle

/// A column value as every backend binds it; times are Unix seconds.
public enum StoreValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case flag(Bool)

    init(_ date: Date?) { self = date.map { .real($0.timeIntervalSince1970) } ?? .null }
    init(_ text: String?) { self = text.map { .text($0) } ?? .null }
}

/// Typed reads of one stored row, whatever the backend.
public protocol StoreRowReading {
    func text(_ column: String) throws -> String?
    func real(_ column: String) throws -> Double?
    func integer(_ column: String) throws -> Int64?
    func blob(_ column: String) throws -> Data?
    func flag(_ column: String) throws -> Bool
    func has(_ column: String) -> Bool
}

/// The grant's engine fields as columns: one mapping for every backend, so a field added
/// to `Grant` cannot be stored by one and forgotten by the other.
public enum GrantColumns {
    /// The columns `values(of:)` answers, in its order (the sealed ones are set apart).
    public static let names = [
        "user", "state", "reason", "external_id", "api_key", "token_expires_at", "step_at", "step_attempts",
        "step_started_at", "lock_attempts", "lock_started_at", "poll_until", "exchange_at", "exchange_attempts",
        "authorization_received_at", "doomed_key", "resume_after_deletion", "key_identity", "key_checked_at", "key_check",
        "key_used_at", "probe_at", "next_deadline", "updated_at",
    ]

    public static func values(of g: Grant) -> [StoreValue] {
        [
            .text(g.user), .text(g.state.rawValue), StoreValue(g.reason), StoreValue(g.externalID), StoreValue(g.apiKey),
            StoreValue(g.tokenExpiresAt), StoreValue(g.stepAt), .integer(Int64(g.stepAttempts)), StoreValue(g.stepStartedAt),
            .integer(Int64(g.lockAttempts)), StoreValue(g.lockStartedAt), StoreValue(g.pollUntil), StoreValue(g.exchangeAt),
            .integer(Int64(g.exchangeAttempts)), StoreValue(g.authorizationReceivedAt), StoreValue(g.doomedKey),
            .flag(g.resumeAfterDeletion), StoreValue(g.keyIdentity?.rawValue), StoreValue(g.keyCheckedAt),
            StoreValue(g.keyCheck?.rawValue), StoreValue(g.keyUsedAt), StoreValue(g.probeAt), StoreValue(g.nextDeadline),
            .real(g.updatedAt.timeIntervalSince1970),
        ]
    }

    /// A state this build does not know is refused, never guessed: reading it as another
    /// state would let the engine act on a grant it does not understand.
    public static func decode(_ row: some StoreRowReading) throws -> StoredGrant {
        let user = try row.text("user") ?? ""
        let stateText = try row.text("state") ?? ""
        guard let state = GrantState(rawValue: stateText) else {
            throw StoreError.database(operation: "reading the grant of \(user)", message: "unknown state '\(stateText)'")
        }
        func date(_ column: String) throws -> Date? { try row.real(column).map(Date.init(timeIntervalSince1970:)) }
        func count(_ column: String) throws -> Int { Int(try row.integer(column) ?? 0) }
        var g = Grant(user: user, state: state, now: try date("updated_at") ?? Date(timeIntervalSince1970: 0))
        g.reason = try row.text("reason")
        g.externalID = try row.text("external_id")
        g.apiKey = try row.text("api_key")
        g.tokenExpiresAt = try date("token_expires_at")
        g.stepAt = try date("step_at")
        g.stepAttempts = try count("step_attempts")
        g.stepStartedAt = try date("step_started_at")
        g.lockAttempts = try count("lock_attempts")
        g.lockStartedAt = try date("lock_started_at")
        g.pollUntil = try date("poll_until")
        g.exchangeAt = try date("exchange_at")
        g.exchangeAttempts = try count("exchange_attempts")
        g.authorizationReceivedAt = try date("authorization_received_at")
        g.doomedKey = try row.text("doomed_key")
        g.resumeAfterDeletion = try row.flag("resume_after_deletion")
        // Unknown values read as unknown (nil): they only say which identity to try first
        // and what the last check found, and the next check sets them again.
        g.keyIdentity = try row.text("key_identity").flatMap(KeyIdentity.init(rawValue:))
        g.keyCheckedAt = try date("key_checked_at")
        g.keyCheck = try row.text("key_check").flatMap(KeyCheck.init(rawValue:))
        g.keyUsedAt = try date("key_used_at")
        g.probeAt = try date("probe_at")
        let sealedSecret = try row.blob("sealed_secret")
        g.hasSecret = sealedSecret != nil
        return StoredGrant(
            grant: g, sealedToken: try row.blob("sealed_token"), sealedSecret: sealedSecret,
            secretExternalID: try row.text("secret_external_id"), sealedCode: try row.blob("sealed_code"),
            sealedVerifier: try row.blob("sealed_verifier"),
            lease: row.has("lease_epoch")
                ? GrantLease(owner: try row.text("owner"), epoch: try row.integer("lease_epoch") ?? 0, ownerLive: row.has("owner_live") ? try row.flag("owner_live") : false)
                : nil)
    }
}
