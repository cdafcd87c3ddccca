import Foundation
import Synchronization

/// One run of a real executable, with its exit status and everything it printed.
struct ProgramRun: Sendable {
    let status: Int32
    let standardOutput: String
    let standardError: String

    /// Both streams: for "never printed a secret" checks.
    var everything: String { standardOutput + standardError }

    /// The wbkeyctl built beside the test bundle (`.build/debug/`).
    static var wbkeyctlPath: String {
        let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("wbkeyctl").path
    }

    static func wbkeyctl(_ arguments: [String], environment: [String: String] = [:], input: [UInt8] = []) async throws -> ProgramRun {
        try await run(wbkeyctlPath, arguments, environment: environment, input: input)
    }

    /// Runs on Dispatch threads: waiting for a child must not hold a thread of the
    /// Swift concurrency pool (two threads on the CI machine).
    static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:], input: [UInt8] = [],
                    removing removedVariables: Set<String> = ["WBKEYD_SOCKET"]) async throws -> ProgramRun {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    try runBlocking(path, arguments, environment: environment, input: input, removing: removedVariables)
                })
            }
        }
    }

    private static func runBlocking(_ path: String, _ arguments: [String], environment: [String: String], input: [UInt8],
                                    removing removedVariables: Set<String>) throws -> ProgramRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment.filter { !removedVariables.contains($0.key) }
        variables.merge(environment) { $1 }
        process.environment = variables
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Both pipes are drained at once, so a child that fills one cannot stall.
        let readers = DispatchGroup()
        let collected = Mutex((out: Data(), err: Data()))
        DispatchQueue.global().async(group: readers) {
            let data = stdout.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0.out = data }
        }
        DispatchQueue.global().async(group: readers) {
            let data = stderr.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0.err = data }
        }
        // The child may exit without reading (a usage error); its closed pipe must not kill us.
        signal(SIGPIPE, SIG_IGN)
        if !input.isEmpty { try? stdin.fileHandleForWriting.write(contentsOf: input) }
        try? stdin.fileHandleForWriting.close()
        readers.wait()
        process.waitUntilExit()
        let (out, err) = collected.withLock { ($0.out, $0.err) }
        return ProgramRun(
            status: process.terminationStatus, standardOutput: String(decoding: out, as: UTF8.self),
            standardError: String(decoding: err, as: UTF8.self))
    }
}
