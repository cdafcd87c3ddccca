import Foundation
import Glibc
import Testing
import WBKeydHarness

/// What the reload tests share: a SIGHUP with a rewritten file, and the deadlines that
/// `show USER` reports, read through the control socket.
extension DaemonFixture {
    /// Rewrites wbkeyd.toml as the fixture's defaults plus the test's start-up overrides
    /// plus `changes` (each reload names every key it changes from the start-up file),
    /// sends SIGHUP and returns the reload's last line, written once everything it applies
    /// is in force. A reload never restarts: the same process must carry on.
    @discardableResult
    func reload(_ changes: [String: TOMLValue], sourceLocation: SourceLocation = #_sourceLocation) async throws -> DaemonLogLine {
        try await reload(writing: defaultConfig.merging(options.config).merging(changes).rendered, sourceLocation: sourceLocation)
    }

    /// The same with the file's text as given (a syntax error).
    @discardableResult
    func reload(writing text: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> DaemonLogLine {
        let process = try self.process
        try Data(text.utf8).write(to: URL(fileURLWithPath: paths.configFile))
        let mark = logMark
        process.send(signal: SIGHUP)
        // The restart warnings carry the same event; the audit line comes last.
        let line = try await awaitLine(since: mark, describedAs: "the reload's audit line") {
            $0.isEvent("config_reloaded")
                && ($0.text.contains("configuration reloaded (") || $0.text.contains("configuration reload refused"))
        }
        #expect(process.isRunning && allRuns.count == 1, "the reload ended or replaced the process", sourceLocation: sourceLocation)
        return line
    }

    /// The last `config_reloaded` audit row.
    func lastReloadRow() async throws -> AuditRecord? {
        try await auditRows().last { $0.event == "config_reloaded" }
    }

    /// When `user`'s grant acts next (`show USER json`, `next_action_at`); nil when nothing
    /// is scheduled.
    func nextAction(of user: String) async throws -> Date? {
        let answer = try await control("show \(user) json")
        guard let object = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any],
            let grant = object["grant"] as? [String: Any]
        else { throw HarnessError.unexpectedOutput(command: "show \(user) json", detail: String(answer.prefix(300))) }
        guard let text = grant["next_action_at"] as? String else { return nil }
        return try Date(text, strategy: .iso8601)
    }

    /// Asks `show USER` until the next action lies within `range` from now (seconds), or
    /// `deadline` passes; answers the last offset seen, for the failure message.
    func awaitNextAction(
        of user: String, within range: ClosedRange<Double>, deadline: Duration = .seconds(45)
    ) async throws -> (held: Bool, seen: Double?) {
        var seen: Double?
        let held = try await eventually(within: deadline) {
            seen = try await nextAction(of: user).map { $0.timeIntervalSinceNow }
            return seen.map(range.contains) ?? false
        }
        return (held, seen)
    }

    /// The simulator's count of requests to `endpoint` (`token`, `info`, `secret`, `delete`).
    func simRequests(_ endpoint: String) async throws -> Int {
        try await admin.state().requests[endpoint] ?? 0
    }
}
