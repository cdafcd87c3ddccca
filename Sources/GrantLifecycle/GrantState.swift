/// The states of docs/design.md §5. The raw values are the names operators see in
/// `grants`, `show`, metrics and the audit log; they are part of the contract.
public enum GrantState: String, Sendable, CaseIterable, Codable, Comparable {
    case pending
    case awaitingKey = "awaiting_key"
    case securing
    case active
    case dormant
    case revoking
    case revokePending = "revoke_pending"
    case revoked
    case gone
    case disabled
    case noKey = "no_key"
    case lost
    case failed
    case irrevocable

    public static func < (lhs: GrantState, rhs: GrantState) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// States in which a fresh authorization has nothing to lose: the grant restarts
    /// at `pending`. Every other state keeps what it knows (a live key, a secret, a
    /// deletion to do) and only takes the new token.
    var restartsOnAuthorization: Bool {
        switch self {
        case .pending, .noKey, .failed, .revoked, .gone: true
        case .lost: true
        default: false
        }
    }
}
