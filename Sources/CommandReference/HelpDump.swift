import Foundation
import Synchronization

public enum HelpDumpError: Error, CustomStringConvertible {
    case notExecutable(path: String, hint: String)
    case failed(path: String, status: Int32, standardError: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notExecutable(let path, let hint): "\(path) is not an executable; \(hint)"
        case .failed(let path, let status, let standardError):
            "\(path) --experimental-dump-help exited \(status): \(standardError.prefix(500))"
        case .unreadable(let path, let reason): "\(path) --experimental-dump-help printed no usable JSON: \(reason)"
        }
    }
}

/// Runs a built program with `--experimental-dump-help` and decodes what it prints.
public enum HelpDump {
    /// `directory/NAME` for every documented program.
    public static func load(programs: [Program] = Program.documented, from directory: String) throws(HelpDumpError) -> [DescribedProgram] {
        var described: [DescribedProgram] = []
        for program in programs {
            described.append(DescribedProgram(program: program, command: try load(executable: "\(directory)/\(program.name)")))
        }
        return described
    }

    /// Blocks until the program has answered: call it from a thread of its own in async code.
    public static func load(executable path: String) throws(HelpDumpError) -> CommandInfo {
        guard access(path, X_OK) == 0 else {
            throw .notExecutable(path: path, hint: "run `swift build` first")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--experimental-dump-help"]
        process.standardInput = FileHandle.nullDevice
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw .notExecutable(path: path, hint: "\(error)")
        }
        // Both pipes drain at once, so a child that fills one cannot stall.
        let drained = DispatchSemaphore(value: 0)
        let collected = Mutex(Data())
        Thread {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0 = data }
            drained.signal()
        }.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        let errorData = collected.withLock { $0 }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw .failed(path: path, status: process.terminationStatus, standardError: String(decoding: errorData, as: UTF8.self))
        }
        do {
            return try CommandInfo.decodeDump(data)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
    }

    /// The same, on a thread of its own, so no Swift-concurrency thread waits for a child.
    public static func loadOffPool(programs: [Program] = Program.documented, from directory: String) async throws -> [DescribedProgram] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { () throws(HelpDumpError) in try load(programs: programs, from: directory) })
            }.start()
        }
    }
}
