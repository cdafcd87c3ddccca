import Foundation
import PostgresHarness

/// A fixture's store in a fresh database of the tests' shared PostgreSQL server, when
/// `WBKEYD_TEST_STORE=postgresql` runs the daemon's suites on that backend (`make test`
/// does, for the suites that do not inspect the SQLite file itself).
public struct PostgresStoreUnderTest: Sendable {
    public let server: PostgresServer
    public let database: PostgresDatabase

    public static let environmentKey = "WBKEYD_TEST_STORE"

    /// A database when the environment asks for PostgreSQL and the test has not chosen a
    /// backend itself.
    static func chosen(_ options: DaemonFixture.Options) async throws -> PostgresStoreUnderTest? {
        guard options.config["store.backend"] == nil,
            let wanted = ProcessInfo.processInfo.environment[environmentKey], !wanted.isEmpty, wanted != "sqlite"
        else { return nil }
        guard wanted == "postgresql" else {
            throw HarnessError.unexpectedOutput(command: environmentKey, detail: "expected sqlite or postgresql, got \(wanted)")
        }
        let server = try await PostgresServer.shared()
        return PostgresStoreUnderTest(server: server, database: try await server.createDatabase())
    }

    /// `sql` through psql as the superuser: unaligned, `|` between columns, as the sqlite3
    /// CLI's list mode prints.
    func execute(_ sql: String) async throws -> String {
        try await server.execute(sql, database: database.name)
    }

    /// The rows of a query as JSON objects, as `sqlite3 -json` gives them.
    func jsonRows(_ sql: String) async throws -> String {
        try await execute("SELECT coalesce(json_agg(row_to_json(q)), '[]'::json) FROM (\(sql)) AS q")
    }
}
