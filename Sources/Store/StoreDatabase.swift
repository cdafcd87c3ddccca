#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB

/// The daemon's SQLite store: one WAL pool (one writer, several readers) with the settings
/// a once-only secret needs, migrated to the schema this build knows.
public struct StoreDatabase: Sendable {
    public let path: String
    public let pool: DatabasePool

    /// Connection settings, named so tests and `status` can show what is in force.
    public enum Settings {
        /// Seconds the writer (and the read-only opener) waits for a lock before giving up
        /// with SQLITE_BUSY. GRDB gives the pool's readers a 10 s wait of its own.
        public static let busyTimeoutSeconds: Double = 5
        /// Bytes the WAL is cut back to after a checkpoint, so one burst does not leave a
        /// large file behind for good.
        public static let journalSizeLimit: Int = 64 * 1024 * 1024
        /// Pages in the WAL that trigger an automatic checkpoint on commit.
        public static let walAutocheckpointPages: Int = 1000
    }

    /// Opens (creating it with mode 0600 if absent) and migrates the store at `path`.
    /// Refuses a file that group or others may access, naming it.
    public static func open(path: String, schema: StoreSchema = .standard) throws(StoreError) -> StoreDatabase {
        try StoreFile.prepareForWriting(path: path)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: connectionConfiguration(readonly: false))
            // GRDB switches the writer to synchronous=NORMAL when it enables WAL, after
            // prepareDatabase ran; a secret must survive a power cut once committed, so the
            // writer (the one connection that commits) is put back to FULL here.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
        } catch {
            throw .cannotOpen(path: path, message: StoreError.wrapping(error, operation: "open").description)
        }
        try schema.migrate(pool, path: path)
        return StoreDatabase(path: path, pool: pool)
    }

    /// `open`, then this process's exclusive hold on the file until it ends (`StoreFileLock`):
    /// the daemon, `migrate-store` and `rewrap` open a store this way, so that a store a
    /// running wbkeyd holds is refused as `inUse` instead of changed under it.
    public static func openHeld(path: String) throws(StoreError) -> StoreDatabase {
        let database = try open(path: path)
        do {
            try StoreFileLock.hold(path: path)
        } catch {
            try? database.close()
            throw error
        }
        return database
    }

    /// Opens an existing store for reading only, without migrating it: `audit-verify` uses
    /// it, also on copies that an auditor made, so it does not insist on mode 0600 (it
    /// writes nothing and reveals nothing the file's reader could not read anyway).
    public static func openReadOnly(path: String) throws(StoreError) -> DatabaseQueue {
        try StoreFile.requireExisting(path: path)
        do {
            return try DatabaseQueue(path: path, configuration: connectionConfiguration(readonly: true))
        } catch {
            throw .cannotOpen(path: path, message: StoreError.wrapping(error, operation: "open read-only").description)
        }
    }

    static func connectionConfiguration(readonly: Bool) -> Configuration {
        var configuration = Configuration()
        configuration.readonly = readonly
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(Settings.busyTimeoutSeconds)
        configuration.label = "wbkeyd.store"
        configuration.prepareDatabase { db in
            // secure_delete overwrites freed pages, so a wiped token does not linger in
            // free space of the file.
            try db.execute(sql: """
                PRAGMA synchronous = FULL;
                PRAGMA secure_delete = ON;
                PRAGMA journal_size_limit = \(Settings.journalSizeLimit);
                PRAGMA wal_autocheckpoint = \(Settings.walAutocheckpointPages);
                """)
        }
        return configuration
    }

    /// Moves the whole WAL into the database file and truncates the WAL to zero bytes.
    /// `completed` is false when another connection (a reader in another process) kept the
    /// checkpoint from finishing; the next one catches up.
    @discardableResult
    public func checkpoint() throws(StoreError) -> CheckpointOutcome {
        do {
            return try pool.barrierWriteWithoutTransaction { db in
                guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") else {
                    return CheckpointOutcome(completed: false, walFrames: 0, checkpointedFrames: 0)
                }
                let busy: Int = row[0]
                return CheckpointOutcome(completed: busy == 0, walFrames: row[1], checkpointedFrames: row[2])
            }
        } catch {
            throw StoreError.wrapping(error, operation: "checkpoint of \(path)")
        }
    }

    /// Sizes of the database file and its WAL, for metrics. A missing WAL counts as 0.
    public func sizes() -> StoreSizes {
        StoreSizes(databaseBytes: StoreFile.size(path: path), walBytes: StoreFile.size(path: path + "-wal"))
    }

    /// Closes every connection; later use of `pool` fails.
    public func close() throws(StoreError) {
        do {
            try pool.close()
        } catch {
            throw StoreError.wrapping(error, operation: "close of \(path)")
        }
    }
}

public struct CheckpointOutcome: Sendable, Equatable {
    public let completed: Bool
    public let walFrames: Int
    public let checkpointedFrames: Int
}

public struct StoreSizes: Sendable, Equatable {
    public let databaseBytes: Int64
    public let walBytes: Int64
}
