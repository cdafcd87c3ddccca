import ArgumentParser
import Foundation
import GrantLifecycle
import Logging
import PostgresHarness
import PostgresStore
import Sensitive
import Store

/// Commit latency and commits per second of the store, SQLite against PostgreSQL, on the
/// same machine in the same run (issue 14). Both durable: SQLite with synchronous=FULL, a
/// PostgreSQL server started here with fsync on and synchronous_commit on, over loopback
/// TCP with a password, as a deployment on one host would reach it.
struct StoreCommits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-commits",
        abstract: "Commit latency (one writer) and commits/s (many writers, group commit) on SQLite and PostgreSQL.")

    @Option(help: "Writes by the one writer, for the latency figures.")
    var sequential = 2_000

    @Option(help: "Concurrent writers, for the throughput figures.")
    var writers = 64

    @Option(help: "Writes per concurrent writer.")
    var perWriter = 100

    func run() async throws {
        print("machine: \(Machine.current)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wbkeyd-bench-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await PostgresServer.start(PostgresServerOptions(fsync: true))
        let database = try await server.createDatabase().name
        let masterKey = Data((0..<32).map { UInt8($0) })
        let backends: [(String, any StoreBackend)] = [
            ("sqlite", SQLiteBackend(try StoreDatabase.open(path: directory + "/bench.sqlite3"))),
            ("postgresql", try PostgresBackend.open(
                options: PostgresStoreOptions(
                    endpoint: .tcp(host: "127.0.0.1", port: server.port), user: PostgresServer.loginRole, database: database,
                    password: Sensitive(server.password), tls: .disable),
                logger: Logger(label: "bench"))),
        ]
        for (name, backend) in backends {
            let store = try GrantStore(backend: backend, keyring: try StoreKeyring.unlock(masterKey: masterKey, backend: backend))
            var samples: [Duration] = []
            samples.reserveCapacity(sequential)
            for index in 0..<sequential {
                let start = ContinuousClock.now
                _ = try await store.append(Self.entry(index))
                samples.append(start.duration(to: .now))
            }
            let before = store.counters
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for index in 0..<perWriter { _ = try await store.append(Self.entry(writer * perWriter + index)) }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = start.duration(to: .now)
            let after = store.counters
            let writes = after.writes - before.writes
            let transactions = after.transactions - before.transactions
            print("\(name): one writer, commit latency \(LatencySummary(samples)!)")
            print(String(
                format: "\(name): %d writers: %.0f writes/s, %.0f commits/s (%d writes in %d transactions)", writers,
                Double(writes) / elapsed.seconds, Double(transactions) / elapsed.seconds, writes, transactions))
            try store.close()
        }
        await server.remove()
    }

    /// A row like the daemon's own: one user, one key, a small detail.
    static func entry(_ index: Int) -> AuditEntry {
        AuditEntry(.requestSigned, user: "user-\(index % 1000)", externalID: "key-\(index % 1000)", detail: ["path": "/api/v4/main-account/balance"])
    }
}
