import Foundation
import Synchronization
import WhiteBITSimHarness

/// Servers still running when the test process exits: `die-with-parent` would SIGKILL them
/// anyway, but only an orderly end (SIGQUIT: the postmaster ends its children first) lets
/// their directories be removed. Registered with atexit(3) on the first start.
enum ExitCleanup {
    private static let running = Mutex<[pid_t: String]>([:])
    private static let registered = Mutex(false)

    static func track(pid: pid_t, directory: String) {
        let first = registered.withLock { done in
            defer { done = true }
            return !done
        }
        if first { atexit { ExitCleanup.endAll() } }
        running.withLock { $0[pid] = directory }
    }

    static func untrack(pid: pid_t) {
        _ = running.withLock { $0.removeValue(forKey: pid) }
    }

    /// Unless `WBKEYD_HARNESS_KEEP=1`, as wbkeyd's harness keeps its directories.
    static func removeDirectory(_ path: String) {
        guard ProcessInfo.processInfo.environment["WBKEYD_HARNESS_KEEP"] != "1" else { return }
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func endAll() {
        let servers = running.withLock { $0 }
        for pid in servers.keys { kill(pid, SIGQUIT) }
        // The reaper threads still run: a reaped postmaster is gone from the process table.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, servers.keys.contains(where: { kill($0, 0) == 0 }) { usleep(20_000) }
        for directory in servers.values { removeDirectory(directory) }
    }

    /// The value, or nil when `timeout` passes first.
    static func wait<Value: Sendable>(for shot: OneShot<Value>, upTo timeout: Duration) async -> Value? {
        if let value = shot.peek { return value }
        let first = OneShot<Value?>()
        let waiter = Task { first.fulfil(await shot.value) }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            first.fulfil(nil)
        }
        let value = await first.value
        waiter.cancel()
        timer.cancel()
        return value
    }
}
