import GrantLifecycle
import Foundation
import GRDB
import Store
import Synchronization
import Testing

/// A fresh directory per test, removed when the test's value goes away.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/wbkeyd-store-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A clock the test moves by hand, so audit timestamps (and pruning cutoffs) are exact.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_740_000_000)) {
        current = Mutex(start)
    }

    var now: Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

struct ProcessResult {
    let status: Int32
    let output: String
    let errors: String
}

/// Runs a real program as a separate process and collects what it printed.
func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let output = Pipe()
    let errors = Pipe()
    let stdin = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    // Drain stderr on another thread while reading stdout here, so a chatty child cannot
    // block on a full pipe.
    let errorData = CollectedData()
    let drained = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        errorData.set(errors.fileHandleForReading.readDataToEndOfFile())
        drained.signal()
    }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    drained.wait()
    return ProcessResult(
        status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
        errors: String(decoding: errorData.get(), as: UTF8.self))
}

final class CollectedData: Sendable {
    private let data = Mutex(Data())
    func set(_ value: Data) { data.withLock { $0 = value } }
    func get() -> Data { data.withLock { $0 } }
}

/// The `sqlite3` shell, as an operator or an attacker would use it on the store file.
func sqliteShell(_ path: String, _ sql: String) throws -> ProcessResult {
    try run("sqlite3", ["-bail", path], input: sql)
}

func fileMode(_ path: String) -> mode_t? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return info.st_mode & 0o7777
}

/// The master key of the stores these tests make.
let testMasterKey = Data((0..<32).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) })

/// `AuditVerifier.verify` with the tests' master key.
func verifyChain(_ path: String, expecting: AuditHead? = nil) throws -> AuditVerification {
    try AuditVerifier.verify(storePath: path, masterKey: testMasterKey, expecting: expecting)
}

/// The log of a store keyed with `testMasterKey`.
func keyedLog(_ store: StoreDatabase, clock: TestClock = TestClock()) throws -> AuditLog {
    AuditLog(chainKey: try StoreKeyring.unlock(masterKey: testMasterKey, store: store).chainKey, clock: { clock.now })
}

/// Opens a fresh store in `directory`, keys it and appends `count` rows, one transaction each.
func storeWithRows(
    _ count: Int, in directory: TemporaryDirectory, clock: TestClock = TestClock(), step: TimeInterval = 1
) throws -> (StoreDatabase, AuditLog) {
    let store = try StoreDatabase.open(path: directory.file("wbkeyd.sqlite3"))
    let log = try keyedLog(store, clock: clock)
    for index in 1...max(count, 1) where count > 0 {
        _ = try store.pool.write { db in
            try log.append(sampleEntry(index), in: db)
        }
        clock.advance(by: step)
    }
    return (store, log)
}

func sampleEntry(_ index: Int) -> AuditEntry {
    let events: [AuditEvent] = [.authorizationReceived, .tokenExchanged, .keyDetected, .secretSecured, .secretRead]
    return AuditEntry(
        events[index % events.count],
        user: index % 4 == 0 ? nil : "user-\(index % 3)",
        externalID: index % 2 == 0 ? "key-\(index)" : nil,
        actor: index % 5 == 0 ? .uid(1000) : .wbkeyd,
        detail: ["n": .int(index), "note": "row \(index)", "nested": ["ok": true, "gone": nil]])
}
