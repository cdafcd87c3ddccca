import ArgumentParser
import DaemonConfig
import Demo

/// What `wbkeyd demo` runs: kept out of the wbkeyd binary so that the daemon a host
/// installs does not link the test harness and the simulator's client.
@main
struct WBKeydDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wbkeyd-demo",
        abstract: "The demo behind `wbkeyd demo` (see `wbkeyd demo --help`).")

    @Option(help: ArgumentHelp("Stop after this long (e.g. 90s, 5m); without it the demo runs until Ctrl-C.", valueName: "duration"))
    var duration: String?

    @Flag(help: "Keep the demo's directory (store, spool, config) after it stops.")
    var keep = false

    func run() async throws {
        var limit: Duration?
        if let duration {
            guard let parsed = try? ConfigDuration.parse(duration) else {
                throw ValidationError("--duration: expected a duration like 90s or 5m, got \(duration)")
            }
            limit = parsed
        }
        try await Demo(duration: limit, keep: keep).run()
    }
}
