import Foundation
import Logging
import PostgresHarness
import PostgresStore
import Sensitive
import Store
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// The real wbkeyd on the PostgreSQL backend (docs/design.md §13), on a fresh database of
/// the real server the tests start: the whole flow to a sealed secret, a kill -9 and a
/// restart on the same database, and the chain that verifies there.
@Suite struct PostgresDaemonTests {
    @Test func aGrantIsSecuredInPostgreSQLAndSurvivesAKill() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        var options = DaemonFixture.Options()
        options.config = [
            "store.backend": "postgresql", "store.url": .string(database.url), "store.password_file": .string(server.passwordFile),
        ]
        try await withDaemon(options) { daemon in
            _ = try await daemon.consentAndSubmit(user: "u-pg", key: .now)
            try await daemon.awaitEvent("secret_secured", user: "u-pg")
            #expect(try await daemon.grantState("u-pg") == "active")
            try await daemon.kill9()
            try await daemon.restart()
            #expect(try await daemon.grantState("u-pg") == "active")
            // The rows are in PostgreSQL, the secret sealed, and nothing in the SQLite path.
            #expect(try await server.execute(
                "SELECT state, sealed_secret IS NOT NULL FROM grants WHERE \"user\" = 'u-pg'", database: database.name) == "active|t")
            #expect(!FileManager.default.fileExists(atPath: daemon.paths.store))
            for key in try await daemon.admin.state().keys { #expect(key.secretFetches == 1) }

            let verdict = try PostgresAuditVerifier.verify(
                options: PostgresStoreOptions(
                    endpoint: .tcp(host: "127.0.0.1", port: server.port), user: PostgresServer.loginRole, database: database.name,
                    password: Sensitive(server.password), tls: .disable),
                masterKey: Data(daemon.masterKey))
            guard case .sound(let rows, _) = verdict else {
                Issue.record("the chain in PostgreSQL does not verify: \(verdict)")
                return
            }
            #expect(rows >= 5)
            // The store's password never shows in the daemon's output.
            #expect(!String(decoding: daemon.allOutput, as: UTF8.self).contains(server.password))
        }
    }
}
