import Dispatch
import Logging
import PostgresNIO
import Store
import Synchronization

/// The PostgreSQL store as a `StoreBackend` (docs/design.md §13): one writer session on a
/// thread of its own, which runs each group commit as one transaction, and a few reader
/// sessions, which never wait for it.
///
/// Every write transaction first takes one cluster-wide advisory lock, so the audit chain
/// has one head however many instances write: the head read and the insert that extends
/// it cannot interleave with another instance's, and no two transactions can deadlock on
/// grant rows (each holds the lock before touching any). Group commit keeps the number of
/// such transactions per authorization below one under load (the README's figures).
public final class PostgresBackend: StoreBackend, @unchecked Sendable {
    // @unchecked: `writer` is used only on `writerQueue`, readers only while taken from
    // `idleReaders`; the rest is immutable or behind a Mutex.
    public let options: PostgresStoreOptions
    private let logger: Logger
    private let writerQueue = DispatchQueue(label: "wbkeyd.store.postgresql.writer")
    private let writer: PostgresSession
    private let readerQueue = DispatchQueue(label: "wbkeyd.store.postgresql.readers", attributes: .concurrent)
    private let readerSlots: DispatchSemaphore
    private let idleReaders = Mutex<[PostgresSession]>([])
    private let tailSink = Mutex<(any AuditTailSink)?>(nil)

    /// "wbkeyd" and 1: the lock every write transaction takes first.
    static let writeLock: Int64 = 0x7762_6b65_7964_0001
    /// "wbkeyd" and 2: held while the schema is checked and migrated.
    static let migrationLock: Int64 = 0x7762_6b65_7964_0002
    /// "wbkeyd" and 3: every daemon's writer session holds it shared, `migrate-store`'s
    /// exclusive, so that a copy never runs beside a live instance.
    static let clusterLock: Int64 = 0x7762_6b65_7964_0003
    /// "wbke": with the hash of an instance's name, the lock that lets one process at a
    /// time run under that name (its leases, its restart releasing what the name held).
    static let nameLockClass: Int32 = 0x7762_6b65

    /// What the writer session holds for as long as it lives, taken again on each new
    /// connection: a writer that cannot take it back stops.
    public enum Hold: Sendable, Equatable {
        /// Nothing (tests, verifying a chain).
        case none
        /// A daemon: the cluster lock shared, and its instance name's lock. A transaction
        /// left idle longer than `idleLimit` (the lease) is ended by the server: every
        /// instance's writes wait for the one write lock, and a process paused inside a
        /// transaction (SIGSTOP, a partition) would otherwise hold it until it resumed.
        case instance(String, idleLimit: Duration)
        /// `migrate-store`: the cluster lock exclusive, so no instance runs meanwhile.
        case whole
    }

    public var name: String { options.displayName }

    private init(options: PostgresStoreOptions, logger: Logger, hold: Hold) {
        self.options = options
        self.logger = logger
        self.writer = PostgresSession(
            options: options, role: "writer", logger: logger, onConnect: Self.take(hold, store: options.displayName))
        self.readerSlots = DispatchSemaphore(value: max(1, options.readers))
    }

    private static func held(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) throws -> Bool {
        try connection.query(query, logger: logger).wait().rows.first?.decode(Bool.self) ?? false
    }

    private static func take(_ hold: Hold, store: String) -> (@Sendable (PostgresConnection, Logger) throws -> Void)? {
        switch hold {
        case .none:
            return nil
        case .whole:
            return { connection, logger in
                guard try held("SELECT pg_try_advisory_lock(\(clusterLock))", on: connection, logger: logger) else {
                    throw StoreError.inUse(path: store)
                }
            }
        case .instance(let name, let idleLimit):
            let milliseconds = max(1, idleLimit.components.seconds * 1_000 + idleLimit.components.attoseconds / 1_000_000_000_000_000)
            // Keepalives of about a third of the lease: a host that vanished (its process gone
            // without a word, a cut network) loses its session, and with it the name's lock,
            // within about a lease, so its successor under that name can start.
            let probe = max(1, milliseconds / 3_000)
            return { connection, logger in
                for setting in [
                    "idle_in_transaction_session_timeout = \(milliseconds)", "tcp_keepalives_idle = \(probe)",
                    "tcp_keepalives_interval = \(probe)", "tcp_keepalives_count = 3",
                ] {
                    _ = try connection.query(PostgresQuery(unsafeSQL: "SET \(setting)"), logger: logger).wait()
                }
                guard try held("SELECT pg_try_advisory_lock_shared(\(clusterLock))", on: connection, logger: logger) else {
                    throw StoreError.inUse(path: store)
                }
                guard try held("SELECT pg_try_advisory_lock(\(nameLockClass), hashtext(\(name)))", on: connection, logger: logger) else {
                    throw StoreError.instanceRunning(name: name, store: store)
                }
            }
        }
    }

    /// Connects and brings the schema to what this build knows; a database that carries
    /// a step this build does not know was written by a newer wbkeyd and is refused.
    public static func open(options: PostgresStoreOptions, logger: Logger, hold: Hold = .none) throws(StoreError) -> PostgresBackend {
        let backend = PostgresBackend(options: options, logger: logger, hold: hold)
        let migrated: StoreError? = backend.writerQueue.sync {
            do throws(StoreError) {
                try backend.migrate()
                return nil
            } catch {
                return error
            }
        }
        if let migrated { throw migrated }
        return backend
    }

    private func migrate() throws(StoreError) {
        let known = Set(PostgresSchema.steps.map(\.version))
        let result: Result<Void, any Error> = transaction(lock: Self.migrationLock) { _ in
            try self.writer.run(
                """
                CREATE TABLE IF NOT EXISTS wbkeyd_schema (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, "creating the schema table")
            let applied = Set(try self.writer.run("SELECT version FROM wbkeyd_schema", "reading the schema").rows.map {
                Int(try $0.integer("version") ?? 0)
            })
            let unknown = applied.subtracting(known)
            guard unknown.isEmpty else {
                throw StoreError.schemaFromNewerVersion(path: self.name, unknownMigrations: unknown.sorted().map(String.init))
            }
            for step in PostgresSchema.steps where !applied.contains(step.version) {
                for statement in step.statements {
                    try self.writer.run(PostgresQuery(unsafeSQL: statement), "migrating to step \(step.version) (\(step.name))")
                }
                let version = Int64(step.version)
                try self.writer.run(
                    "INSERT INTO wbkeyd_schema (version, name) VALUES (\(version), \(step.name))", "recording step \(step.version)")
            }
        }
        do {
            try result.get()
        } catch let error as StoreError {
            // Not the schema's fault: said as they are, so that start-up can wait for a
            // server that is away and name a database another process holds.
            switch error {
            case .schemaFromNewerVersion, .unavailable, .inUse, .instanceRunning: throw error
            default: throw .migrationFailed(path: name, message: error.description)
            }
        } catch {
            throw .migrationFailed(path: name, message: "\(error)")
        }
    }

    /// One transaction on the writer, under `lock`; runs on `writerQueue`.
    private func transaction<T>(lock: Int64, _ body: (PostgresStoreConnection) throws -> T) -> Result<T, any Error> {
        let connection = PostgresStoreConnection(session: writer, inTransaction: true)
        do {
            try writer.begin()
            do {
                try writer.run("SELECT pg_advisory_xact_lock(\(lock))", "taking the store's write lock")
                let value = try body(connection)
                try connection.flushAudit()
                try writer.commit()
                if connection.touchedAudit { tellTail(inserted: connection.insertedRows) }
                return .success(value)
            } catch {
                // A broken connection rolled back by itself; otherwise say so, and if even
                // that fails, start the next transaction on a fresh connection.
                writer.rollback()
                throw error
            }
        } catch {
            return .failure(error)
        }
    }

    public func asyncWrite<T: Sendable>(
        _ body: @escaping @Sendable (any StoreConnection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        writerQueue.async { completion(self.transaction(lock: Self.writeLock) { try body($0) }) }
    }

    public func blockingWrite<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        try writerQueue.sync { transaction(lock: Self.writeLock) { try body($0) } }.get()
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            readerQueue.async { continuation.resume(with: Result { try self.blockingRead(body) }) }
        }
    }

    public func blockingRead<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        readerSlots.wait()
        let session = idleReaders.withLock { $0.popLast() } ?? PostgresSession(options: options, role: "reader", logger: logger)
        defer {
            idleReaders.withLock { $0.append(session) }
            readerSlots.signal()
        }
        return try body(PostgresStoreConnection(session: session, inTransaction: false))
    }

    public func startAuditTail(sink: any AuditTailSink) throws(StoreError) -> any Sendable {
        let failure: StoreError? = writerQueue.sync {
            // On the writer, so no commit falls between the head read and the first notice.
            do throws(StoreError) {
                let head = try PostgresStoreConnection(session: writer, inTransaction: false).auditHeadForTail()
                sink.started(at: head)
                tailSink.withLock { $0 = sink }
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        return PostgresAuditTail { [weak self] in self?.tailSink.withLock { $0 = nil } }
    }

    /// After a commit that appended audit rows, still on the writer (see `AuditTailSink`).
    /// The rows the transaction inserted are at hand: read back only what came before them
    /// (a sink that fell behind) or when none was kept.
    private func tellTail(inserted: [AuditRow]) {
        guard let sink = tailSink.withLock({ $0 }) else { return }
        let connection = PostgresStoreConnection(session: writer, inTransaction: false)
        let head: Int64
        if let last = inserted.last {
            head = last.seq
        } else {
            do throws(StoreError) {
                head = try connection.auditHeadForTail()
            } catch {
                sink.failed(error)
                return
            }
        }
        sink.committed(head: head) { seq throws(StoreError) in
            if let first = inserted.first, seq >= first.seq - 1 { return inserted.filter { $0.seq > seq } }
            do {
                return try connection.auditRows(after: seq, through: head, limit: Int.max)
            } catch {
                throw PostgresSession.storeError(error, operation: "reading audit rows after \(seq)", store: self.name)
            }
        }
    }

    public func close() throws(StoreError) {
        writerQueue.sync { writer.drop() }
        for session in idleReaders.withLock({ readers in defer { readers = [] }; return readers }) { session.drop() }
    }
}

/// Keeps the audit tail told while it lives.
final class PostgresAuditTail: Sendable {
    private let stop: @Sendable () -> Void
    init(stop: @escaping @Sendable () -> Void) { self.stop = stop }
    deinit { stop() }
}

extension PostgresStoreConnection {
    func auditHeadForTail() throws(StoreError) -> Int64 {
        do {
            return try auditHead()?.seq ?? 0
        } catch {
            throw PostgresSession.storeError(error, operation: "reading the audit head", store: "postgresql")
        }
    }
}
