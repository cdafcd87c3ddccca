import Foundation
import Synchronization
import WBKeydHarness

/// What the demo prints: on a terminal the grants table is redrawn in place, otherwise
/// it is printed again only when a state changes, so a log stays readable.
final class DemoDisplay: Sendable {
    let interactive: Bool
    private let output: @Sendable (String) -> Void
    private let last = Mutex<String>("")
    private let notes = Mutex<[String]>([])

    init(interactive: Bool, output: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }) {
        self.interactive = interactive
        self.output = output
    }

    func say(_ line: String) {
        write(line + "\n")
    }

    private func write(_ text: String) {
        output(text)
    }

    func introduce(fixture: DaemonFixture) {
        introduce(directory: fixture.paths.directory)
    }

    func introduce(directory: String) {
        var lines = ["wbkeyd is running in \(directory)", "the users:"]
        for user in DemoScenario.users {
            lines.append("  \(user.name.padding(toLength: 6, withPad: " ", startingAt: 0)) \(user.story) → expect \(user.expected)")
        }
        lines.append("tokens live \(DemoScenario.tokenLifetimeSeconds) s here (4 h at WhiteBIT), so active grants turn dormant within a minute.")
        notes.withLock { $0 = lines }
        for line in lines { say(line) }
    }

    /// A line that stays: printed at once when piped, kept above the table on a terminal
    /// (the next redraw, within a second, shows it).
    func note(_ line: String) {
        notes.withLock { $0.append(line) }
        if !interactive { say(line) }
    }

    func show(table: String, states: [String: String]) {
        let stamp = Self.clock(Date())
        if interactive {
            var screen = "\u{1B}[H\u{1B}[2J"
            for line in notes.withLock({ $0 }) { screen += line + "\n" }
            screen += "\n\(stamp)  grants (refreshing every second; Ctrl-C stops and cleans up)\n\n" + table
            write(screen)
        } else {
            // Only state changes: the countdown column changes every second.
            let summary = states.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let changed = last.withLock { previous -> Bool in
                defer { previous = summary }
                return previous != summary
            }
            if changed { say("\(stamp) grants:\n" + table.trimmingCharacters(in: .newlines)) }
        }
    }

    func whatToTry(fixture: DaemonFixture, duration: Duration?) {
        whatToTry(paths: fixture.paths, duration: duration)
    }

    func whatToTry(paths: DaemonPaths, duration: Duration?) {
        let socket = paths.controlSocket
        let store = paths.store
        let wbkeyctl = Self.sibling("wbkeyctl")
        let lines = [
            "", "every user has settled. Try, while the demo runs:",
            "  echo status | socat - UNIX-CONNECT:\(socket)",
            "  echo 'show dave' | socat - UNIX-CONNECT:\(socket)",
            "  echo 'audit 30' | socat - UNIX-CONNECT:\(socket)",
            "  echo metrics | socat - UNIX-CONNECT:\(socket)",
            "  echo 'balance alice spot' | socat - UNIX-CONNECT:\(socket)   # read through alice's key (docs/design.md §12)",
            "  echo events | socat -t 3600 - UNIX-CONNECT:\(socket)   # every audit row as it commits; Ctrl-C ends it",
            "  \(wbkeyctl) --socket \(socket) grants",
            "  \(wbkeyctl) --socket \(socket) --json show alice",
            "  \(wbkeyctl) --socket \(socket) secret bob      # you run the demo, so you may read secrets",
            "  \(wbkeyctl) --socket \(socket) history alice transactions limit=5",
            "  \(wbkeyctl) --socket \(socket) show frank      # his deleted key, found gone by a probe",
            "the audit log is the table audit in \(store):",
            "  sqlite3 \(store) 'SELECT seq, at, event, user, actor FROM audit'",
            "  \(Self.sibling("wbkeyd")) audit-verify --store \(store) --master-key-file \(paths.masterKeyFile)",
            duration == nil ? "Ctrl-C stops everything and removes \(paths.directory)." : "the demo ends by itself after its duration.",
        ]
        notes.withLock { $0 += lines }
        if !interactive { for line in lines { say(line) } }
    }

    /// A program built beside the running one, relative to the working directory when
    /// beneath it (`.build/debug/wbkeyctl`), so the printed commands can be pasted as-is.
    static func sibling(_ program: String) -> String {
        let invoked = CommandLine.arguments[0]
        // Found through $PATH: only the kernel knows where the binary lives.
        let executable = invoked.contains("/") ? invoked : (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? invoked
        let path = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(program).path
        let here = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(here) ? String(path.dropFirst(here.count)) : path
    }

    /// HH:MM:SS in UTC, like the daemon's own timestamps.
    static func clock(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970) % 86_400
        return String(format: "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    /// Each user's state, from `grants json` (the same socket an admin uses).
    static func states(of fixture: DaemonFixture) async throws -> [String: String] {
        let answer = try await fixture.control("grants json")
        guard let document = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any],
            let grants = document["grants"] as? [[String: Any]]
        else { return [:] }
        var states: [String: String] = [:]
        for grant in grants {
            if let user = grant["user"] as? String, let state = grant["state"] as? String { states[user] = state }
        }
        return states
    }
}
