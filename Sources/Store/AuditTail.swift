import GRDB
import Synchronization

/// Who hears of committed audit rows (the `events` subscribers, docs/design.md §12).
/// Both calls run on the store's writer, serialized with every write: a `committed`
/// call's `head` is the newest committed row, and no other commit happens while it runs,
/// so it must be quick and never wait.
public protocol AuditTailSink: Sendable {
    /// Once, before any `committed`: the head when the tail started (0: an empty log).
    func started(at head: Int64)
    /// After each commit that touched the audit table. `rowsAfter(seq)` reads the rows
    /// after `seq` up to `head`, oldest first, on the writer itself; call it only when
    /// someone wants them.
    func committed(head: Int64, rowsAfter: (Int64) throws(StoreError) -> [AuditRow])
    /// After a commit whose rows cannot be told (the head could not be read).
    func failed(_ error: StoreError)
}

/// Tells a sink of every committed audit row, whoever wrote it: a transaction observer
/// on the store's one writer, so no code path that appends a row (grant transitions,
/// intake, refusals, reloads, pruning, start and stop) can be missed, and a row is
/// told only once its commit is durable.
public final class AuditTail: TransactionObserver, Sendable {
    private let sink: any AuditTailSink
    /// Set by a change to `audit` in the transaction under way; the writer is serial,
    /// the lock only satisfies Sendable.
    private let touched = Mutex(false)

    private init(sink: any AuditTailSink) {
        self.sink = sink
    }

    /// Starts telling `sink`; the tail lasts as long as the returned object is kept.
    public static func start(on pool: DatabasePool, sink: any AuditTailSink) throws(StoreError) -> AuditTail {
        let tail = AuditTail(sink: sink)
        do {
            try pool.writeWithoutTransaction { db in
                // On the writer, so no commit falls between the head read and the first notice.
                sink.started(at: try AuditLog.head(in: db)?.seq ?? 0)
                db.add(transactionObserver: tail, extent: .observerLifetime)
            }
        } catch {
            throw StoreError.wrapping(error, operation: "starting the audit tail")
        }
        return tail
    }

    public func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        eventKind.tableName == "audit"
    }

    public func databaseDidChange(with event: DatabaseEvent) {
        touched.withLock { $0 = true }
    }

    public func databaseDidCommit(_ db: Database) {
        guard touched.withLock({ was in defer { was = false }; return was }) else { return }
        let head: Int64
        do throws(StoreError) {
            head = try AuditLog.head(in: db)?.seq ?? 0
        } catch {
            // Unreadable right after its own commit: tell the sink there is something it
            // cannot have, rather than skip it silently.
            sink.failed(error)
            return
        }
        sink.committed(head: head) { seq throws(StoreError) in
            do {
                return try SQLiteStoreConnection(db).auditRows(after: seq, through: head, limit: Int.max)
            } catch {
                throw StoreError.wrapping(error, operation: "reading audit rows after \(seq)")
            }
        }
    }

    public func databaseDidRollback(_ db: Database) {
        touched.withLock { $0 = false }
    }
}
