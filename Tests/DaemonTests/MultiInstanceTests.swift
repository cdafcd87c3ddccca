import Foundation
import PostgresHarness
import PostgresStore
import Sensitive
import Store
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// Several real wbkeyd processes on one PostgreSQL database (docs/design.md §13), each with
/// its own spool and its own source address towards one simulator, whose per-user call
/// log says which instance called WhiteBIT and when.
@Suite struct MultiInstanceTests {
    static let alpha = "127.0.0.2"
    static let beta = "127.0.0.3"

    /// Two instances on `database`, sharing `sim` and one master key: a short lease (6 s,
    /// renewed every 2 s) so that takeovers come within a test's patience.
    static func withPair<T: Sendable>(
        _ server: PostgresServer, _ database: PostgresDatabase, sim: SimProcess,
        _ body: (DaemonFixture, DaemonFixture) async throws -> T
    ) async throws -> T {
        func options(_ name: String, _ address: String, masterKey: [UInt8]?) -> DaemonFixture.Options {
            var options = DaemonFixture.Options.onPostgreSQL(server, database)
            options.sim = sim
            options.masterKey = masterKey
            options.config.merge(
                ["store.instance": .string(name), "store.lease": "6s", "whitebit.request_timeout": "1s",
                 "whitebit.source_address": .string(address)]) { $1 }
            options.config.merge(DaemonFixture.selfAsAgent) { $1 }
            return options
        }
        return try await DaemonFixture.withDaemon(options("alpha", alpha, masterKey: nil)) { a in
            try await DaemonFixture.withDaemon(options("beta", beta, masterKey: a.masterKey)) { b in
                try await body(a, b)
            }
        }
    }

    static func owners(_ server: PostgresServer, _ database: PostgresDatabase) async throws -> [String: String] {
        let rows = try await server.execute(
            "SELECT \"user\" || '=' || coalesce(owner, '-') FROM grants ORDER BY \"user\"", database: database.name)
        return Dictionary(uniqueKeysWithValues: rows.split(separator: "\n").map { line in
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts[1])
        })
    }

    static func verifyChain(_ server: PostgresServer, _ database: PostgresDatabase, masterKey: [UInt8]) throws {
        let verdict = try PostgresAuditVerifier.verify(
            options: PostgresStoreOptions(
                endpoint: .tcp(host: "127.0.0.1", port: server.port), user: PostgresServer.loginRole, database: database.name,
                password: Sensitive(server.password), tls: .disable),
            masterKey: Data(masterKey))
        guard case .sound = verdict else {
            Issue.record("the shared chain does not verify: \(verdict)")
            return
        }
    }

    /// A fresh database on the shared server and a simulator of the test's own, stopped
    /// whatever `body` does.
    static func withCluster<T: Sendable>(
        _ body: (PostgresServer, PostgresDatabase, SimProcess) async throws -> T
    ) async throws -> T {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        let sim = try await SimProcess.start()
        do {
            let result = try await body(server, database, sim)
            _ = await sim.stop()
            return result
        } catch {
            _ = await sim.stop()
            throw error
        }
    }

    /// A pair whose first instance holds four grants waiting for keys that appear 6 s after
    /// consent.
    static func withGrantsWaitingAtAlpha(
        prefix: String,
        _ body: (PostgresServer, PostgresDatabase, SimProcess, DaemonFixture, DaemonFixture, [String]) async throws -> Void
    ) async throws {
        try await withCluster { server, database, sim in
            try await withPair(server, database, sim: sim) { a, b in
                let users = (0..<4).map { "\(prefix)-\($0)" }
                for user in users { _ = try await a.consentAndSubmit(user: user, key: .after(milliseconds: 6_000)) }
                try await reach(a, "awaiting_key", users)
                try await body(server, database, sim, a, b, users)
            }
        }
    }

    /// The nonce of a `sign` for `user` at `daemon`.
    static func signedNonce(_ daemon: DaemonFixture, user: String) async throws -> Int64 {
        let answer = try await daemon.control("sign \(user) /api/v4/main-account/balance json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], "\(answer)")
        let body = try #require(object["body"] as? String, "\(answer)")
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        return try #require((fields["nonce"] as? NSNumber)?.int64Value)
    }

    /// Waits until every one of `users` has its grant in `state` at `daemon`.
    static func reach(_ daemon: DaemonFixture, _ state: String, _ users: [String]) async throws {
        for user in users {
            let seen = try await daemon.awaitState(state, user: user, deadline: .seconds(60))
            try #require(seen == state, "\(user) is \(seen ?? "unknown"), not \(state)")
        }
    }

    /// The calls made for `users` from `address`.
    static func calls(from address: String, for users: [String], _ sim: SimProcess) async throws -> Int {
        var count = 0
        for user in users { count += try await sim.admin.calls(user: user).filter { $0.source == address }.count }
        return count
    }

    @Test func twoInstancesShareADatabaseAndEachSecuresWhatCameThroughItsOwnSpool() async throws {
        try await Self.withCluster { server, database, sim in
            try await Self.withPair(server, database, sim: sim) { a, b in
                // `events` at alpha shows what beta commits too.
                let events = try HeldControlConnection(socket: a.paths.controlSocket, line: "events ub-3")
                _ = try await events.readLine()
                let users = (0..<4).flatMap { ["ua-\($0)", "ub-\($0)"] }
                for user in users {
                    _ = try await (user.hasPrefix("ua") ? a : b).consentAndSubmit(user: user, key: .now)
                }
                try await Self.reach(a, "active", users)

                // Each grant belongs to the instance whose spool brought it, and only that
                // instance called WhiteBIT for it: one secret fetch each.
                let owners = try await Self.owners(server, database)
                for user in users { #expect(owners[user] == (user.hasPrefix("ua") ? "alpha" : "beta"), "\(user): \(owners)") }
                for user in users {
                    let sources = Set(try await sim.admin.calls(user: user).map(\.source))
                    #expect(sources == [user.hasPrefix("ua") ? Self.alpha : Self.beta], "\(user) was called for from \(sources)")
                }
                for key in try await sim.admin.state().keys { #expect(key.secretFetches == 1, "\(key.user)") }
                let seen = try await events.readUntil { $0.contains("\"secret_secured\"") }
                #expect(seen.contains { $0.contains("\"authorization_received\"") }, "\(seen)")

                // Either instance answers for the cluster: `show` names the owner, `status`
                // every instance and what it holds; a command for another's grant names it.
                let shown = try await a.control("show ub-0 json")
                #expect(shown.contains("\"owner\":\"beta\""), "\(shown)")
                try await Task.sleep(for: .seconds(2.5))  // a heartbeat: the counts are a beat's
                let status = try await a.control("status")
                #expect(status.contains("alpha (this one)") && status.contains("holds 4 grants"), "\(status)")
                #expect(status.contains("instance:      beta on"), "\(status)")
                #expect(status.contains("grants:        active=8"), "the cluster's grants, beta's too: \(status)")
                // A revocation asked of alpha for beta's grant is queued for beta, which applies
                // it at its next heartbeat: the key is deleted, by beta, for alpha's caller.
                let queued = try await a.control("revoke ub-0")
                #expect(queued.contains("revocation queued for instance beta"), "\(queued)")
                try await Self.reach(b, "revoked", ["ub-0"])
                #expect(try await sim.admin.state().keys(of: "ub-0").allSatisfy(\.deleted))
                #expect(try await sim.admin.calls(user: "ub-0").filter { $0.endpoint == "delete" }.map(\.source) == [Self.beta])
                let refused = try await a.control("reconcile ub-1")
                #expect(refused.hasPrefix("error: ") && refused.contains("held by instance beta"), "\(refused)")

                // Both sign for one key at once: each in its own nonce lane, so never the
                // same nonce.
                let nonces = try await withThrowingTaskGroup(of: (Int, Int64).self) { group in
                    for index in 0..<16 {
                        let daemon = index % 2 == 0 ? a : b
                        group.addTask { (index % 2, try await Self.signedNonce(daemon, user: "ua-1")) }
                    }
                    var all: [(Int, Int64)] = []
                    for try await one in group { all.append(one) }
                    return all
                }
                #expect(Set(nonces.map(\.1)).count == 16, "two signatures share a nonce: \(nonces)")
                let lanes = Dictionary(grouping: nonces, by: \.0).mapValues { Set($0.map { $0.1 % 16 }) }
                #expect(lanes[0]?.count == 1 && lanes[1]?.count == 1 && lanes[0] != lanes[1], "lanes: \(lanes)")
                try Self.verifyChain(server, database, masterKey: a.masterKey)
            }
        }
    }

    /// kill -9 of an instance whose grants wait for their keys: once its lease runs out,
    /// the other takes them over as a restart would, and secures each key once.
    @Test func aKilledInstancesGrantsAreTakenOverOnceItsLeaseRunsOut() async throws {
        try await Self.withGrantsWaitingAtAlpha(prefix: "uk") { server, database, sim, a, b, users in
            _ = try await a.kill9()
            try await Self.reach(b, "active", users)
            let owners = try await Self.owners(server, database)
            for user in users { #expect(owners[user] == "beta", "\(user): \(owners)") }
            #expect(try await Self.calls(from: Self.beta, for: users, sim) > 0, "beta took the grants over")
            for key in try await sim.admin.state().keys { #expect(key.secretFetches == 1, "\(key.user)") }
            try await b.awaitLine { $0.text.contains("lease_takeover") }
            try Self.verifyChain(server, database, masterKey: a.masterKey)
        }
    }

    /// Fencing: an instance paused (SIGSTOP) past its lease while its grants wait for their
    /// keys loses them to the other; resumed, it calls WhiteBIT for none of them and
    /// commits nothing for them (the simulator's log and the grants' owner prove it).
    @Test func anInstancePausedPastItsLeaseCallsAndCommitsNothingForTheGrantsTakenFromIt() async throws {
        try await Self.withGrantsWaitingAtAlpha(prefix: "us") { server, database, sim, a, b, users in
            let paused = try a.process
            paused.send(signal: SIGSTOP)
            try await Self.reach(b, "active", users)
            let before = try await Self.calls(from: Self.alpha, for: users, sim)
            paused.send(signal: SIGCONT)
            // Its timers are overdue and its lease gone: what it would do, it does at once.
            try await Task.sleep(for: .seconds(5))
            #expect(try await Self.calls(from: Self.alpha, for: users, sim) == before, "alpha called WhiteBIT after it resumed")
            let owners = try await Self.owners(server, database)
            for user in users {
                #expect(owners[user] == "beta", "\(user): \(owners)")
                #expect(try await b.grantState(user) == "active")
            }
            for key in try await sim.admin.state().keys { #expect(key.secretFetches == 1, "\(key.user)") }
            // Resumed, it learns it lost them; or, paused inside a transaction, the server
            // ended that session after a lease (so that it held the cluster's write lock
            // no longer) and its next write failed: it stopped, fail closed, exit 1.
            try await a.awaitLine(timeout: .seconds(10)) { $0.text.contains("lease_lost") || $0.text.contains("audit_write_failed") }
            if !paused.isRunning {
                #expect(await paused.termination == ProcessTermination(code: 1, bySignal: false))
            }
            try Self.verifyChain(server, database, masterKey: a.masterKey)
        }
    }
}
