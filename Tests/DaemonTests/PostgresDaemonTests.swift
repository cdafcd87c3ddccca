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
        try await withDaemon(.onPostgreSQL(server, database)) { daemon in
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

    /// A PostgreSQL outage: the daemon that cannot commit stops (fail closed, exit 1, as on
    /// a SQLite write error) and keeps the spool file it claimed; started again while the
    /// server is still down, it waits for it (STATUS=, the journal) instead of failing the
    /// start, and once the server is back it carries on: nothing lost, no secret fetched
    /// twice.
    @Test func anOutageStopsTheDaemonAndItsNextStartWaitsForTheServer() async throws {
        let server = try await PostgresServer.start()  // its own: this test stops it
        do {
            let database = try await server.createDatabase()
            try await withDaemon(.onPostgreSQL(server, database)) { daemon in
                try await daemon.activeGrant("u-before")
                let running = try daemon.process
                await server.kill()
                _ = try await daemon.consentAndSubmit(user: "u-during", key: .now)
                let halted = await running.termination
                #expect(halted == ProcessTermination(code: 1, bySignal: false), "\(running.recentLines)")

                let waiting = try await daemon.start(awaitReady: false)
                let end = ContinuousClock.now + .seconds(30)
                while !waiting.notifications.contains(where: { $0.contains("STATUS=waiting for the store") }), ContinuousClock.now < end {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(waiting.notifications.contains { $0.contains("STATUS=waiting for the store") }, "\(waiting.notifications)")
                #expect(waiting.notifications.contains { $0.contains("EXTEND_TIMEOUT_USEC=") })
                #expect(!waiting.notifications.contains { $0.contains("READY=1") })
                #expect(waiting.isRunning)

                try await server.restart()
                try await waiting.awaitReady(timeout: .seconds(60))
                #expect(waiting.lines.contains { $0.text.contains("store_unavailable") || $0.text.contains("waiting for it") })
                try await daemon.awaitEvent("secret_secured", user: "u-during")
                #expect(try await daemon.grantState("u-before") == "active")
                #expect(try await daemon.grantState("u-during") == "active")
                for key in try await daemon.admin.state().keys { #expect(key.secretFetches == 1) }
                #expect(!String(decoding: daemon.allOutput, as: UTF8.self).contains(server.password))
            }
        } catch {
            await server.remove()
            throw error
        }
        await server.remove()
    }
}
