import Foundation
import Synchronization
import Testing
import WBKeydHarness

@testable import Demo

/// What the demo prints, captured: a new user reads it, and tests/newcomer/demo.sh
/// parses its socket, store and wbkeyctl lines.
@Suite struct DemoDisplayTests {
    final class Captured: Sendable {
        private let text = Mutex("")
        var value: String { text.withLock { $0 } }
        func append(_ more: String) { text.withLock { $0 += more } }
    }

    static let table = "USER   STATE\nalice  active\n"

    @Test func pipedOutputPrintsTheTableOnlyWhenAStateChanges() {
        let captured = Captured()
        let display = DemoDisplay(interactive: false, output: captured.append)
        display.show(table: Self.table, states: ["alice": "active"])
        display.show(table: Self.table, states: ["alice": "active"])
        display.show(table: "USER   STATE\nalice  dormant\n", states: ["alice": "dormant"])
        let text = captured.value
        #expect(text.components(separatedBy: " grants:\n").count == 3, "two tables, not three: \(text)")
        #expect(!text.contains("\u{1B}["), "no terminal escapes when piped")
        #expect(text.contains("alice  dormant"))
    }

    @Test func aTerminalGetsTheTableRedrawnInPlaceUnderTheIntroduction() {
        let captured = Captured()
        let display = DemoDisplay(interactive: true, output: captured.append)
        display.introduce(directory: "/tmp/wbkeyd-demo.x")
        display.show(table: Self.table, states: ["alice": "active"])
        let screen = captured.value.components(separatedBy: "\u{1B}[H\u{1B}[2J").last ?? ""
        #expect(screen.hasPrefix("wbkeyd is running in /tmp/wbkeyd-demo.x\nthe users:\n"))
        #expect(screen.contains("Ctrl-C stops and cleans up"))
        #expect(screen.hasSuffix(Self.table))
    }

    @Test func theIntroductionPromisesEachUsersEndState() {
        let captured = Captured()
        DemoDisplay(interactive: false, output: captured.append).introduce(directory: "/tmp/d")
        for user in DemoScenario.users {
            #expect(captured.value.contains("  \(user.name.padding(toLength: 6, withPad: " ", startingAt: 0)) \(user.story) → expect \(user.expected)\n"))
        }
    }

    @Test func whatToTryNamesTheLiveSocketWbkeyctlAndTheAuditDatabase() {
        let captured = Captured()
        let paths = DaemonPaths(directory: "/tmp/wbkeyd-demo.y")
        DemoDisplay(interactive: false, output: captured.append).whatToTry(paths: paths, duration: .seconds(90))
        let text = captured.value
        #expect(text.contains("  echo status | socat - UNIX-CONNECT:/tmp/wbkeyd-demo.y/control.sock\n"))
        #expect(text.contains("wbkeyctl --socket /tmp/wbkeyd-demo.y/control.sock grants\n"))
        #expect(text.contains("the audit log is the table audit in /tmp/wbkeyd-demo.y/wbkeyd.sqlite3:\n"))
        #expect(text.contains(
            "wbkeyd audit-verify --store /tmp/wbkeyd-demo.y/wbkeyd.sqlite3 --master-key-file /tmp/wbkeyd-demo.y/credentials/master-key\n"))
        #expect(text.contains("the demo ends by itself"))
        let untimed = Captured()
        DemoDisplay(interactive: false, output: untimed.append).whatToTry(paths: paths, duration: nil)
        #expect(untimed.value.contains("Ctrl-C stops everything and removes /tmp/wbkeyd-demo.y."))
    }

    @Test func settledOnlyWhenEveryUserIsInThePromisedState() {
        let promised = Dictionary(uniqueKeysWithValues: DemoScenario.users.map { ($0.name, $0.expected) })
        #expect(DemoScenario.settled(promised))
        var early = promised
        early["bob"] = "active"
        #expect(!DemoScenario.settled(early))
        #expect(!DemoScenario.settled(promised.filter { $0.key != "carol" }))
    }

    /// Printed programs sit beside the running one; beneath the working directory the
    /// path is relative, so it can be pasted from the clone's root.
    @Test func siblingProgramsAreNamedBesideThisExecutable() {
        let sibling = DemoDisplay.sibling("wbkeyctl")
        #expect(sibling.hasSuffix("/wbkeyctl"))
        let absolute = sibling.hasPrefix("/") ? sibling : FileManager.default.currentDirectoryPath + "/" + sibling
        let invoked = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        #expect(absolute.hasPrefix(FileManager.default.currentDirectoryPath) || absolute.hasPrefix(invoked))
    }
}
