import Foundation
import GRDB

/// One wbkeyd process as the store knows it: a row per instance name, written at start,
/// refreshed by the instance's heartbeat and stamped at a clean stop, so that `status`
/// shows every instance sharing the store and when each was last heard of
/// (docs/design.md §13). Times are the writing host's clock.
public struct InstanceRecord: Sendable, Equatable {
    public var name: String
    public var host: String
    public var pid: Int64
    public var startedAt: Date
    public var lastSeen: Date
    /// Set by a clean stop and cleared by the next start: an instance whose row has none
    /// and whose `lastSeen` is old ended without saying so (kill -9, a lost host).
    public var stoppedAt: Date?

    public init(name: String, host: String, pid: Int64, startedAt: Date, lastSeen: Date, stoppedAt: Date? = nil) {
        self.name = name
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.lastSeen = lastSeen
        self.stoppedAt = stoppedAt
    }
}

/// The `instances` table in SQLite; the PostgreSQL backend says the same in its dialect.
public enum InstanceRecords {
    public static let migration = StoreMigration(version: 7, name: "instances") { db in
        try db.execute(sql: """
            CREATE TABLE instances (
                name TEXT PRIMARY KEY NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                started_at REAL NOT NULL,
                last_seen REAL NOT NULL,
                stopped_at REAL
            ) WITHOUT ROWID;
            """)
    }

    /// Writes `record` whole over any earlier row of the same name.
    static func put(_ record: InstanceRecord, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO instances (name, host, pid, started_at, last_seen, stopped_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
                last_seen = excluded.last_seen, stopped_at = excluded.stopped_at
            """).execute(arguments: [
                record.name, record.host, record.pid, record.startedAt.timeIntervalSince1970,
                record.lastSeen.timeIntervalSince1970, record.stoppedAt?.timeIntervalSince1970,
            ])
    }

    static func all(in db: Database) throws -> [InstanceRecord] {
        try Row.fetchAll(db, sql: "SELECT name, host, pid, started_at, last_seen, stopped_at FROM instances ORDER BY name").map { row in
            let stopped: Double? = row["stopped_at"]
            return InstanceRecord(
                name: row["name"], host: row["host"], pid: row["pid"],
                startedAt: Date(timeIntervalSince1970: row["started_at"]), lastSeen: Date(timeIntervalSince1970: row["last_seen"]),
                stoppedAt: stopped.map { Date(timeIntervalSince1970: $0) })
        }
    }
}
