import ArgumentParser
import Foundation
import GRDB
import GrantLifecycle
import Store
import WBKeydHarness

/// Start-up at scale (issue 3): a store with 100,000 grants and 1,000,000 audit rows;
/// time from exec to READY=1 and the daemon's resident memory, beside the idle
/// memory of a daemon with an empty store.
struct StartupScale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup-scale",
        abstract: "Time to READY and RSS with a large store, and idle RSS with an empty one.")

    @Option(help: "Grants in the store.")
    var grants = 100_000

    @Option(help: "Audit rows in the store.")
    var auditRows = 1_000_000

    func run() async throws {
        print("machine: \(Machine.current)")
        let idle = try await DaemonFixture.start(DaemonFixture.Options(simArguments: ["--log-level", "error"]))
        try await Task.sleep(for: .seconds(3))
        let idlePid = (try idle.process).pid
        let idleRSS = Self.residentKilobytes(of: idlePid)
        let idleAnonymous = Self.residentKilobytes(of: idlePid, field: "RssAnon:")
        let idleFile = Self.residentKilobytes(of: idlePid, field: "RssFile:")
        await idle.stop()
        print("idle RSS, empty store: \(idleRSS / 1024) MiB (\(idleRSS) KiB): anonymous \(idleAnonymous) KiB, file-backed \(idleFile) KiB")

        let fixture = try await DaemonFixture.prepare(DaemonFixture.Options(simArguments: ["--log-level", "error"]))
        let generation = ContinuousClock.now
        try fill(store: fixture.paths.store, masterKey: Data(fixture.masterKey))
        let size = (try? FileManager.default.attributesOfItem(atPath: fixture.paths.store)[.size] as? Int) ?? 0
        print("store: \(grants) grants, \(auditRows) audit rows, \(size / 1_048_576) MiB, made in \(Int(generation.duration(to: .now).seconds)) s")
        let start = ContinuousClock.now
        try await fixture.start()
        let ready = start.duration(to: .now)
        let readyRSS = Self.residentKilobytes(of: (try fixture.process).pid)
        let statusStart = ContinuousClock.now
        _ = try await fixture.control("status")
        let status = statusStart.duration(to: .now)
        try await Task.sleep(for: .seconds(5))
        let settledRSS = Self.residentKilobytes(of: (try fixture.process).pid)
        await fixture.stop()
        print(String(format: "exec to READY=1: %.3f s", ready.seconds))
        print("RSS at READY: \(readyRSS / 1024) MiB; 5 s later: \(settledRSS / 1024) MiB")
        print(String(format: "first `status` over the socket: %.1f ms", status.seconds * 1000))
    }

    /// Grants in a spread of states (a tenth with a deadline an hour away, so start-up
    /// rebuilds a real heap and nothing fires during the measurement), and a real
    /// hash-chained audit log.
    func fill(store path: String, masterKey: Data) throws {
        let store = try StoreDatabase.open(path: path)
        // Keyed with the daemon's master key, as the daemon itself would.
        let keyring = try StoreKeyring.unlock(masterKey: masterKey, store: store)
        let states: [GrantState] = [.active, .dormant, .revoked, .noKey, .gone, .lost, .failed, .disabled]
        let now = Date()
        let batch = 10_000
        for first in stride(from: 0, to: grants, by: batch) {
            try store.pool.write { db in
                for index in first..<min(first + batch, grants) {
                    var grant = Grant(user: "user-\(index)", state: states[index % states.count], now: now)
                    grant.externalID = UUID().uuidString.lowercased()
                    if index % 10 == 0 {
                        grant.state = .active
                        grant.tokenExpiresAt = now.addingTimeInterval(3 * 3600)
                        grant.stepAt = now.addingTimeInterval(3600 + Double(index % 600))
                    }
                    try GrantRecords.save(grant, in: db)
                }
            }
        }
        let audit = AuditLog(chainKey: keyring.chainKey)
        for first in stride(from: 0, to: auditRows, by: batch) {
            try store.pool.write { db in
                for index in first..<min(first + batch, auditRows) {
                    _ = try audit.append(
                        AuditEntry(
                            index % 2 == 0 ? .keyDetected : .secretSecured, user: "user-\(index % max(grants, 1))",
                            externalID: UUID().uuidString.lowercased(), detail: ["n": .int(index)]),
                        in: db)
                }
            }
        }
        _ = try store.checkpoint()
        try store.close()
    }

    /// A resident-memory field of a process (VmRSS; RssAnon: its own memory; RssFile:
    /// clean pages of the mapped binary, shared and reclaimable), in KiB, from /proc.
    static func residentKilobytes(of pid: pid_t, field: String = "VmRSS:") -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix(field) }
            .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
    }
}
