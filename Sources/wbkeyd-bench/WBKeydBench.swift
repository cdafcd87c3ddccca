import ArgumentParser
import BuildInfo

/// Benchmarks of the real binaries (whitebit-sim and wbkeyd, started through
/// WBKeydHarness), built in release mode: `swift build -c release` builds every binary
/// the harness starts, then `swift run -c release wbkeyd-bench <benchmark>`. Not part
/// of the test suite.
@main
struct WBKeydBench: AsyncParsableCommand {
    /// One entry per benchmark, each in a file of its own.
    static let benchmarks: [any ParsableCommand.Type] = [
        StatusLatency.self,
        Throughput.self,
        StartupScale.self,
        SignLatency.self,
        BalanceLatency.self,
        ProbeScale.self,
        StoreCommits.self,
        InstanceScale.self,
    ]

    static let configuration = CommandConfiguration(
        commandName: "wbkeyd-bench",
        abstract: "Benchmarks wbkeyd against whitebit-sim on this machine.",
        discussion: """
            Build everything in release mode first (`swift build -c release`): the harness \
            starts the wbkeyd and whitebit-sim built beside this executable.
            """,
        version: BuildInfo.versionLine("wbkeyd-bench"),
        subcommands: benchmarks)
}
