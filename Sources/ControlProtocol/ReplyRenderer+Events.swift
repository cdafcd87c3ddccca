import GrantLifecycle

// The answers of `events` and `wait` (docs/design.md §12).
extension ReplyRenderer {
    /// One `events` line: the row in the `audit` row shape, one line of JSON whatever the
    /// client asked for (a stream of rows is for programs). Errors follow `json` as always.
    public static func eventLine(_ row: AuditRowView) -> String {
        document(auditObject(row))
    }

    /// The first `events` line: every row after `afterSeq` follows, none is missed.
    public static func subscribedLine(afterSeq: Int64, user: String?) -> String {
        document(["subscribed": ["after_seq": afterSeq, "user": user as Any]])
    }

    /// `wait`'s answer once the grant is in one of the states.
    public func waited(user: String, state: GrantState) -> String {
        message("\(user): \(state.rawValue)", fields: ["user": user, "state": state.rawValue])
    }
}
