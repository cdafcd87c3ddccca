import GrantLifecycle
// The audit events of docs/design.md §6 (`AuditEvent`) are defined once, in GrantLifecycle,
// whose transitions produce most of them.

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
