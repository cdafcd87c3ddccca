import PostgresHarness
import WBKeydHarness

extension DaemonFixture.Options {
    /// A daemon whose store is `database` of the tests' real server (docs/design.md §13),
    /// reached over loopback TCP with the password credential.
    static func onPostgreSQL(_ server: PostgresServer, _ database: PostgresDatabase) -> Self {
        var options = Self()
        options.config = server.storeConfig(database)
        return options
    }
}

extension PostgresServer {
    /// The `[store]` keys that put a daemon on `database`.
    nonisolated func storeConfig(_ database: PostgresDatabase) -> [String: TOMLValue] {
        ["store.backend": "postgresql", "store.url": .string(database.url), "store.password_file": .string(passwordFile)]
    }
}
