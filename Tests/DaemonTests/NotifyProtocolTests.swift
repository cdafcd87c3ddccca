import Foundation
import Glibc
import Testing
import WBKeydHarness

/// The sd_notify conversation with a real datagram listener (docs/design.md §8): the order
/// of READY, RELOADING and STOPPING, and watchdog pings that stop while the daemon is
/// frozen.
@Suite struct NotifyProtocolTests {
    /// Waits until `process` has sent at least `count` messages matching `predicate`.
    func awaitNotifications(
        _ process: DaemonProcess, count: Int, timeout: Duration = .seconds(30), where predicate: (String) -> Bool
    ) async throws -> [String] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let matching = process.notifications.filter(predicate)
            if matching.count >= count { return matching }
            guard ContinuousClock.now < deadline else {
                Issue.record("only \(matching.count) of \(count) notifications within \(timeout): \(process.notifications)")
                return matching
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func readyReloadingReadyStoppingInThatOrder() async throws {
        try await withDaemon { daemon in
            let process = try daemon.process
            process.send(signal: SIGHUP)
            try await daemon.awaitEvent("config_reloaded")
            _ = try await awaitNotifications(process, count: 2) { $0.contains("READY=1") }
            let termination = try await daemon.terminate()
            #expect(termination.exitStatus == 0)
            let messages = process.notifications
            let ready = messages.indices.filter { messages[$0].contains("READY=1") }
            let reloading = try #require(messages.firstIndex { $0.contains("RELOADING=1") })
            let stopping = try #require(messages.firstIndex { $0.contains("STOPPING=1") })
            #expect(ready.count >= 2)
            #expect(ready[0] < reloading && reloading < ready[1] && ready[1] < stopping)
            #expect(messages[reloading].contains("MONOTONIC_USEC="))
            #expect(messages[ready[0]].contains("STATUS="))
            #expect(stopping == messages.count - 1 || !messages[(stopping + 1)...].contains { $0.contains("READY=1") })
        }
    }

    @Test func watchdogPingsStopWhileTheDaemonIsFrozen() async throws {
        // WATCHDOG_USEC without WATCHDOG_PID: the interval is for whoever reads it (1 s,
        // so pings every half second).
        let options = DaemonFixture.Options(environment: ["WATCHDOG_USEC": "1000000"])
        try await withDaemon(options) { daemon in
            let process = try daemon.process
            let isPing: (String) -> Bool = { $0.split(separator: "\n").contains("WATCHDOG=1") }
            _ = try await awaitNotifications(process, count: 3, where: isPing)
            kill(process.pid, SIGSTOP)
            // A stopped process cannot send; give any datagram already in flight time to land.
            try await Task.sleep(for: .milliseconds(300))
            let frozen = process.notifications.filter(isPing).count
            try await Task.sleep(for: .seconds(2))
            #expect(process.notifications.filter(isPing).count == frozen)
            kill(process.pid, SIGCONT)
            _ = try await awaitNotifications(process, count: frozen + 2, where: isPing)
        }
    }
}
