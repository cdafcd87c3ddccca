/// The audit events of DESIGN.md §6. The raw values are what the `event` column holds and
/// what the chain hashes: never rename one.
public enum AuditEvent: String, Sendable, CaseIterable, Codable {
    case daemonStarted = "daemon_started"
    case daemonStopped = "daemon_stopped"
    case configReloaded = "config_reloaded"
    case authorizationReceived = "authorization_received"
    case authorizationRejected = "authorization_rejected"
    case authorizationDuplicate = "authorization_duplicate"
    case tokenExchanged = "token_exchanged"
    case tokenExchangeFailed = "token_exchange_failed"
    case keyDetected = "key_detected"
    case keyNotCreated = "key_not_created"
    case secretSecured = "secret_secured"
    case secretLost = "secret_lost"
    case secretRead = "secret_read"
    case keyDisabled = "key_disabled"
    case keyGone = "key_gone"
    case reconcileDrift = "reconcile_drift"
    case revokeRequested = "revoke_requested"
    case keyRevoked = "key_revoked"
    case keyRevokeFailed = "key_revoke_failed"
    case tokenExpired = "token_expired"
    case auditPruned = "audit_pruned"
}

/// Who caused an audited change: the daemon on its own, or a control-socket peer by uid.
public enum AuditActor: Sendable, Hashable {
    case wbkeyd
    case uid(UInt32)

    /// The `actor` column's text: `wbkeyd` or `uid:N`.
    public var text: String {
        switch self {
        case .wbkeyd: "wbkeyd"
        case let .uid(uid): "uid:\(uid)"
        }
    }

    public init?(text: String) {
        if text == "wbkeyd" {
            self = .wbkeyd
        } else if text.hasPrefix("uid:"), case let digits = text.dropFirst(4),
            !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let uid = UInt32(digits)
        {
            self = .uid(uid)
        } else {
            return nil
        }
    }
}

extension AuditActor: CustomStringConvertible {
    public var description: String { text }
}
