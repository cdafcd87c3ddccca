import Foundation
import GrantLifecycle
import Synchronization

/// One grant's change of state in a commit; `from` is nil for a grant it created.
public struct GrantMove: Sendable, Equatable {
    public let from: GrantState?
    public let to: GrantState

    public init(from: GrantState?, to: GrantState) {
        self.from = from
        self.to = to
    }
}

/// The store's aggregates that `status`, `metrics` and systemd's STATUS= report, kept in
/// memory so that answering them reads no table and waits for no actor: grants by state,
/// the audit chain head and the earliest grant deadline.
///
/// How fresh: loaded from the store at start, then brought up to date by the group
/// committer after each commit and before any caller of that commit resumes. A reader
/// sees the store as of the last commit; it can lag a commit only by the instant
/// between SQLite's COMMIT returning and `committed(_:tail:)` taking the lock. Every
/// write to the grants or the audit chain goes through the committer, or this lies.
public final class StoreSummary: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// Only states that have grants.
        public var grants: [GrantState: Int]
        public var auditHead: AuditHead?
        public var nextDeadline: Date?
        /// Audit rows committed by this process, by event (rows written before the summary
        /// was loaded, such as `audit_keyed` at unlock, are not among them).
        public var auditEvents: [AuditEvent: Int] = [:]
    }

    /// What a commit reads at its end, inside its transaction: two index lookups.
    struct Tail: Sendable {
        let auditHead: AuditHead?
        let nextDeadline: Date?
        /// The rows after the previous head, by event.
        var newEvents: [String: Int] = [:]

        static func read(in db: any StoreConnection) throws -> Tail {
            Tail(auditHead: try AuditLog.head(in: db), nextDeadline: try db.nextDeadline())
        }

        /// The tail of a commit that began with the chain at `previousHead`.
        static func read(in db: any StoreConnection, after previousHead: AuditHead?) throws -> Tail {
            var tail = try read(in: db)
            if tail.auditHead != previousHead {
                tail.newEvents = try AuditLog.eventCounts(after: previousHead?.seq ?? 0, in: db)
            }
            return tail
        }
    }

    private let state: Mutex<Snapshot>

    /// Counts the grants by state (one pass over the state index) and reads the tail.
    init(loadingFrom backend: any StoreBackend) throws {
        let snapshot = try backend.blockingRead { db in
            let tail = try Tail.read(in: db)
            return Snapshot(grants: try db.grantCountsByState(), auditHead: tail.auditHead, nextDeadline: tail.nextDeadline)
        }
        state = Mutex(snapshot)
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// The grants by state as counted in the store: other instances sharing it commit moves
    /// that this summary does not see. A move committed here after the count and before
    /// this call is undone until the next count, one heartbeat later.
    func recounted(_ grants: [GrantState: Int]) {
        state.withLock { $0.grants = grants.filter { $0.value > 0 } }
    }

    /// A commit made `moves` and left the store with `tail`.
    func committed(_ moves: [GrantMove], tail: Tail) {
        state.withLock { snapshot in
            for move in moves where move.from != move.to {
                if let from = move.from {
                    let left = (snapshot.grants[from] ?? 0) - 1
                    snapshot.grants[from] = left > 0 ? left : nil
                }
                snapshot.grants[move.to, default: 0] += 1
            }
            snapshot.auditHead = tail.auditHead
            snapshot.nextDeadline = tail.nextDeadline
            for (name, n) in tail.newEvents {
                // A name this build does not know cannot come from its own commit.
                if let event = AuditEvent(rawValue: name) { snapshot.auditEvents[event, default: 0] += n }
            }
        }
    }
}
