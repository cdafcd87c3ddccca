import Foundation
import WBKeydHarness

/// One test's conversation with one daemon: asks through a tool, keeps every answer
/// for the closing secret search, and reads the daemon's real state to compare with.
struct Session: Sendable {
    let daemon: DaemonFixture
    var speaker: Operator
    let transcript = Transcript()

    init(_ daemon: DaemonFixture, socket: String? = nil, wbkeyctlPath: String = BuiltProgram.wbkeyctl) {
        self.daemon = daemon
        speaker = Operator(socket: socket ?? daemon.paths.controlSocket, wbkeyctlPath: wbkeyctlPath)
    }

    @discardableResult
    func ask(_ line: String, via tool: ControlTool, as account: LocalAccount? = nil) async throws -> ToolAnswer {
        var speaker = speaker
        speaker.account = account
        let answer = try await speaker.ask(line, via: tool)
        transcript.record(answer)
        return answer
    }

    /// Asks for JSON and answers the object (`line` without the `json`).
    func object(_ line: String, via tool: ControlTool) async throws -> [String: Any] {
        try await ask(line + " json", via: tool).object()
    }

    /// The grant of `user` reaches `state` (a log line for the event is awaited first
    /// where there is one; `grants json` is the truth).
    func awaitActive(_ user: String) async throws {
        try await daemon.awaitEvent("secret_secured", user: user)
    }

    /// The audit table's head, straight from the store.
    func auditHead() async throws -> (seq: Int, hash: String) {
        let row = try await daemon.sqliteRows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first ?? [:]
        return (Int(row["seq"] ?? "") ?? -1, row["hash"] ?? "")
    }

    /// Fails with each leak named (never printed).
    func expectNoLeaks(extra: [String] = []) async throws -> [String] {
        let secrets = try await Transcript.secretsOnRecord(daemon, extra: extra)
        return transcript.leaks(of: secrets)
    }
}

/// RFC 3339 as the control socket prints it (whole seconds) and the simulator (millis).
func parseTimestamp(_ text: String?) -> Date? {
    guard let text else { return nil }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
}

/// JSON values compared as JSON (null, numbers and nested objects included): both
/// are written with sorted keys and the texts compared.
func sameJSON(_ a: Any?, _ b: Any?) -> Bool {
    func text(_ value: Any?) -> Data? {
        try? JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: [.sortedKeys])
    }
    guard let left = text(a), let right = text(b) else { return false }
    return left == right
}
