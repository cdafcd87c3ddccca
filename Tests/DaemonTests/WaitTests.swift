import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// `wait USER STATE[,STATE…] [TIMEOUT]` (docs/design.md §12), over the real socket, with
/// socat and wbkeyctl as the README shows them.
@Suite struct WaitTests {
    @Test func answersAtOnceWhenTheGrantIsAlreadyThereAndInJSON() async throws {
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-w1")
            #expect(try await daemon.control("wait u-w1 failed,active") == "u-w1: active\n")
            let object = try #require(try await daemon.control("wait u-w1 active 0s json").jsonObject)
            #expect(object["user"] as? String == "u-w1" && object["state"] as? String == "active")
        }
    }

    @Test func answersWhenTheGrantGetsThereThroughSocatAndWbkeyctl() async throws {
        try await withDaemon { daemon in
            let socket = daemon.paths.controlSocket
            let raw = try HeldControlConnection(socket: socket, line: "wait u-w2 active 60s")
            // The README's forms: socat must outlast the wait (-t), wbkeyctl waits as long as asked.
            let socat = Task {
                try await CommandRunner.run("/bin/sh", ["-c", #"echo "wait u-w2 active 60s" | socat -t 65 - "UNIX-CONNECT:$1""#, "sh", socket])
            }
            let wbkeyctl = Task { try await CommandRunner.run(try Self.wbkeyctl(), ["--socket", socket, "wait", "u-w2", "active", "60s"]) }
            let wbkeyctlJSON = Task { try await CommandRunner.run(try Self.wbkeyctl(), ["--socket", socket, "--json", "wait", "u-w2", "active,failed"]) }
            try await Task.sleep(for: .seconds(1))
            try await daemon.consentAndSubmit(user: "u-w2", key: .now)
            #expect(try await raw.readToEnd() == ["u-w2: active"])
            let bySocat = try await socat.value
            #expect(bySocat.standardOutput == "u-w2: active\n", "\(bySocat)")
            let byTool = try await wbkeyctl.value
            #expect(byTool.exitStatus == 0 && byTool.standardOutput == "u-w2: active\n", "\(byTool)")
            let byToolJSON = try await wbkeyctlJSON.value
            #expect(byToolJSON.exitStatus == 0 && byToolJSON.standardOutput.jsonObject?["state"] as? String == "active", "\(byToolJSON)")
        }
    }

    @Test func timesOutWithAnErrorAndWbkeyctlExitsNonZero() async throws {
        try await withDaemon { daemon in
            try await daemon.activeGrant("u-w3")
            let answer = try await daemon.control("wait u-w3 revoked 1s")
            #expect(answer.hasPrefix("error: timeout: u-w3 is active after 1s"), "\(answer)")
            let nobody = try await daemon.control("wait u-nobody active 200ms json")
            let message = try #require((nobody.jsonObject?["error"] as? [String: Any])?["message"] as? String)
            #expect(message.hasPrefix("timeout: u-nobody has no grant"), "\(message)")
            let tool = try await CommandRunner.run(try Self.wbkeyctl(), ["--socket", daemon.paths.controlSocket, "wait", "u-w3", "revoked", "1s"])
            #expect(tool.exitStatus == 1 && tool.standardError.hasPrefix("error: timeout"), "\(tool)")
        }
    }

    @Test func refusesBadInputWithClearErrors() async throws {
        try await withDaemon { daemon in
            let cases: [(String, String)] = [
                ("wait u-w4 actve", "error: unknown state `actve`; states: pending,"),
                ("wait u-w4 active,", "error: unknown state ``; states:"),
                ("wait u-w4 active 10", "error: bad timeout `10`: write a number and a unit"),
                ("wait u-w4 active 1.5s", "error: bad timeout `1.5s`"),
                ("wait u-w4 active 2h", "error: bad timeout `2h`: longer than 3600s"),
                ("wait u-w4", "error: usage: wait USER STATE[,STATE…] [TIMEOUT] [json]"),
                ("wait u-w4 active 1s extra", "error: usage: wait USER STATE[,STATE…] [TIMEOUT] [json]"),
                ("wait bad/user active", "error: invalid user reference"),
                ("events a b", "error: usage: events [USER] [json]"),
            ]
            for (line, expected) in cases {
                let answer = try await daemon.control(line)
                #expect(answer.hasPrefix(expected), "\(line) → \(answer)")
            }
            let tool = try await CommandRunner.run(try Self.wbkeyctl(), ["--socket", daemon.paths.controlSocket, "wait", "u-w4", "actve"])
            #expect(tool.exitStatus == 64 && tool.standardError.contains("unknown state `actve`"), "\(tool)")
        }
    }

    static func wbkeyctl() throws -> String {
        let running = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("wbkeyctl").path
    }
}
