import Foundation
import Logging
import PostgresHarness
import Sensitive
import Store
import Synchronization
import Testing
@testable import PostgresStore

let testMasterKey = Data((0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })

/// What only the PostgreSQL backend has to show: its schema and guards as a `psql`
/// session (an operator, or someone with the database's password) meets them, a newer
/// schema refused, and a server that goes away and comes back. The behaviour it shares
/// with SQLite is tested on both in StoreTests.
@Suite struct PostgresStoreTests {
    func options(_ server: PostgresServer, _ database: String) -> PostgresStoreOptions {
        PostgresStoreOptions(
            endpoint: .tcp(host: "127.0.0.1", port: server.port), user: PostgresServer.loginRole, database: database,
            password: Sensitive(server.password), tls: .disable)
    }

    func keyedStore(_ server: PostgresServer) async throws -> (GrantStore, String) {
        let database = try await server.createDatabase().name
        let backend = try PostgresBackend.open(options: options(server, database), logger: Logger(label: "test"))
        let store = try GrantStore(backend: backend, keyring: try StoreKeyring.unlock(masterKey: testMasterKey, backend: backend))
        return (store, database)
    }

    @Test func theAuditLogRefusesChangesFromAnySession() async throws {
        let server = try await PostgresServer.shared()
        let (store, database) = try await keyedStore(server)
        for index in 1...3 { _ = try await store.append(AuditEntry(.secretRead, user: "u\(index)")) }
        for sql in [
            "UPDATE audit SET event = 'x' WHERE seq = 2", "DELETE FROM audit WHERE seq = 1", "TRUNCATE audit",
            "INSERT INTO audit (seq, at, event, actor, detail, prev_hash, hash) VALUES (9, 'a', 'e', 'wbkeyd', '{}', "
                + "repeat('0', 64), repeat('1', 64))",
            "DELETE FROM store_keys",
        ] {
            await #expect(throws: (any Error).self, "\(sql) went through") { _ = try await server.execute(sql, database: database) }
        }
        // The pruning gate lives for one transaction: once it commits, the same session
        // is refused again.
        await #expect(throws: (any Error).self) {
            _ = try await server.execute(
                "BEGIN; SELECT set_config('wbkeyd.prune_through', '1', true); COMMIT; DELETE FROM audit WHERE seq = 1;",
                database: database)
        }
        #expect(try await server.execute("SELECT count(*) FROM audit", database: database) == "3")
    }

    @Test func reopeningMigratesNothingAndANewerSchemaIsRefused() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase().name
        _ = try PostgresBackend.open(options: options(server, database), logger: Logger(label: "test"))
        _ = try PostgresBackend.open(options: options(server, database), logger: Logger(label: "test"))
        #expect(try await server.execute("SELECT count(*) FROM wbkeyd_schema", database: database) == String(PostgresSchema.steps.count))
        _ = try await server.execute("INSERT INTO wbkeyd_schema (version, name) VALUES (99, 'future')", database: database)
        #expect(throws: StoreError.schemaFromNewerVersion(path: options(server, database).displayName, unknownMigrations: ["99"])) {
            _ = try PostgresBackend.open(options: options(server, database), logger: Logger(label: "test"))
        }
    }

    @Test func aWrongPasswordIsNamedAndNeverShown() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase().name
        var wrong = options(server, database)
        let password = "wrong-\(UUID())"
        wrong.password = Sensitive(password)
        do {
            _ = try PostgresBackend.open(options: wrong, logger: Logger(label: "test"))
            Issue.record("a wrong password opened the store")
        } catch {
            let text = "\(error)" + String(reflecting: error)
            #expect(!text.contains(password))
            #expect(!text.contains(server.password))
            #expect(text.contains(wrong.displayName))
        }
    }

    /// A private server: this test stops it.
    @Test func aServerThatGoesAwayIsUnavailableAndTheStoreCarriesOnWhenItIsBack() async throws {
        let server = try await PostgresServer.start()
        defer { Task { await server.remove() } }
        let (store, _) = try await keyedStore(server)
        _ = try await store.append(AuditEntry(.secretRead, user: "u1"))
        await server.kill()
        do {
            _ = try await store.append(AuditEntry(.secretRead, user: "u2"))
            Issue.record("a write succeeded with the server gone")
        } catch let error as StoreError {
            guard case .unavailable = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
        }
        try await server.restart()
        let row = try await store.append(AuditEntry(.secretRead, user: "u3"))
        #expect(row.seq == 2)
        #expect(try await store.auditRows(limit: 10).map(\.user) == ["u1", "u3"])
    }

    /// Instances share a database but not a name; `migrate-store` shares it with none. A
    /// writer paused inside a transaction (SIGSTOP between two statements) is cut off by the
    /// server after its idle limit, so the one write lock every instance needs is held no
    /// longer than that; the paused writer's transaction fails and writes nothing.
    @Test func instancesShareADatabaseAndAPausedWriterHoldsTheWriteLockOnlyItsIdleLimit() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase().name
        let logger = Logger(label: "test")
        let alpha = try PostgresBackend.open(options: options(server, database), logger: logger, hold: .instance("alpha", idleLimit: .seconds(1)))
        let beta = try PostgresBackend.open(options: options(server, database), logger: logger, hold: .instance("beta", idleLimit: .seconds(1)))
        #expect(throws: StoreError.instanceRunning(name: "alpha", store: alpha.name)) {
            _ = try PostgresBackend.open(options: options(server, database), logger: logger, hold: .instance("alpha", idleLimit: .seconds(1)))
        }
        #expect(throws: StoreError.inUse(path: alpha.name)) {
            _ = try PostgresBackend.open(options: options(server, database), logger: logger, hold: .whole)
        }
        let keyring = try StoreKeyring.unlock(masterKey: testMasterKey, backend: alpha)
        // The paused writer on a thread of its own (not the tests' two-thread pool), holding
        // the write lock once its row went to the server; then idle, as a stopped process is.
        let resumed = Mutex(false)
        let holding = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let paused = Thread {
            let result = Result {
                try alpha.blockingWrite { db in
                    _ = try AuditLog(chainKey: keyring.chainKey).append(AuditEntry(.secretRead, user: "paused"), in: db)
                    _ = try db.auditRows(after: 0, through: nil, limit: 1)  // sends the row
                    holding.signal()
                    Thread.sleep(forTimeInterval: 8)
                    resumed.withLock { $0 = true }
                    _ = try db.auditRows(after: 0, through: nil, limit: 1)
                }
            }
            outcome.withLock { $0 = result }
        }
        paused.start()
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                holding.wait()
                continuation.resume()
            }
        }
        let betaStore = try GrantStore(backend: beta, keyring: try StoreKeyring.unlock(masterKey: testMasterKey, backend: beta))
        _ = try await betaStore.append(AuditEntry(.secretRead, user: "beta"))
        #expect(!resumed.withLock { $0 }, "beta's write waited for the paused writer to resume")
        while outcome.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(100)) }
        #expect(throws: StoreError.self) { try outcome.withLock { $0 }!.get() }
        #expect(try await betaStore.auditRows(limit: 10).compactMap(\.user) == ["beta"], "the paused transaction wrote nothing")
    }
}
