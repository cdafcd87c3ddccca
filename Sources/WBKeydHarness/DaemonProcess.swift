import Foundation
import WhiteBITSimHarness

/// One run of the real `wbkeyd` binary as a child process, supervised the way systemd
/// supervises it: `NOTIFY_SOCKET` names a datagram socket this process reads, and the run
/// counts as started on `READY=1`. Its output is captured whole and line by line.
///
/// The child is started through `die-with-parent`, so it dies with this process even if
/// nobody calls `terminate()` or `kill9()`.
public final class DaemonProcess: Sendable {
    public let pid: pid_t
    public let arguments: [String]
    private let output: OutputLog
    private let notify: NotifyListener?
    private let exit: OneShot<ProcessTermination>

    private init(pid: pid_t, arguments: [String], output: OutputLog, notify: NotifyListener?, exit: OneShot<ProcessTermination>) {
        self.pid = pid
        self.arguments = arguments
        self.output = output
        self.notify = notify
        self.exit = exit
    }

    deinit {
        // Last resort for a caller that forgot to stop it: never leave it running.
        if exit.peek == nil { kill(pid, SIGKILL) }
    }

    /// `$WBKEYD_PATH`, else the `wbkeyd` built next to the running executable.
    public static func executablePath() throws(HarnessError) -> String {
        try ChildLauncher.siblingExecutable(named: "wbkeyd", override: "WBKEYD_PATH")
    }

    /// Starts `wbkeyd ARGUMENTS`. With `notifySocketPath`, binds a datagram socket there and
    /// passes it as `NOTIFY_SOCKET`. Returns at once; `awaitReady` waits for READY=1.
    public static func launch(
        arguments: [String], environment: [String: String] = [:], notifySocketPath: String?, runAs: DaemonAccount? = nil
    ) async throws -> DaemonProcess {
        var path = try executablePath()
        var launchArguments = arguments
        var notify: NotifyListener?
        if let notifySocketPath { notify = try NotifyListener(path: notifySocketPath) }
        var overrides = environment
        if let notify { overrides["NOTIFY_SOCKET"] = notify.path }
        let child: ChildSpawn.Child
        do {
            if let runAs {
                // The daemon must be able to send to the socket this process bound.
                if let notify { try runAs.takeOver(notify.path) }
                (path, launchArguments) = runAs.command(path, arguments)
            }
            child = try await ChildLauncher.launch(
                path: path, arguments: launchArguments, environment: ChildLauncher.environment(with: overrides))
        } catch {
            await notify?.stop()
            throw error
        }
        let exit = OneShot<ProcessTermination>()
        ChildSpawn.reap(child.pid, into: exit)
        let output = OutputLog(streams: [child.stdoutReadEnd, child.stderrReadEnd])
        return DaemonProcess(pid: child.pid, arguments: arguments, output: output, notify: notify, exit: exit)
    }

    /// Waits for READY=1; throws when the process ends first or nothing comes in `timeout`.
    public func awaitReady(timeout: Duration = .seconds(60)) async throws {
        enum Outcome: Sendable { case ready, ended(ProcessTermination), timedOut }
        guard let notify else { throw HarnessError.notRunning(what: "awaitReady without a notify socket") }
        let first = OneShot<Outcome>()
        let watchers = [
            Task {
                await notify.ready.value
                _ = first.fulfil(.ready)
            },
            Task { _ = first.fulfil(.ended(await exit.value)) },
            Task {
                try await Task.sleep(for: timeout)
                _ = first.fulfil(.timedOut)
            },
        ]
        let outcome = await first.value
        for watcher in watchers { watcher.cancel() }
        switch outcome {
        case .ready:
            return
        case .ended(let termination):
            await output.closed.value
            throw HarnessError.exitedBeforeReady(termination: termination, recentOutput: recentLines)
        case .timedOut:
            throw HarnessError.notReady(within: timeout, recentOutput: recentLines)
        }
    }

    public var isRunning: Bool { exit.peek == nil }

    /// Sends `signal` (SIGHUP for a reload, say) unless the process has ended.
    public func send(signal: Int32) {
        if exit.peek == nil { kill(pid, signal) }
    }

    /// SIGKILL: the crash that no handler sees. Returns once the process and its output ended.
    @discardableResult
    public func kill9() async -> ProcessTermination {
        send(signal: SIGKILL)
        return await termination
    }

    /// SIGTERM, then waits for the end (SIGKILL after `timeout`).
    @discardableResult
    public func terminate(timeout: Duration = .seconds(30)) async -> ProcessTermination {
        send(signal: SIGTERM)
        let pid = self.pid
        let exit = self.exit
        let escalation = Task {
            try await Task.sleep(for: timeout)
            if exit.peek == nil { kill(pid, SIGKILL) }
        }
        let termination = await self.termination
        escalation.cancel()
        return termination
    }

    /// Waits until the process ended by itself, its output is read to the end and its last
    /// notifications are taken in.
    public var termination: ProcessTermination {
        get async {
            let termination = await exit.value
            await output.closed.value
            await notify?.stop()
            return termination
        }
    }

    /// Every byte the process printed (stdout and stderr, in arrival order).
    public var outputBytes: [UInt8] { output.bytes }
    /// Every line it printed so far.
    public var lines: [DaemonLogLine] { output.lines }
    public var lineCount: Int { output.lineCount }
    public var recentLines: [String] { output.lines.suffix(40).map(\.text) }
    /// The sd_notify datagrams received so far (`READY=1\nSTATUS=…`, `STOPPING=1…`).
    public var notifications: [String] { notify?.received ?? [] }

    /// The first line from index `since` on that matches `predicate`, waiting for it.
    public func awaitLine(
        since: Int = 0, timeout: Duration = .seconds(60), describedAs wanted: String = "matching the predicate",
        where predicate: @escaping @Sendable (DaemonLogLine) -> Bool
    ) async throws -> DaemonLogLine {
        switch await output.awaitLine(since: since, timeout: timeout, where: predicate) {
        case .found(let line):
            return line
        case .ended:
            let end = exit.peek.map { "wbkeyd ended (\($0))" } ?? "wbkeyd closed its output"
            throw HarnessError.lineNotSeen(wanted: wanted, reason: end, recentOutput: recentLines)
        case .timedOut:
            throw HarnessError.lineNotSeen(wanted: wanted, reason: "none within \(timeout)", recentOutput: recentLines)
        }
    }
}
