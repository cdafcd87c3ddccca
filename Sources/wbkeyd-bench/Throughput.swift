import ArgumentParser
import Foundation
import Sensitive
import Spool
import WBKeydHarness
import WhiteBITClient
import WhiteBITSimHarness

/// End-to-end throughput (issue 3): N authorizations dropped into the spool at once,
/// the time until every grant is `active`, against whitebit-sim's own capacity for the
/// same request mix (token, info, secret per user) at the same concurrency, measured in
/// the same run on the same simulator.
struct Throughput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Authorizations per second through the spool to active grants, and the ratio to whitebit-sim's capacity.")

    @Option(help: "Authorizations to drop at once.")
    var authorizations = 2000

    @Option(help: "Requests in flight towards the simulator (whitebit.max_concurrency), for both measurements.")
    var concurrency = 8

    @Option(help: "whitebit.rate_limit for both measurements (requests per second; the config allows at most 1000).")
    var rateLimit = 1000.0

    func run() async throws {
        print("machine: \(Machine.current)")
        let sim = try await SimProcess.start(arguments: ["--log-level", "error"])
        defer { Task { await sim.stop() } }
        let direct = try await directCapacity(sim: sim)
        let daemon = try await daemonThroughput(sim: sim)
        print(String(format: "whitebit-sim capacity, same mix, %d in flight: %.0f authorizations/s (%.2f s for %d)", concurrency, direct.rate, direct.seconds, authorizations))
        print(String(format: "wbkeyd, spool to active:                       %.0f authorizations/s (%.2f s for %d)", daemon.rate, daemon.seconds, authorizations))
        print(String(format: "ratio: %.2f", daemon.rate / direct.rate))
        await sim.stop()
    }

    struct Rate {
        let seconds: Double
        let rate: Double
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
        await client.shutdown()
        return Rate(seconds: seconds, rate: Double(grants.count) / seconds)
    }

    /// The same users through wbkeyd: files renamed into new/ in one burst, then the
    /// time until `status` counts every grant active.
    func daemonThroughput(sim: SimProcess) async throws -> Rate {
        let fixture = try await DaemonFixture.start(
            DaemonFixture.Options(
                sim: sim,
                config: [
                    "whitebit.max_concurrency": .integer(concurrency), "whitebit.rate_limit": .raw(String(rateLimit)),
                    "keys.info_poll_interval": "100ms",
                ]))
        defer { Task { await fixture.stop() } }
        let grants = try await consents(prefix: "daemon", sim: sim)
        let staged = try grants.map { grant in
            let json = try SpoolSubmission.authorization(
                user: grant.user, code: grant.authorization.code, codeVerifier: grant.authorization.verifier)
            let name = "\(grant.user).json"
            try Data(json).write(to: URL(fileURLWithPath: fixture.paths.spoolRoot + "/tmp/" + name))
            return name
        }
        let start = ContinuousClock.now
        for name in staged {
            rename(fixture.paths.spoolRoot + "/tmp/" + name, fixture.paths.spoolRoot + "/new/" + name)
        }
        while try await activeCount(fixture) < grants.count {
            try await Task.sleep(for: .milliseconds(50))
        }
        let seconds = start.duration(to: .now).seconds
        await fixture.stop()
        return Rate(seconds: seconds, rate: Double(grants.count) / seconds)
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
