import Foundation
import PostgresHarness
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// `wbkeyd migrate-store` (docs/design.md §13): a real deployment's SQLite store moved into
/// a fresh database of the real PostgreSQL server and back, with the real binaries: refused
/// while wbkeyd holds the store, the chain verified on the target, the daemon carrying on
/// there with the same sealed secret, and a non-empty target or a broken chain refused.
@Suite struct MigrateStoreTests {
    @Test func aSQLiteDeploymentMovesToPostgreSQLAndBack() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-move")
            _ = try await daemon.control("revoke u-move moving")
            try await daemon.activeGrant("u-stay")
            let before = try await daemon.control("secret u-stay json")
            #expect(before.contains("api_secret"), "\(before.count) bytes")

            func migrate(from: String, to: String) async throws -> CommandResult {
                try await daemon.wbkeyd([
                    "migrate-store", "--from", from, "--to", to, "--master-key-file", daemon.paths.masterKeyFile,
                    "--password-file", server.passwordFile,
                ])
            }
            let whileRunning = try await migrate(from: daemon.paths.store, to: database.url)
            #expect(whileRunning.exitStatus == 1)
            #expect(whileRunning.standardError.contains("in use by another process"), "\(whileRunning.standardError)")
            #expect(try await server.execute("SELECT to_regclass('grants') IS NULL", database: database.name) == "t")

            #expect(try await daemon.terminate().isCleanExit)
            let sourceRows = try await daemon.auditRows()
            let head = try await daemon.sqlite("SELECT seq || ':' || hash FROM audit ORDER BY seq DESC LIMIT 1")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let headSeq = head.split(separator: ":").first.map(String.init) ?? "?"
            let moved = try await migrate(from: daemon.paths.store, to: database.url)
            #expect(moved.exitStatus == 0, "\(moved.standardError)")
            #expect(moved.standardOutput.contains("2 grants, \(sourceRows.count) audit rows"), "\(moved.standardOutput)")
            #expect(moved.standardOutput.contains("audit chain sound on \(database.url): \(sourceRows.count) rows"))
            #expect(try await server.execute("SELECT count(*) FROM audit", database: database.name) == "\(sourceRows.count)")

            let verified = try await daemon.wbkeyd([
                "audit-verify", "--store", database.url, "--master-key-file", daemon.paths.masterKeyFile,
                "--password-file", server.passwordFile, "--expect", head,
            ])
            #expect(verified.exitStatus == 0, "\(verified.standardError)")
            #expect(verified.standardOutput.contains("holds seq \(headSeq) as expected"), "\(verified.standardOutput)")

            // A second copy into the same database would mix two histories.
            let again = try await migrate(from: daemon.paths.store, to: database.url)
            #expect(again.exitStatus == 1)
            #expect(again.standardError.contains("not empty"), "\(again.standardError)")

            // The daemon on PostgreSQL: same grants, the same secret opens, the witness of the
            // SQLite run (beside store.path) agrees with the moved chain.
            try daemon.writeConfig(daemon.defaultConfig.merging(server.storeConfig(database)))
            try await daemon.start()
            #expect(try await daemon.grantState("u-stay") == "active")
            let after = try await daemon.control("secret u-stay json")
            let sameSecret = after == before
            #expect(sameSecret, "the secret read back from PostgreSQL differs")
            _ = try await daemon.control("revoke u-stay moving back")
            #expect(try await daemon.awaitState("revoked", user: "u-stay") == "revoked")
            #expect(try await daemon.terminate().isCleanExit)

            // And back to a new SQLite file.
            let back = daemon.paths.directory + "/back.sqlite3"
            let returned = try await migrate(from: database.url, to: back)
            #expect(returned.exitStatus == 0, "\(returned.standardError)")
            let backVerified = try await daemon.wbkeyd(["audit-verify", "--store", back, "--master-key-file", daemon.paths.masterKeyFile])
            #expect(backVerified.exitStatus == 0, "\(backVerified.standardError)")
            let pgRows = try await server.execute("SELECT count(*) FROM audit", database: database.name)
            #expect(backVerified.standardOutput.contains("audit chain sound: \(pgRows) rows"), "\(backVerified.standardOutput)")
            var mode = stat()
            #expect(stat(back, &mode) == 0 && mode.st_mode & 0o077 == 0, "the new store is closed to group and others")

            let printed = [whileRunning, moved, verified, again, returned, backVerified].map { $0.standardOutput + $0.standardError }.joined()
                + String(decoding: daemon.allOutput, as: UTF8.self)
            #expect(!printed.contains(server.password))
            #expect(!printed.contains(daemon.masterKey.map { String(format: "%02x", $0) }.joined()))
        }
    }

    @Test func aBrokenChainIsNotMoved() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-1")
            #expect(try await daemon.terminate().isCleanExit)
            let target = try #require(try await daemon.auditRows().first { $0.event == "token_exchanged" })
            try await daemon.sqlite("""
                DROP TRIGGER audit_refuses_update;
                UPDATE audit SET detail = replace(detail, '14400', '14401') WHERE seq = \(target.seq);
                """)
            let refused = try await daemon.wbkeyd([
                "migrate-store", "--from", daemon.paths.store, "--to", database.url, "--master-key-file", daemon.paths.masterKeyFile,
                "--password-file", server.passwordFile,
            ])
            #expect(refused.exitStatus == 1)
            #expect(refused.standardError.contains("broken at seq \(target.seq)"), "\(refused.standardError)")
            #expect(try await server.execute("SELECT to_regclass('grants') IS NULL", database: database.name) == "t")
        }
    }

    /// The lock that makes migrate-store safe keeps a second wbkeyd, and rewrap, off a
    /// SQLite store a running wbkeyd holds: two daemons would each act on the same grants.
    @Test func aStoreARunningDaemonHoldsIsRefusedToOthers() async throws {
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-1")
            let second = try await daemon.wbkeyd(["--config", daemon.paths.configFile])
            #expect(second.exitStatus == 1)
            #expect(second.standardError.contains("store \(daemon.paths.store) is in use by another process"), "\(second.standardError)")
            let newKey = daemon.paths.directory + "/other-key"
            try Data((0..<32).map { UInt8($0) | 0x80 }).write(to: URL(fileURLWithPath: newKey))
            chmod(newKey, 0o600)
            let rewrap = try await daemon.wbkeyd([
                "rewrap", "--store", daemon.paths.store, "--old-key-file", daemon.paths.masterKeyFile, "--new-key-file", newKey,
            ])
            #expect(rewrap.exitStatus == 1)
            #expect(rewrap.standardError.contains("in use by another process"), "\(rewrap.standardError)")
            // The running daemon carries on, its secret unchanged.
            #expect(try await daemon.control("secret u-1 json").contains("api_secret"))
        }
    }

    /// On PostgreSQL: instances share a database, but a second daemon under the same
    /// instance name is refused, and so is migrate-store while any instance runs (they hold
    /// the cluster lock shared, it exclusive); audit-verify reads a snapshot meanwhile.
    @Test func aDatabaseARunningDaemonHoldsIsRefusedToOthers() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        try await withDaemon(.onPostgreSQL(server, database)) { daemon in
            try await daemon.activeGrant("u-1")
            let second = try await daemon.wbkeyd(["--config", daemon.paths.configFile])
            #expect(second.exitStatus == 1)
            // Instances share a database, but one name runs once at a time.
            #expect(second.standardError.contains("already runs on store postgresql://"), "\(second.standardError)")
            #expect(second.standardError.contains("give this one another store.instance"), "\(second.standardError)")
            let copy = daemon.paths.directory + "/copy.sqlite3"
            func migrate() async throws -> CommandResult {
                try await daemon.wbkeyd([
                    "migrate-store", "--from", database.url, "--to", copy, "--master-key-file", daemon.paths.masterKeyFile,
                    "--password-file", server.passwordFile,
                ])
            }
            let refused = try await migrate()
            #expect(refused.exitStatus == 1)
            #expect(refused.standardError.contains("is in use by another process"), "\(refused.standardError)")
            let verified = try await daemon.wbkeyd(["audit-verify", "--config", daemon.paths.configFile])
            #expect(verified.exitStatus == 0, "\(verified.standardError)")
            #expect(verified.standardOutput.contains("audit chain sound"), "\(verified.standardOutput)")
            #expect(try await daemon.control("secret u-1 json").contains("api_secret"))

            #expect(try await daemon.terminate().isCleanExit)
            let moved = try await migrate()
            #expect(moved.exitStatus == 0, "\(moved.standardError)")
        }
    }
}
