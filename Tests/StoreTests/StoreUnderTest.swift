import Foundation
import Logging
import PostgresHarness
import PostgresStore
import Sensitive
import Testing
@testable import Store

/// The backends the store's shared tests run on: a SQLite file in a fresh directory, and a
/// fresh database on the real PostgreSQL server the tests start (PostgresHarness).
enum BackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql
    var testDescription: String { rawValue }
}

/// A fresh, keyed store on one backend; what it lives in goes away with it.
struct StoreUnderTest: Sendable {
    let backend: any StoreBackend
    let keyring: StoreKeyring
    /// The temporary directory (SQLite); nil for PostgreSQL, whose database is dropped
    /// with the test server.
    let directory: TemporaryDirectory?

    static func make(_ kind: BackendKind) async throws -> StoreUnderTest {
        let empty = try await makeEmpty(kind)
        let keyring = try StoreKeyring.unlock(masterKey: testMasterKey, backend: empty.backend)
        return StoreUnderTest(backend: empty.backend, keyring: keyring, directory: empty.directory)
    }

    /// Migrated but not keyed: what `migrate-store` copies into.
    static func makeEmpty(_ kind: BackendKind) async throws -> (backend: any StoreBackend, directory: TemporaryDirectory?) {
        let backend: any StoreBackend
        var directory: TemporaryDirectory?
        switch kind {
        case .sqlite:
            let made = try TemporaryDirectory()
            directory = made
            backend = SQLiteBackend(try StoreDatabase.open(path: made.file("wbkeyd.sqlite3")))
        case .postgresql:
            backend = try PostgresBackend.open(options: try await freshPostgresDatabase(), logger: Logger(label: "test"))
        }
        return (backend, directory)
    }

    /// Walks the whole chain through the backend: every link and every row's HMAC under
    /// the store's chain key. Answers the number of rows.
    func chainRows() async throws -> Int {
        let rows = try await backend.read { db in try db.auditRows(after: 0, through: nil, limit: Int.max) }
        var previous = AuditChain.genesisPrevHash
        for row in rows {
            #expect(row.prevHash == previous, "row \(row.seq) does not link to the one before")
            let expected = AuditChain.hash(
                prevHash: row.prevHash, seq: row.seq, at: row.at, event: row.event.rawValue, user: row.user,
                externalID: row.externalID, actor: row.actor.text, detail: row.detail, key: keyring.chainKey)
            #expect(row.hash == expected, "row \(row.seq) has the wrong hash")
            previous = row.hash
        }
        return rows.count
    }
}

/// Options for a fresh database on the shared test server.
func freshPostgresDatabase() async throws -> PostgresStoreOptions {
    let server = try await PostgresServer.shared()
    let database = try await server.createDatabase()
    return PostgresStoreOptions(
        endpoint: .tcp(host: "127.0.0.1", port: server.port), user: PostgresServer.loginRole, database: database.name,
        password: Sensitive(server.password), tls: .disable)
}
