import Foundation

/// Why a claimed file goes to `rejected/`: it could not be read as a spool file, or
/// its content is not a valid request.
public enum SpoolRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(SpoolReadRefusal)
    case invalid(SpoolRejection)

    /// The one line for `NAME.reason`, the audit and the log; free of secrets.
    public var reason: String {
        switch self {
        case .unreadable(let refusal): refusal.reason
        case .invalid(let rejection): rejection.reason
        }
    }

    /// The file's user reference when it was readable and valid.
    public var user: String? {
        if case .invalid(let rejection) = self { return rejection.user }
        return nil
    }

    public var description: String { reason }
}

extension SpoolDirectory {
    /// Reads and parses one claimed file: the pickup stage in one call. The caller
    /// commits a success and then calls `complete(_:)`, or passes a failure's
    /// `reason` to `reject(_:reason:)`.
    public func examine(_ claimed: ClaimedFile, now: Date, maxCodeAge: Duration)
        -> Result<SpoolItem, SpoolRefusal>
    {
        switch read(claimed) {
        case .failure(let refusal):
            return .failure(.unreadable(refusal))
        case .success(let content):
            return SpoolParser.parse(
                bytes: content.bytes, fileModified: content.modified, now: now, maxCodeAge: maxCodeAge
            ).mapError(SpoolRefusal.invalid)
        }
    }
}
