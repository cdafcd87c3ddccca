import Foundation
import WBKeydHarness

/// Another process holding the store's write lock: the `sqlite3` CLI inside
/// `BEGIN EXCLUSIVE`, as an operator's stray shell would. wbkeyd's writes then wait out
/// their busy timeout and fail for real, with no fault injected into wbkeyd.
final class StoreWriteLock: Sendable {
    private let process: Process
    private let input: FileHandle

    private init(process: Process, input: FileHandle) {
        self.process = process
        self.input = input
    }

    /// Returns once sqlite3 holds the lock (it printed the marker after BEGIN EXCLUSIVE).
    static func take(on store: String) async throws -> StoreWriteLock {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CommandRunner.onPath("sqlite3"))
        process.arguments = ["-batch", store]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        let lock = StoreWriteLock(process: process, input: stdin.fileHandleForWriting)
        lock.send(".timeout 30000\nBEGIN EXCLUSIVE;\nSELECT 'write lock held';\n")
        let reader = stdout.fileHandleForReading
        let answer = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            // A blocking read: on its own thread, never on the concurrency pool.
            Thread.detachNewThread {
                var seen = ""
                while !seen.contains("write lock held") {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    seen += String(decoding: chunk, as: UTF8.self)
                }
                continuation.resume(returning: seen)
            }
        }
        guard answer.contains("write lock held") else {
            await lock.release()
            throw StoreWriteLockError(answer: answer)
        }
        return lock
    }

    private func send(_ text: String) {
        try? input.write(contentsOf: Data(text.utf8))
    }

    /// Rolls back and ends sqlite3; returns once it has exited, so the lock is free.
    func release() async {
        send("ROLLBACK;\n.quit\n")
        try? input.close()
        let process = self.process
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }
}

struct StoreWriteLockError: Error, CustomStringConvertible {
    let answer: String
    var description: String { "sqlite3 did not take the write lock: \(answer)" }
}
