import Foundation
import Synchronization
import UnixSignals
import WBKeydHarness

/// `wbkeyd demo`: whitebit-sim and wbkeyd on loopback in a private directory, six
/// partner users played through the consent, and a live table of their grants. It
/// ends after `duration`, or on Ctrl-C, and removes what it made (unless `keep`).
public struct Demo: Sendable {
    public var duration: Duration?
    public var keep: Bool

    public init(duration: Duration?, keep: Bool) {
        self.duration = duration
        self.keep = keep
    }

    public func run() async throws {
        let display = DemoDisplay(interactive: isatty(STDOUT_FILENO) == 1)
        // The harness keeps its directory when this is set (it reads the environment).
        if keep { setenv("WBKEYD_HARNESS_KEEP", "1", 1) }
        display.say("starting whitebit-sim and wbkeyd on loopback …")
        let fixture = try await DaemonFixture.start(
            DaemonFixture.Options(
                simArguments: DemoScenario.simArguments, config: DemoScenario.config, directoryPrefix: "wbkeyd-demo"))
        do {
            display.introduce(fixture: fixture)
            try await DemoScenario.play(on: fixture)
            let agent = Task { await DemoAgent.run(on: fixture, display: display) }
            do {
                try await watch(fixture, display: display)
            } catch {
                agent.cancel()
                throw error
            }
            // Cancelled first, so that what stopping the daemon ends (its log, the events
            // stream) is not reported as a failure.
            agent.cancel()
            await fixture.stop()
            _ = await agent.value
        } catch {
            await fixture.stop()
            throw error
        }
        display.say(keep ? "stopped; kept \(fixture.paths.directory)" : "stopped; removed \(fixture.paths.directory)")
    }

    /// Refreshes the table every second until the duration ends or Ctrl-C; once every
    /// user has settled, prints what to try against the still-running daemon.
    private func watch(_ fixture: DaemonFixture, display: DemoDisplay) async throws {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let stopped = Atomic<Bool>(false)
        let listener = Task {
            for await _ in signals {
                stopped.store(true, ordering: .relaxed)
                return
            }
        }
        defer { listener.cancel() }
        let end = duration.map { ContinuousClock.now.advanced(by: $0) }
        var toldWhatToTry = false
        while !stopped.load(ordering: .relaxed) {
            if let end, ContinuousClock.now >= end { break }
            let table = (try? await fixture.control("grants")) ?? "(no answer from the control socket)\n"
            let states = (try? await DemoDisplay.states(of: fixture)) ?? [:]
            display.show(table: table, states: states)
            if DemoScenario.settled(states), !toldWhatToTry {
                toldWhatToTry = true
                display.whatToTry(fixture: fixture, duration: duration)
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
