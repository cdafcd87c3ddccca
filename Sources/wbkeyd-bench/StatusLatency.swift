import ArgumentParser
import Foundation
import Glibc
import Sensitive
import Spool
import Synchronization
import WBKeydHarness
import WhiteBITSimHarness

/// How long `status` takes over the real socket while wbkeyd works through a burst of
/// spool files, against an idle daemon as the baseline.
struct StatusLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status-latency",
        abstract: "Measures `status` round trips while wbkeyd processes a burst of spool files.",
        discussion: """
            Starts whitebit-sim and wbkeyd, takes baseline round trips of `status json`, plays \
            the users' consents at the simulator, writes one valid authorization per user \
            under spool/tmp/ and renames them all into spool/new/ at once. Then it asks \
            `status json` again and again until every grant has left pending, awaiting_key \
            and securing, and reports p50/p99/max of both series, the intake time (until the \
            spool is empty and every file is a grant) and the processing time (until every \
            grant is settled).
            """)

    @Option(help: "Spool files in the burst, one user each.")
    var files = 10_000

    @Option(name: .customLong("pause-ms"), help: "Pause between two status round trips, in milliseconds.")
    var pauseMilliseconds = 10

    @Option(help: "Round trips against the idle daemon before the burst.")
    var baseline = 300

    @Option(help: "whitebit.rate_limit for the run (requests per second towards the simulator; at most 1000).")
    var rateLimit = 1_000

    @Option(help: "whitebit.max_concurrency for the run.")
    var maxConcurrency = 16

    @Flag(inversion: .prefixedNo, help: "Real consents at the simulator, so grants become active (else made-up codes, so they fail).")
    var consent = true

    @Option(help: "Give up after this many seconds of processing.")
    var timeout = 3_600

    func run() async throws {
        print("machine:  \(Machine.current)")
        print("burst:    \(files) authorizations, \(consent ? "real consents" : "made-up codes"); rate_limit \(rateLimit)/s, max_concurrency \(maxConcurrency)")
        let options = DaemonFixture.Options(
            simArguments: ["--code-lifetime", "1h", "--log-level", "warning"],
            config: [
                "whitebit.rate_limit": .integer(rateLimit), "whitebit.max_concurrency": .integer(maxConcurrency),
                "keys.info_poll_interval": "500ms", "spool.max_code_age": "1h",
            ])
        try await DaemonFixture.withDaemon(options) { daemon in try await measure(daemon) }
    }

    private func measure(_ daemon: DaemonFixture) async throws {
        // Three OAuth calls per file at up to 1,000/s pass the simulator's per-IP 10,000 per
        // 10 s (docs/whitebit-sim.md): its 429s would time wbkeyd's retries, not `status`.
        _ = try await daemon.admin.updateSettings(SimAdminSettings(rateLimit: SimRateLimit(enabled: false)))
        let probe = StatusProbe(socket: daemon.paths.controlSocket, pause: .milliseconds(pauseMilliseconds))
        let idle = await Self.offPool { probe.take(baseline) }
        print("idle:     \(LatencySummary(idle.map(\.roundTrip)).map(String.init(describing:)) ?? "no samples")")

        let clock = ContinuousClock()
        let preparing = clock.now
        let names = try await BurstFiles.stage(count: files, consent: consent, daemon: daemon)
        print("staged:   \(names.count) files in spool/tmp/ in \(LatencySummary.milliseconds(preparing.duration(to: clock.now)))")

        let progress = BurstProgress(files: files)
        probe.start { progress.observe($0) }
        let mark = daemon.logMark
        let dropped = clock.now
        try BurstFiles.drop(names, daemon: daemon)
        progress.dropped(at: dropped, renamed: clock.now)
        let settled = await progress.awaitSettled(timeout: .seconds(timeout))
        let readings = await probe.stop()

        let end = settled ?? clock.now
        let underLoad = readings.filter { reading in reading.at >= dropped && reading.at <= end }
        print("renames:  \(LatencySummary.milliseconds(progress.renameTime ?? .zero)) to move \(files) files into new/")
        print("loaded:   \(LatencySummary(underLoad.map(\.roundTrip)).map(String.init(describing:)) ?? "no samples")")
        // The same round trips split where the spool was drained: while the intake claims and
        // ingests (CPU-bound), and after it (the rate limit paces the WhiteBIT calls).
        if let drained = progress.intakeDoneAt {
            let (during, after) = (underLoad.filter { $0.at < drained }, underLoad.filter { $0.at >= drained })
            print("  intake: \(LatencySummary(during.map(\.roundTrip)).map(String.init(describing:)) ?? "no samples")")
            print("  after:  \(LatencySummary(after.map(\.roundTrip)).map(String.init(describing:)) ?? "no samples")")
        }
        print("intake:   \(progress.intakeTime.map(LatencySummary.milliseconds) ?? "not finished") (spool empty, \(files) grants recorded)")
        print("settled:  \(settled.map { LatencySummary.milliseconds(dropped.duration(to: $0)) } ?? "not within \(timeout) s") (no grant pending, awaiting_key or securing)")
        if let last = readings.last(where: { $0.status != nil })?.status {
            let grants = (last["grants"] as? [String: Int] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            print("grants:   \(grants.joined(separator: " "))")
            if let whitebit = last["whitebit"] as? [String: Any] {
                print("whitebit: requests=\(whitebit["requests"] ?? "?") errors=\(whitebit["errors"] ?? "?") last_error=\(whitebit["last_error"] as? String ?? "-")")
            }
        }
        // Each line is one journal entry under systemd (the sink differs, not the count):
        // the volume journald's rate limit sees from a burst of this size.
        let lines = try daemon.process.lines[mark.line...]
        let routine = lines.filter { line in
            ["authorization_received", "token_exchanged", "key_detected", "secret_secured"].contains { line.isEvent($0) }
        }
        let severe = lines.filter { ["warning", "error", "critical"].contains($0.level ?? "") }
        print("log:      \(lines.count) entries from the drop to settled: \(routine.count) routine per-grant, "
            + "\(lines.filter { $0.isEvent("log_entries_left_out") }.count) left-out reports, \(severe.count) warning or worse")
        let failures = readings.filter { $0.status == nil }.count
        if failures > 0 { print("failed:   \(failures) status round trips got no JSON answer") }
    }

    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }
}

/// Follows the status answers: when the spool is drained and when every grant settled.
final class BurstProgress: Sendable {
    private struct State {
        var dropped: ContinuousClock.Instant?
        var renameTime: Duration?
        var intakeDone: ContinuousClock.Instant?
        var settled: ContinuousClock.Instant?
        var waiter: CheckedContinuation<ContinuousClock.Instant?, Never>?
    }

    private let files: Int
    private let state = Mutex(State())
    static let unsettled: Set<String> = ["pending", "awaiting_key", "securing"]

    init(files: Int) { self.files = files }

    func dropped(at instant: ContinuousClock.Instant, renamed: ContinuousClock.Instant) {
        state.withLock {
            $0.dropped = instant
            $0.renameTime = instant.duration(to: renamed)
        }
    }

    var renameTime: Duration? { state.withLock { $0.renameTime } }

    /// When a status answer first showed the spool drained and every file a grant.
    var intakeDoneAt: ContinuousClock.Instant? { state.withLock { $0.intakeDone } }

    var intakeTime: Duration? {
        state.withLock { state in state.dropped.flatMap { start in state.intakeDone.map { start.duration(to: $0) } } }
    }

    func observe(_ reading: StatusProbe.Reading) {
        guard let status = reading.status, let grants = status["grants"] as? [String: Int],
            let spool = status["spool"] as? [String: Any]
        else { return }
        let total = grants.values.reduce(0, +)
        let drained = (spool["new"] as? Int) == 0 && (spool["claimed"] as? Int) == 0 && total >= files
        let settled = drained && grants.filter { Self.unsettled.contains($0.key) }.values.reduce(0, +) == 0
        let waiter = state.withLock { state -> CheckedContinuation<ContinuousClock.Instant?, Never>? in
            guard state.dropped != nil, reading.at >= state.dropped! else { return nil }
            if drained && state.intakeDone == nil { state.intakeDone = reading.at }
            guard settled, state.settled == nil else { return nil }
            state.settled = reading.at
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: reading.at)
    }

    /// When every grant settled, or nil after `timeout`.
    func awaitSettled(timeout: Duration) async -> ContinuousClock.Instant? {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let waiter = state.withLock { state in defer { state.waiter = nil }; return state.waiter }
            waiter?.resume(returning: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let done = state.withLock { state -> ContinuousClock.Instant?? in
                if let settled = state.settled { return .some(settled) }
                state.waiter = continuation
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }
}
