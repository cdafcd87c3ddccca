import ArgumentParser
import Foundation
import PostgresHarness
import Sensitive
import Spool
import WBKeydHarness
import WhiteBITClient
import WhiteBITSimHarness

/// End-to-end throughput (issue 3): N authorizations dropped into the spool at once,
/// the time until every grant is `active`, against whitebit-sim's own capacity for the
/// same request mix (token, info, secret per user) at the same concurrency, measured in
/// the same run on the same simulator. With it, what each authorization costs: wbkeyd's
/// CPU time against a bare client's making the same three calls with the same HTTP
/// client, and the store's writes and transactions (each transaction one wait for the
/// disk) from wbkeyd's own counters.
struct Throughput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Authorizations per second through the spool to active grants, and the ratio to whitebit-sim's capacity.")

    @Option(help: "Authorizations to drop at once.")
    var authorizations = 2000

    @Option(help: "Requests in flight towards the simulator (whitebit.max_concurrency), for both measurements.")
    var concurrency = 8

    @Option(help: "whitebit.rate_limit for both measurements (requests per second; the config allows at most 1000).")
    var rateLimit = 1000.0

    @Option(help: "wbkeyd's store: sqlite, or postgresql (a server the bench starts, fsync on, over loopback TCP).")
    var store = "sqlite"

    func run() async throws {
        print("machine: \(Machine.current)")
        let sim = try await SimProcess.start(arguments: ["--log-level", "error"])
        defer { Task { await sim.stop() } }
        // Both runs, back to back from 127.0.0.1, pass WhiteBIT's per-IP 10,000 calls per
        // 10 s (docs/whitebit-sim.md); the simulator's capacity is measured, not its budget.
        _ = try await sim.admin.updateSettings(SimAdminSettings(rateLimit: SimRateLimit(enabled: false)))
        let direct = try await directCapacity(sim: sim)
        let daemon = try await daemonThroughput(sim: sim)
        print(String(format: "whitebit-sim capacity, same mix, %d in flight: %.0f authorizations/s (%.2f s for %d)", concurrency, direct.rate, direct.seconds, authorizations))
        print(String(format: "wbkeyd, spool to active:                       %.0f authorizations/s (%.2f s for %d)", daemon.rate, daemon.seconds, authorizations))
        print(String(format: "ratio: %.2f", daemon.rate / direct.rate))
        let n = Double(authorizations)
        if let bare = direct.cpuSeconds, let wbkeyd = daemon.cpuSeconds {
            print(String(
                format: "CPU per authorization: wbkeyd %.2f ms, bare client %.2f ms, ratio %.2f", wbkeyd / n * 1000, bare / n * 1000,
                wbkeyd / bare))
        }
        if let written = daemon.written {
            print(String(
                format: "store per authorization: %.2f writes, %.3f transactions (%d writes in %d transactions)",
                Double(written.writes) / n, Double(written.transactions) / n, written.writes, written.transactions))
        }
        await sim.stop()
    }

    struct Rate {
        let seconds: Double
        let rate: Double
        /// CPU time of whoever made the calls (this process, or wbkeyd), over the run.
        var cpuSeconds: Double?
        var written: (writes: Int, transactions: Int)?
    }

    /// Consents for `count` users, in parallel (the simulator's admin API is not what
    /// is measured).
    func consents(prefix: String, sim: SimProcess) async throws -> [(user: String, authorization: SimAuthorization)] {
        try await withThrowingTaskGroup(of: (String, SimAuthorization).self) { group in
            var results: [(user: String, authorization: SimAuthorization)] = []
            for index in 0..<authorizations {
                if index >= 16, let done = try await group.next() { results.append(done) }
                let user = "\(prefix)-\(index)"
                group.addTask { (user, try await sim.admin.authorize(user: user, key: .now)) }
            }
            for try await done in group { results.append(done) }
            return results
        }
    }

    /// What the simulator serves when a client does nothing but the three calls.
    func directCapacity(sim: SimProcess) async throws -> Rate {
        let grants = try await consents(prefix: "direct", sim: sim)
        let client = try WhiteBITClient(
            configuration: WhiteBITClient.Configuration(
                baseURL: sim.baseURL, clientID: SimDefaults.clientID, clientSecret: SimDefaults.clientSecret,
                redirectURI: SimDefaults.redirectURI, requestTimeout: .seconds(30), maxConcurrency: concurrency,
                rateLimit: rateLimit))
        let cpuBefore = ProcessCPU.ofThisProcess
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for grant in grants {
                group.addTask {
                    let token = try await client.exchangeCode(code: grant.authorization.code, codeVerifier: grant.authorization.verifier)
                    let info = try await client.apiKeyInfo(token: token.value)
                    _ = try await client.apiKeySecret(externalID: info.externalID ?? "", token: token.value)
                }
            }
            try await group.waitForAll()
        }
        let seconds = start.duration(to: .now).seconds
        let cpu = ProcessCPU.ofThisProcess.flatMap { after in cpuBefore.map { after - $0 } }
        await client.shutdown()
        return Rate(seconds: seconds, rate: Double(grants.count) / seconds, cpuSeconds: cpu)
    }

    /// The same users through wbkeyd: files renamed into new/ in one burst, then the
    /// time until `status` counts every grant active.
    func daemonThroughput(sim: SimProcess) async throws -> Rate {
        var config: [String: TOMLValue] = [
            "whitebit.max_concurrency": .integer(concurrency), "whitebit.rate_limit": .raw(String(rateLimit)),
            "keys.info_poll_interval": "100ms",
        ]
        var server: PostgresServer?
        switch store {
        case "sqlite": break
        case "postgresql":
            let started = try await PostgresServer.start(PostgresServerOptions(fsync: true))
            server = started
            let database = try await started.createDatabase()
            config["store.backend"] = "postgresql"
            config["store.url"] = .string(database.url)
            config["store.password_file"] = .string(started.passwordFile)
        default:
            throw ValidationError("--store: sqlite or postgresql, not \(store)")
        }
        print("wbkeyd's store: \(store)")
        let fixture = try await DaemonFixture.start(DaemonFixture.Options(sim: sim, config: config))
        defer { Task { await fixture.stop() } }
        let grants = try await consents(prefix: "daemon", sim: sim)
        let staged = try grants.map { grant in
            let json = try SpoolSubmission.authorization(
                user: grant.user, code: grant.authorization.code, codeVerifier: grant.authorization.verifier)
            let name = "\(grant.user).json"
            try Data(json).write(to: URL(fileURLWithPath: fixture.paths.spoolRoot + "/tmp/" + name))
            return name
        }
        let pid = try fixture.process.pid
        let cpuBefore = ProcessCPU.seconds(of: pid)
        let writtenBefore = try await storeCounters(fixture)
        let start = ContinuousClock.now
        for name in staged {
            rename(fixture.paths.spoolRoot + "/tmp/" + name, fixture.paths.spoolRoot + "/new/" + name)
        }
        while try await activeCount(fixture) < grants.count {
            try await Task.sleep(for: .milliseconds(50))
        }
        let seconds = start.duration(to: .now).seconds
        let cpu = ProcessCPU.seconds(of: pid).flatMap { after in cpuBefore.map { after - $0 } }
        let writtenAfter = try await storeCounters(fixture)
        await fixture.stop()
        if let server { await server.remove() }
        return Rate(
            seconds: seconds, rate: Double(grants.count) / seconds, cpuSeconds: cpu,
            written: (writtenAfter.writes - writtenBefore.writes, writtenAfter.transactions - writtenBefore.transactions))
    }

    /// `wbkeyd_store_writes_total` and `wbkeyd_store_transactions_total` from `metrics`.
    func storeCounters(_ fixture: DaemonFixture) async throws -> (writes: Int, transactions: Int) {
        let text = try await fixture.control("metrics")
        return (MetricsText.value("wbkeyd_store_writes_total", in: text), MetricsText.value("wbkeyd_store_transactions_total", in: text))
    }

    func activeCount(_ fixture: DaemonFixture) async throws -> Int {
        let answer = try await fixture.control("status json")
        let document = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
        return (document?["grants"] as? [String: Int])?["active"] ?? 0
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
