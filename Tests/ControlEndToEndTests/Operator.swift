import Foundation
import WBKeydHarness

/// The two ways docs/design.md §7 promises an operator can put a line on the socket.
enum ControlTool: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `echo LINE | socat -t 30 - UNIX-CONNECT:PATH`, literally. `-t 30`: socat waits that
    /// long for the answer once its stdin ended (its default, 0.5 s, cuts off an answer that
    /// waits for WhiteBIT on a busy machine; the README says so).
    case socat
    /// `wbkeyctl --socket PATH [--json] WORDS…`
    case wbkeyctl

    var description: String { rawValue }
}

/// What a tool printed for one line, and how it ended.
struct ToolAnswer: Sendable {
    let line: String
    let tool: ControlTool
    /// stdout and stderr together: wbkeyctl prints `error:` answers on stderr.
    let text: String
    let exitStatus: Int32?

    var isError: Bool { text.hasPrefix("error: ") || text.hasPrefix(#"{"error":"#) }

    /// The answer as one JSON object, or a recorded failure naming the line.
    func object() throws -> [String: Any] {
        guard text.hasSuffix("\n"), text.dropLast().firstIndex(of: "\n") == nil,
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        else {
            throw AnswerProblem(description: "`\(line)` via \(tool): not one JSON document on one line: \(text.prefix(300))")
        }
        return object
    }

    /// `key: value` lines of a text answer (status, show, secret), keys as shown.
    var fields: [String: String] {
        var result: [String: String] = [:]
        for row in text.split(separator: "\n") {
            guard let colon = row.firstIndex(of: ":"), !row.hasPrefix(" ") else { continue }
            let key = String(row[..<colon])
            guard !key.contains("  ") else { continue }
            result[key] = row[row.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }
}

struct AnswerProblem: Error, CustomStringConvertible {
    let description: String
}

/// Runs the tools, as root (this process) or as another local account through
/// `setpriv --init-groups`, which gives the child exactly that account's groups.
struct Operator: Sendable {
    let socket: String
    let wbkeyctlPath: String
    var account: LocalAccount?

    init(socket: String, wbkeyctlPath: String = BuiltProgram.wbkeyctl, account: LocalAccount? = nil) {
        self.socket = socket
        self.wbkeyctlPath = wbkeyctlPath
        self.account = account
    }

    func ask(_ line: String, via tool: ControlTool) async throws -> ToolAnswer {
        var command: [String]
        switch tool {
        case .socat:
            command = ["/bin/sh", "-c", #"printf '%s\n' "$1" | socat -t 30 - "UNIX-CONNECT:$2""#, "sh", line, socket]
        case .wbkeyctl:
            var words = line.split(separator: " ").map(String.init)
            let json = words.count > 1 && words.last == "json"
            if json { words.removeLast() }
            command = [wbkeyctlPath, "--socket", socket] + (json ? ["--json"] : []) + words
        }
        if let account {
            command = ["/usr/bin/setpriv", "--reuid=\(account.name)", "--regid=\(account.primaryGroup)", "--init-groups"] + command
        }
        let result = try await CommandRunner.run(command[0], Array(command.dropFirst()))
        return ToolAnswer(line: line, tool: tool, text: result.standardOutput + result.standardError, exitStatus: result.exitStatus)
    }
}

enum BuiltProgram {
    /// The wbkeyctl built beside this test bundle (`.build/debug/`).
    static var wbkeyctl: String {
        let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("wbkeyctl").path
    }
}
