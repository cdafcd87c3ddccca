import Foundation
import GRDB
import Store
import Testing

@Suite struct StoreDatabaseTests {
    @Test func writerHasEveryPragmaTheStoreNeeds() throws {
        let directory = try TemporaryDirectory()
        let store = try StoreDatabase.open(path: directory.file("wbkeyd.sqlite3"))
        let pragmas = try store.pool.writeWithoutTransaction { db in try readPragmas(db) }
        #expect(pragmas["journal_mode"] == "wal")
        #expect(pragmas["synchronous"] == "2")  // FULL
        #expect(pragmas["secure_delete"] == "1")
        #expect(pragmas["foreign_keys"] == "1")
        #expect(pragmas["journal_size_limit"] == String(StoreDatabase.Settings.journalSizeLimit))
        #expect(pragmas["wal_autocheckpoint"] == String(StoreDatabase.Settings.walAutocheckpointPages))
        #expect(pragmas["busy_timeout"] == "5000")
    }

    @Test func readersShareTheSafetyPragmas() throws {
        let directory = try TemporaryDirectory()
        let store = try StoreDatabase.open(path: directory.file("wbkeyd.sqlite3"))
        let pragmas = try store.pool.read { db in try readPragmas(db) }
        #expect(pragmas["journal_mode"] == "wal")
        #expect(pragmas["secure_delete"] == "1")
        #expect(pragmas["foreign_keys"] == "1")
        #expect(Int(pragmas["busy_timeout"] ?? "") ?? 0 > 0)
    }

    private func readPragmas(_ db: Database) throws -> [String: String] {
        let names = [
            "journal_mode", "synchronous", "secure_delete", "foreign_keys", "journal_size_limit",
            "wal_autocheckpoint", "busy_timeout",
        ]
        var values: [String: String] = [:]
        for name in names {
            values[name] = try String.fetchOne(db, sql: "PRAGMA \(name)")
        }
        return values
    }

    @Test func storeAndItsCompanionsAreOwnerOnly() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("wbkeyd.sqlite3")
        let (store, _) = try storeWithRows(3, in: directory)
        #expect(fileMode(path) == 0o600)
        // Created by SQLite while the pool is open, with the database file's mode.
        #expect(fileMode(path + "-wal") == 0o600)
        #expect(fileMode(path + "-shm") == 0o600)
        try store.close()
    }

    @Test(arguments: [0o640, 0o604, 0o644, 0o660, 0o606, 0o610])
    func refusesAFileOthersCanAccess(mode: Int) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("wbkeyd.sqlite3")
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(chmod(path, mode_t(mode)) == 0)
        let error = #expect(throws: StoreError.self) { try StoreDatabase.open(path: path) }
        #expect(error == .permissiveFile(path: path, mode: UInt32(S_IFREG) | UInt32(mode)))
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains(String(mode, radix: 8)) == true)
    }

    @Test func refusesAPermissiveWALLeftBehind() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("wbkeyd.sqlite3")
        #expect(FileManager.default.createFile(atPath: path + "-wal", contents: nil))
        #expect(chmod(path + "-wal", 0o644) == 0)
        let error = #expect(throws: StoreError.self) { try StoreDatabase.open(path: path) }
        #expect(error == .permissiveFile(path: path + "-wal", mode: UInt32(S_IFREG) | 0o644))
    }

    @Test func refusesADirectory() throws {
        let directory = try TemporaryDirectory()
        let error = #expect(throws: StoreError.self) { try StoreDatabase.open(path: directory.path) }
        #expect(error == .notARegularFile(path: directory.path))
    }

    @Test func migrationsAreRecordedOnceAcrossReopens() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("wbkeyd.sqlite3")
        let (first, log) = try storeWithRows(2, in: directory)
        try first.close()
        for _ in 1...2 {
            let store = try StoreDatabase.open(path: path)
            let (identifiers, head, gates) = try store.pool.read { db in
                (
                    try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"), try log.head(in: db),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_prune_gate")
                )
            }
            #expect(identifiers == StoreSchema.standard.migrations.map(\.identifier))
            #expect(head?.seq == 2)
            #expect(gates == 1)
            try store.close()
        }
        #expect(StoreSchema.standard.migrations.map(\.identifier) == ["0001_audit", "0002_grants", "0003_keys", "0004_secret_lock_ladder", "0005_key_watch", "0006_key_nonces", "0007_instances", "0008_grant_leases"])
    }

    @Test func laterMigrationsApplyToAnExistingStore() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("wbkeyd.sqlite3")
        let (first, log) = try storeWithRows(2, in: directory)
        try first.close()
        let extended = StoreSchema(
            migrations: StoreSchema.standard.migrations + [
                StoreMigration(version: 99, name: "later") { db in
                    try db.execute(sql: "CREATE TABLE later (id INTEGER PRIMARY KEY)")
                }
            ])
        let store = try StoreDatabase.open(path: path, schema: extended)
        let (identifiers, hasLaterTable, head) = try store.pool.read { db in
            (
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier"),
                try db.tableExists("later"), try log.head(in: db)
            )
        }
        #expect(identifiers == StoreSchema.standard.migrations.map(\.identifier) + ["0099_later"])
        #expect(hasLaterTable)
        #expect(head?.seq == 2)
        try store.close()

        // A build that knows fewer migrations must not run on what a newer one wrote.
        let error = #expect(throws: StoreError.self) { try StoreDatabase.open(path: path) }
        #expect(error == .schemaFromNewerVersion(path: path, unknownMigrations: ["0099_later"]))
    }

    @Test func readOnlyOpenerNeitherCreatesNorWrites() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.file("absent.sqlite3")
        #expect(throws: StoreError.missingFile(path: missing)) { try StoreDatabase.openReadOnly(path: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))

        let (store, _) = try storeWithRows(1, in: directory)
        let reader = try StoreDatabase.openReadOnly(path: store.path)
        #expect(try reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit") } == 1)
        #expect(throws: DatabaseError.self) {
            try reader.writeWithoutTransaction { db in try db.execute(sql: "CREATE TABLE intruder (x)") }
        }
        try reader.close()
    }

    @Test func checkpointEmptiesTheWAL() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try storeWithRows(40, in: directory)
        #expect(store.sizes().walBytes > 0)
        let outcome = try store.checkpoint()
        #expect(outcome.completed)
        #expect(outcome.checkpointedFrames == outcome.walFrames)
        let sizes = store.sizes()
        #expect(sizes.walBytes == 0)
        #expect(sizes.databaseBytes > 0)
        #expect(sizes.databaseBytes % 4096 == 0)
    }
}
