import GRDB

/// The highest V4 nonce wbkeyd handed out or sent for each signing identity (docs/design.md
/// §12), so that nonces never go backwards across a restart, whatever the clock did: the
/// mark is written in the same transaction as the audit row of the signature or read, and a
/// starting daemon seeds its nonce source from it.
public enum NonceRecords {
    public static let migration = StoreMigration(version: 6, name: "key_nonces") { db in
        try db.execute(sql: """
            CREATE TABLE key_nonces (
                api_key TEXT PRIMARY KEY NOT NULL,
                last_nonce INTEGER NOT NULL
            ) WITHOUT ROWID;
            """)
    }

    /// Raises the mark of `apiKey` to `nonce`; a lower value changes nothing.
    public static func raise(_ apiKey: String, to nonce: Int64, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO key_nonces (api_key, last_nonce) VALUES (?, ?)
            ON CONFLICT (api_key) DO UPDATE SET last_nonce = max(last_nonce, excluded.last_nonce)
            """).execute(arguments: [apiKey, nonce])
    }

    /// Every mark, to seed the daemon's nonce source at start.
    public static func all(in db: Database) throws -> [String: Int64] {
        var marks: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT api_key, last_nonce FROM key_nonces") {
            marks[row["api_key"]] = row["last_nonce"]
        }
        return marks
    }
}
