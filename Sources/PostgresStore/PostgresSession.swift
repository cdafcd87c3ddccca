import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Store
import Synchronization

/// One PostgreSQL connection used from one thread at a time, synchronously: the store's
/// writer and readers each run a whole transaction as one closure on a thread of their own
/// (see `StoreConnection`), so each statement waits for its answer here. A connection
/// that failed is dropped and made again on the next use.
final class PostgresSession: @unchecked Sendable {
    // @unchecked: used by one thread at a time, handed over through the backend's queues.
    private let options: PostgresStoreOptions
    private let logger: Logger
    private let role: String
    private var connection: PostgresConnection?
    private static let nextID = ManagedCounter()
    /// Run on each new connection before its first statement: the session-level lock a
    /// writer must hold (`PostgresBackend.Hold`) is lost with the connection.
    private let onConnect: (@Sendable (PostgresConnection, Logger) throws -> Void)?

    init(options: PostgresStoreOptions, role: String, logger: Logger, onConnect: (@Sendable (PostgresConnection, Logger) throws -> Void)? = nil) {
        self.options = options
        self.role = role
        self.logger = logger
        self.onConnect = onConnect
    }

    /// Set by `begin()` until `commit()` or `rollback()`: the open transaction lives on
    /// `connection` alone. Should that connection break (the server restarted, or ended an
    /// idle transaction), a statement must fail rather than run on a new connection, where
    /// it would run outside any transaction and the closing COMMIT would report success for
    /// writes the server already rolled back.
    private var transactionOpen = false

    func begin() throws(StoreError) {
        try run("BEGIN", "beginning a transaction")
        transactionOpen = true
    }

    func commit() throws(StoreError) {
        try run("COMMIT", "committing")
        transactionOpen = false
    }

    /// Ends the transaction, whatever state its connection is in: a broken one is dropped
    /// (the server rolled the transaction back when it lost it).
    func rollback() {
        if let connection, !connection.isClosed {
            do { try run("ROLLBACK", "rolling back") } catch { drop() }
        } else {
            drop()
        }
        transactionOpen = false
    }

    /// Runs one statement; its rows, and how many rows it changed.
    @discardableResult
    func run(_ query: PostgresQuery, _ operation: @autoclosure () -> String) throws(StoreError) -> PostgresResult {
        let connection = try connected()
        do {
            let result = try connection.query(query, logger: logger).wait()
            return PostgresResult(rows: result.rows.map(PostgresRandomAccessRow.init), changed: result.metadata.rows ?? 0)
        } catch {
            let failure = Self.storeError(error, operation: operation(), store: options.displayName)
            if case .unavailable = failure { drop() }
            throw failure
        }
    }

    /// Closes the connection and waits for it (postgres-nio insists a connection is closed
    /// before it goes); never called on an event loop thread.
    func drop() {
        if let connection, !connection.isClosed {
            let closing: EventLoopFuture<Void> = connection.close()
            try? closing.wait()
        }
        connection = nil
    }

    deinit { drop() }

    private func connected() throws(StoreError) -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        if transactionOpen {
            throw .unavailable(store: options.displayName, message: "the connection broke inside a transaction, which the server rolled back")
        }
        do {
            let made = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: try configuration(),
                id: Self.nextID.next(), logger: logger
            ).wait()
            do {
                try onConnect?(made, logger)
            } catch {
                try? made.close().wait()
                throw error
            }
            connection = made
            return made
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, operation: "connecting (\(role))", store: options.displayName)
        }
    }

    private func configuration() throws -> PostgresConnection.Configuration {
        let password = options.password?.revealed
        switch options.endpoint {
        case .socket(let directory, let port):
            return PostgresConnection.Configuration(
                unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: options.user, password: password,
                database: options.database)
        case .tcp(let host, let port):
            var configuration = PostgresConnection.Configuration(
                host: host, port: port, username: options.user, password: password, database: options.database,
                tls: try tls())
            configuration.options.connectTimeout = .seconds(10)
            return configuration
        }
    }

    private func tls() throws -> PostgresConnection.Configuration.TLS {
        guard options.tls != .disable else { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        switch options.tls {
        case .disable: return .disable
        case .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let path = options.rootCertificatePath { tls.trustRoots = .file(path) }
        return .require(try NIOSSLContext(configuration: tls))
    }

    /// A server's refusal keeps its message and SQLSTATE (never the statement's values,
    /// which PostgreSQL puts in the DETAIL field, left out here); anything else means the
    /// server could not be reached or the connection broke.
    static func storeError(_ error: any Error, operation: String, store: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return .database(operation: operation, message: message + state)
            }
            return .unavailable(store: store, message: "\(operation): \(error.code)")
        }
        return .unavailable(store: store, message: "\(operation): \(type(of: error))")
    }
}

struct PostgresResult {
    let rows: [PostgresRandomAccessRow]
    let changed: Int
}

/// Connection ids for postgres-nio's log metadata.
final class ManagedCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }
}

extension PostgresRandomAccessRow: StoreRowReading {
    public func text(_ column: String) throws -> String? { try self[column].decode(String?.self) }
    public func real(_ column: String) throws -> Double? { try self[column].decode(Double?.self) }
    public func integer(_ column: String) throws -> Int64? { try self[column].decode(Int64?.self) }
    public func blob(_ column: String) throws -> Data? { try self[column].decode(Data?.self) }
    public func flag(_ column: String) throws -> Bool { try self[column].decode(Bool?.self) ?? false }
    public func has(_ column: String) -> Bool { contains(column) }
}
