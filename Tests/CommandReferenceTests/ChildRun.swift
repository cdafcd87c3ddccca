import Foundation
import Synchronization

/// One run of a tool (groff, man), on a thread of its own: waiting for a child must not
/// hold a thread of the Swift concurrency pool.
struct ChildRun: Sendable {
    let status: Int32
    let standardOutput: String
    let standardError: String

    static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> ChildRun {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runBlocking(path, arguments, environment: environment) })
            }.start()
        }
    }

    private static func runBlocking(_ path: String, _ arguments: [String], environment: [String: String]) throws -> ChildRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdout = Pipe(), stderr = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let errorRead = DispatchSemaphore(value: 0)
        let collected = Mutex(Data())
        Thread {
            let data = stderr.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0 = data }
            errorRead.signal()
        }.start()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        errorRead.wait()
        process.waitUntilExit()
        return ChildRun(
            status: process.terminationStatus, standardOutput: String(decoding: out, as: UTF8.self),
            standardError: String(decoding: collected.withLock { $0 }, as: UTF8.self))
    }
}
