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

    /// Runs on threads of its own: waiting for a child must not hold a thread of the
    /// Swift concurrency pool (two on the CI machine), nor of Dispatch's global queue,
    /// which grows only slowly while other tests keep its threads blocked.
    static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:], input: [UInt8] = [],
                    removing removedVariables: Set<String> = ["WBKEYD_SOCKET"]) async throws -> ProgramRun {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    try runBlocking(path, arguments, environment: environment, input: input, removing: removedVariables)
                })
            }.start()
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
        let errorRead = DispatchSemaphore(value: 0)
        let collected = Mutex(Data())
        Thread {
            let data = stderr.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0 = data }
            errorRead.signal()
        }.start()
        // The child may exit without reading (a usage error); its closed pipe must not kill us.
        signal(SIGPIPE, SIG_IGN)
        if !input.isEmpty { try? stdin.fileHandleForWriting.write(contentsOf: input) }
        try? stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        errorRead.wait()
        process.waitUntilExit()
        let err = collected.withLock { $0 }
        return ProgramRun(
            status: process.terminationStatus, standardOutput: String(decoding: out, as: UTF8.self),
            standardError: String(decoding: err, as: UTF8.self))
    }
}
