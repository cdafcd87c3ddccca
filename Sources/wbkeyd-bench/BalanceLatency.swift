import ArgumentParser
import Foundation
import WBKeydHarness
import WhiteBITSimHarness

/// What reading through wbkeyd adds (docs/design.md §12): `balance USER main json` over the
/// control socket against the same signed V4 read sent straight to the simulator, taken in
/// turns in one run so that whatever else loads the machine weighs on both alike.
struct BalanceLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balance-latency",
        abstract: "Measures the latency a balance read through wbkeyd adds to the same signed read sent directly.",
        discussion: """
            Starts whitebit-sim and wbkeyd, makes one grant with a sealed secret, then --count \
            times: has wbkeyd sign a main-account balance read (`sign USER PATH json`, not \
            timed), and times, in alternating order, that request sent straight to the \
            simulator (AsyncHTTPClient, a kept-alive connection: what an application holding \
            the secret would do, with the HTTP client wbkeyd itself uses) and `balance USER \
            main json` over the control socket, one connection per line as the partner \
            application would. The direct read is signed by wbkeyd rather than by the bench \
            with the secret because both reads use one key: two nonce sources for one key \
            would hand out the same millisecond nonce and WhiteBIT refuses the second. \
            Reports p50/p99/max of each and the added latency (p99 through wbkeyd minus p99 \
            direct, and the same for p50), and the paired per-turn differences.
            """)

    @Option(help: "Turns; each times one read of each kind.")
    var count = 2_000

    @Option(name: .customLong("pause-ms"), help: "Pause after each turn, in milliseconds.")
    var pauseMilliseconds = 5

    func run() async throws {
        print("machine:  \(Machine.current)")
        print("load:     \(Machine.loadAverage)")
        // wbkeyd's own limiter (10/s by default) would queue the reads: what is measured is
        // the read, not the limiter.
        let config: [String: TOMLValue] = ["whitebit.rate_limit": .integer(1_000)]
        let options = DaemonFixture.Options(
            simArguments: ["--log-level", "warning"], config: config.merging(DaemonFixture.selfAsAgent) { $1 })
        try await DaemonFixture.withDaemon(options) { daemon in
            // The simulator's per-IP limit (1,000 main-account requests per 10 s) would refuse
            // two reads per turn at this pace; it changes nothing in an accepted read's path.
            _ = try await daemon.admin.updateSettings(SimAdminSettings(rateLimit: SimRateLimit(enabled: false)))
            try await daemon.consentAndSubmit(user: "u-bench")
            try await daemon.awaitEvent("secret_secured", user: "u-bench")
            try await measure(daemon)
        }
    }

    private func measure(_ daemon: DaemonFixture) async throws {
        let socket = daemon.paths.controlSocket
        let signLine = Array("sign u-bench /api/v4/main-account/balance json\n".utf8)
        let balanceLine = Array("balance u-bench main json\n".utf8)
        let clock = ContinuousClock()
        var direct: [Duration] = [], through: [Duration] = [], added: [Duration] = []
        var failures: [String] = []
        // Warm both paths (connections, caches) before anything is kept.
        for turn in -20..<count {
            // Blocking socket calls on this task: the bench does nothing else meanwhile, and
            // a hand-off to another thread would be timed as if it were wbkeyd's.
            guard let signed = SignLatency.roundTrip(socket: socket, line: signLine),
                let request = try? SignedRequestAnswer(json: String(decoding: signed, as: UTF8.self))
            else {
                failures.append("sign failed")
                continue
            }
            var directTime = Duration.zero, throughTime = Duration.zero
            for leg in turn % 2 == 0 ? [true, false] : [false, true] {
                let start = clock.now
                if leg {
                    let answer = try await request.send()
                    directTime = start.duration(to: clock.now)
                    if answer.status != 200 { failures.append("direct: \(answer.status) \(answer.body.prefix(120))") }
                } else {
                    let answer = SignLatency.roundTrip(socket: socket, line: balanceLine).map { String(decoding: $0, as: UTF8.self) }
                    throughTime = start.duration(to: clock.now)
                    if answer?.contains(#""route":"v4""#) != true { failures.append("wbkeyd: \(answer?.prefix(120) ?? "no connection")") }
                }
            }
            if turn >= 0 {
                direct.append(directTime)
                through.append(throughTime)
                added.append(throughTime - directTime)
            }
            if pauseMilliseconds > 0 { try await Task.sleep(for: .milliseconds(pauseMilliseconds)) }
        }
        guard let straight = LatencySummary(direct), let agent = LatencySummary(through), let paired = LatencySummary(added) else {
            print("no samples; failures: \(failures.prefix(5))")
            return
        }
        print("direct (signed read sent straight to whitebit-sim): \(straight)")
        print("through wbkeyd (balance USER main json):           \(agent)")
        print("added latency: p50 \(LatencySummary.milliseconds(agent.p50 - straight.p50)), p99 \(LatencySummary.milliseconds(agent.p99 - straight.p99)) (goal: p99 < 1 ms: \(agent.p99 - straight.p99 < .milliseconds(1) ? "met" : "not met"))")
        print("paired per-turn difference:                         \(paired)")
        if !failures.isEmpty { print("failures: \(failures.count), first: \(failures.prefix(3).joined(separator: "; "))") }
        print("load average at the end: \(Machine.loadAverage)")
    }
}
