import ArgumentParser
import Foundation
import PostgresHarness
import Spool
import WBKeydHarness
import WhiteBITSimHarness

/// Several instances against WhiteBIT's per-IP budget (issue 14, docs/design.md §13):
/// 1, 2 … N wbkeyd processes on one PostgreSQL database, each sending from its own
/// loopback address, with whitebit-sim enforcing a per-IP budget low enough for this
/// machine to reach (WhiteBIT's own, 10,000 calls per 10 s, is past what two cores serve).
/// Each authorization costs three calls (token, info, secret), so one address's ceiling is
/// budget ÷ 3 authorizations per window; the figure is the cluster's rate against N such
/// ceilings. Then the takeover: an instance killed (-9) while its grants wait for their keys,
/// and the time until the other has claimed them, against the lease and one heartbeat.
struct InstanceScale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instances",
        abstract: "Authorizations per second with 1…N instances, each on its own source address, against the per-IP ceiling; takeover time.")

    @Option(help: "The largest number of instances (each run adds one, from 1).")
    var instances = 3

    @Option(help: "The simulator's per-IP budget of calls per second (its default bucket, over a 10 s window).")
    var perIPRate = 150

    @Option(help: "Seconds of work each run offers: N × ceiling × this many authorizations.")
    var seconds = 20.0

    @Option(help: "store.lease for the takeover measurement, in seconds.")
    var lease = 6

    func run() async throws {
        print("machine: \(Machine.current)")
        let ceiling = Double(perIPRate) / 3
        print(String(format: "per-IP budget: %d calls/s, so at most %.1f authorizations/s per address (3 calls each)", perIPRate, ceiling))
        let server = try await PostgresServer.start(PostgresServerOptions(fsync: true))
        defer { Task { await server.remove() } }
        for count in 1...max(1, instances) {
            let rate = try await cluster(of: count, server: server, ceiling: ceiling)
            print(String(
                format: "%d instance%@: %.1f authorizations/s = %.2f × %d × the per-IP ceiling", count, count == 1 ? "" : "s", rate,
                rate / (Double(count) * ceiling), count))
        }
        let takeover = try await takeoverTime(server: server)
        print(String(
            format: "takeover after kill -9: %.1f s from the kill until every grant was claimed (lease %d s, a heartbeat every %.1f s)",
            takeover, lease, Double(lease) / 3))
        await server.remove()
    }

    /// A fresh database and simulator, `count` instances, and the authorizations dropped
    /// into their spools at once; the rate until the store holds every grant active.
    func cluster(of count: Int, server: PostgresServer, ceiling: Double) async throws -> Double {
        let database = try await server.createDatabase()
        let sim = try await SimProcess.start(arguments: ["--log-level", "error"])
        defer { Task { await sim.stop() } }
        _ = try await sim.admin.updateSettings(SimAdminSettings(rateLimit: SimRateLimit(
            enabled: true, windowMilliseconds: 10_000, defaultLimit: perIPRate * 10)))
        let fixtures = try await start(count, database: database, server: server, sim: sim, lease: 30)
        defer { for fixture in fixtures { Task { await fixture.stop() } } }
        let total = Int((Double(count) * ceiling * seconds).rounded())
        var staged: [(DaemonFixture, String)] = []
        for index in 0..<total {
            let user = "scale\(count)-\(index)"
            let consent = try await sim.admin.authorize(user: user, key: .now)
            let fixture = fixtures[index % count]
            let json = try SpoolSubmission.authorization(user: user, code: consent.code, codeVerifier: consent.verifier)
            try Data(json).write(to: URL(fileURLWithPath: fixture.paths.spoolRoot + "/tmp/\(user).json"))
            staged.append((fixture, "\(user).json"))
        }
        let start = ContinuousClock.now
        for (fixture, name) in staged { rename(fixture.paths.spoolRoot + "/tmp/" + name, fixture.paths.spoolRoot + "/new/" + name) }
        while try await server.execute("SELECT count(*) FROM grants WHERE state = 'active'", database: database.name) != "\(total)" {
            try await Task.sleep(for: .milliseconds(200))
        }
        let elapsed = start.duration(to: .now).seconds
        let limited = try await sim.admin.counts().sources.values.reduce(0) { $0 + $1.rateLimited }
        print("  \(count) instance(s): \(total) authorizations in \(String(format: "%.1f", elapsed)) s; \(limited) calls answered 429")
        for fixture in fixtures { await fixture.stop() }
        await sim.stop()
        return Double(total) / elapsed
    }

    func start(_ count: Int, database: PostgresDatabase, server: PostgresServer, sim: SimProcess, lease: Int) async throws -> [DaemonFixture] {
        var fixtures: [DaemonFixture] = []
        for index in 0..<count {
            var options = DaemonFixture.Options(
                sim: sim,
                config: [
                    "store.backend": "postgresql", "store.url": .string(database.url), "store.password_file": .string(server.passwordFile),
                    "store.instance": .string("i\(index + 1)"), "store.lease": .string("\(lease)s"),
                    "whitebit.source_address": .string("127.0.0.\(index + 2)"), "whitebit.request_timeout": "2s",
                    "whitebit.max_concurrency": 8, "whitebit.rate_limit": .raw(String(perIPRate)), "keys.info_poll_interval": "100ms",
                ])
            options.masterKey = fixtures.first?.masterKey
            fixtures.append(try await DaemonFixture.start(options))
        }
        return fixtures
    }

    /// Two instances; the first takes 50 authorizations whose keys appear only after 60 s,
    /// so its grants wait; it is killed, and the clock runs until the second owns them all.
    func takeoverTime(server: PostgresServer) async throws -> Double {
        let database = try await server.createDatabase()
        let sim = try await SimProcess.start(arguments: ["--log-level", "error"])
        defer { Task { await sim.stop() } }
        let fixtures = try await start(2, database: database, server: server, sim: sim, lease: lease)
        defer { for fixture in fixtures { Task { await fixture.stop() } } }
        let users = (0..<50).map { "takeover-\($0)" }
        for user in users { _ = try await fixtures[0].consentAndSubmit(user: user, key: .after(milliseconds: 60_000)) }
        while try await server.execute(
            "SELECT count(*) FROM grants WHERE state = 'awaiting_key' AND owner = 'i1'", database: database.name) != "\(users.count)"
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        let killed = ContinuousClock.now
        _ = try await fixtures[0].kill9()
        while try await server.execute("SELECT count(*) FROM grants WHERE owner = 'i2'", database: database.name) != "\(users.count)" {
            try await Task.sleep(for: .milliseconds(50))
        }
        let elapsed = killed.duration(to: .now).seconds
        for fixture in fixtures { await fixture.stop() }
        await sim.stop()
        return elapsed
    }
}
