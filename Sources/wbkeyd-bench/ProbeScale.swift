import ArgumentParser
import Foundation
import GRDB
import GrantLifecycle
import Sensitive
import Store
import WBKeydHarness
import WhiteBITSimHarness

/// What probing dormant keys costs (docs/design.md §12, `keys.probe_interval`): a store of
/// dormant grants whose sealed secrets belong to live keys of the simulator, probed at a
/// short interval so that the rate can be measured; wbkeyd's CPU time per probe and the
/// requests the simulator saw, extrapolated to the default 24 h interval.
struct ProbeScale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-scale",
        abstract: "CPU time and WhiteBIT requests of probing many dormant keys, extrapolated to keys.probe_interval = 24h.",
        discussion: """
            Makes --keys keys in whitebit-sim (POST /sim/keys) and a store with one dormant \
            grant per key holding its sealed secret, whose next probes are spread evenly over \
            one --interval-minutes from a moment after start-up: the steady state of a \
            jittered plan. Starts wbkeyd with keys.probe_interval at that interval, measures \
            its CPU time (/proc/PID/stat) while idle for --baseline seconds, then while it \
            probes for --seconds, with the probes it audited and the signed requests the \
            simulator counted. Prints the measured figures, then those computed for the same \
            keys at 24h.
            """)

    @Option(help: "Dormant keys in the store and the simulator.")
    var keys = 100_000

    @Option(help: "keys.probe_interval for the measurement, in minutes (every key is probed once per interval).")
    var intervalMinutes = 30

    @Option(help: "Seconds of idle measurement before the first probe is due.")
    var baseline = 20

    @Option(help: "Seconds of measurement while probing.")
    var seconds = 60

    @Option(help: "whitebit.rate_limit (requests per second); must exceed keys / interval.")
    var rateLimit = 100

    func run() async throws {
        print("machine:  \(Machine.current)")
        print("load:     \(Machine.loadAverage)")
        let interval = Double(intervalMinutes * 60)
        let rate = Double(keys) / interval
        print(String(format: "plan:     %d dormant keys, probe_interval %dm: %.1f probes/s expected; whitebit.rate_limit %d", keys, intervalMinutes, rate, rateLimit))
        let config: [String: TOMLValue] = [
            "keys.probe_interval": .string("\(intervalMinutes)m"), "keys.verify_key": .bool(true),
            "whitebit.rate_limit": .integer(rateLimit),
        ]
        let fixture = try await DaemonFixture.prepare(DaemonFixture.Options(simArguments: ["--log-level", "error"], config: config))
        do {
            try await measure(fixture, interval: interval)
            await fixture.stop()
        } catch {
            await fixture.stop()
            throw error
        }
    }

    private func measure(_ fixture: DaemonFixture, interval: Double) async throws {
        let clock = ContinuousClock()
        let making = clock.now
        var made: [SimBulkKey] = []
        for first in stride(from: 0, to: keys, by: 10_000) {
            made += try await fixture.admin.createKeys(userPrefix: "probe-", first: first, count: min(10_000, keys - first))
        }
        print("keys:     \(made.count) made in whitebit-sim in \(LatencySummary.milliseconds(making.duration(to: clock.now)))")
        let seeding = clock.now
        // Start-up with this store, then the idle measurement, then the probes begin.
        let firstProbe = Date().addingTimeInterval(Double(baseline) + 20)
        try fill(store: fixture.paths.store, masterKey: Data(fixture.masterKey), keys: made, firstProbe: firstProbe, interval: interval)
        print("store:    \(made.count) dormant grants with sealed secrets in \(LatencySummary.milliseconds(seeding.duration(to: clock.now)))")

        try await fixture.start()
        let pid = (try fixture.process).pid
        try await Task.sleep(for: .seconds(3))
        let idleStart = try await Reading.take(pid: pid, fixture: fixture, ending: false)
        try await Task.sleep(for: .seconds(baseline))
        let idleEnd = try await Reading.take(pid: pid, fixture: fixture, ending: true)
        let idle = idleEnd.since(idleStart)
        print(String(format: "idle:     %.1f s: CPU %.3f s (%.2f %% of a core), %d probes, %d signed requests at the simulator",
            idle.seconds, idle.cpu, 100 * idle.cpu / idle.seconds, idle.probes, idle.signed))

        // A few seconds past the first due probe, so that the rate is steady.
        let wait = firstProbe.timeIntervalSinceNow + 5
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        let busyStart = try await Reading.take(pid: pid, fixture: fixture, ending: false)
        try await Task.sleep(for: .seconds(seconds))
        let busyEnd = try await Reading.take(pid: pid, fixture: fixture, ending: true)
        let busy = busyEnd.since(busyStart)
        print(String(format: "probing:  %.1f s: CPU %.3f s (%.2f %% of a core), %d probes (%.1f/s), %d signed requests at the simulator (%d answered 200); keys whose last check was not ok: %d",
            busy.seconds, busy.cpu, 100 * busy.cpu / busy.seconds, busy.probes, Double(busy.probes) / busy.seconds,
            busy.signed, busy.signed200, busyEnd.notOK))
        print("RSS:      \(StartupScale.residentKilobytes(of: pid) / 1024) MiB at the end")
        guard busy.probes > 0 else {
            print("no probe was measured: nothing to extrapolate")
            return
        }

        let idleRate = idle.cpu / idle.seconds
        let perProbe = (busy.cpu - idleRate * busy.seconds) / Double(busy.probes)
        let requestsPerProbe = Double(busy.signed) / Double(busy.probes)
        print(String(format: "measured: CPU per probe %.3f ms (%.3f ms with the idle share); %.2f simulator requests per probe",
            perProbe * 1000, busy.cpu / Double(busy.probes) * 1000, requestsPerProbe))
        let probesPerHour = Double(keys) / 24
        let cpuPerHour = idleRate * 3600 + perProbe * probesPerHour
        let requestsPerHour = probesPerHour * requestsPerProbe
        // docs/whitebit-api.md §5.4: /api/v4/main-account/* 1,000 requests per 10 s per IP.
        let limitPerHour = 1_000.0 / 10 * 3600
        print(String(format: "computed for %d keys at 24h: %.0f probes/h (%.2f/s); CPU %.1f s/h (%.3f %% of a core; of which probes %.1f s/h, idle %.1f s/h); %.0f requests/h = %.2f %% of WhiteBIT's main-account limit for one IP (1,000 per 10 s = %.0f/h)",
            keys, probesPerHour, probesPerHour / 3600, cpuPerHour, 100 * cpuPerHour / 3600, perProbe * probesPerHour, idleRate * 3600,
            requestsPerHour, 100 * requestsPerHour / limitPerHour, limitPerHour))
        print("load:     \(Machine.loadAverage) at the end")
    }

    /// One dormant grant per key: its secret sealed under the daemon's master key, the key
    /// verified an hour ago, and its next probe at its place in an even spread over one
    /// interval from `firstProbe`.
    func fill(store path: String, masterKey: Data, keys: [SimBulkKey], firstProbe: Date, interval: Double) throws {
        let store = try StoreDatabase.open(path: path)
        let keyring = try StoreKeyring.unlock(masterKey: masterKey, store: store)
        let now = Date()
        let batch = 10_000
        for first in stride(from: 0, to: keys.count, by: batch) {
            try store.pool.write { db in
                for index in first..<min(first + batch, keys.count) {
                    let key = keys[index]
                    var grant = Grant(user: key.user, state: .dormant, now: now)
                    grant.externalID = key.externalID
                    grant.hasSecret = true
                    grant.keyIdentity = .externalID
                    grant.keyCheckedAt = now.addingTimeInterval(-3600)
                    grant.keyCheck = .ok
                    grant.keyUsedAt = grant.keyCheckedAt
                    grant.probeAt = firstProbe.addingTimeInterval(interval * Double(index) / Double(keys.count))
                    try GrantRecords.save(grant, in: db)
                    let sealed = keyring.sealer.seal(
                        key.apiSecret, binding: SealBinding(kind: .apiSecret, user: key.user, externalID: key.externalID))
                    try GrantRecords.setSecret(sealed, externalID: key.externalID, user: key.user, in: db)
                }
            }
        }
        _ = try store.checkpoint()
        try store.close()
    }

    /// wbkeyd's CPU time, the probes it audited and the signed requests the simulator saw,
    /// at one moment.
    struct Reading {
        let at: ContinuousClock.Instant
        let cpu: Double
        let probes: Int
        /// Keys whose last signed check found them failed, disabled or gone (a gauge).
        let notOK: Int
        let signed: Int
        let signed200: Int

        /// `metrics` scans every held key (`wbkeyd_keys`): to keep that out of a window,
        /// a window's first reading takes the CPU time after asking, its last one before.
        static func take(pid: pid_t, fixture: DaemonFixture, ending: Bool) async throws -> Reading {
            let early = ending ? (ProcessCPU.seconds(of: pid) ?? 0) : 0
            let at = ContinuousClock.now
            let counts = try await fixture.admin.counts()
            let metrics = try await fixture.control("metrics")
            return Reading(
                at: at, cpu: ending ? early : (ProcessCPU.seconds(of: pid) ?? 0),
                probes: MetricsText.value(#"wbkeyd_audit_events_total{event="key_probed"}"#, in: metrics),
                notOK: ["failed", "disabled", "gone"].map { MetricsText.value(#"wbkeyd_keys{check="\#($0)"}"#, in: metrics) }.reduce(0, +),
                signed: counts.accountRequests["signed", default: 0], signed200: counts.responses["signed 200", default: 0])
        }

        func since(_ earlier: Reading) -> (seconds: Double, cpu: Double, probes: Int, signed: Int, signed200: Int) {
            (earlier.at.duration(to: at).seconds, cpu - earlier.cpu, probes - earlier.probes,
                signed - earlier.signed, signed200 - earlier.signed200)
        }

    }
}
