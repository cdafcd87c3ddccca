import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// docs/design.md's fail-closed rule, end to end: when a store or audit write fails, wbkeyd
/// makes no further call to WhiteBIT, says it is degraded (STATUS=, a critical log line)
/// and exits 1; what it was given stays where a restart finds it. The failure is real:
/// the `sqlite3` CLI holds the store's write lock past wbkeyd's busy timeout.
@Suite struct FailClosedTests {
    /// The write that fails is the intake's: nothing reached WhiteBIT, and the delivery
    /// is taken up by the next run once the lock is gone.
    @Test func aFailedIntakeWriteStopsTheDaemonAndTheNextRunTakesTheFileUp() async throws {
        try await withDaemon { daemon in
            let lock = try await StoreWriteLock.take(on: daemon.paths.store)
            let submitted = try await daemon.consentAndSubmit(user: "u-fc1", key: .now)
            let termination = try await ended(daemon.process, within: .seconds(60))
            await lock.release()
            #expect(termination.exitStatus == 1, "wbkeyd ended \(termination), not with exit status 1")
            try expectDegraded(daemon.process, saying: "store write failed")
            let sim = try await daemon.admin.state()
            #expect(sim.requests.values.reduce(0, +) == 0, "a call reached WhiteBIT after the failed write: \(sim.requests)")
            let waiting = daemon.paths.names(in: daemon.paths.spoolClaimed) + daemon.paths.names(in: daemon.paths.spoolNew)
            #expect(waiting == [submitted.file], "the delivery is not waiting in claimed/ or new/: \(waiting)")

            try await daemon.restart()
            try await daemon.awaitEvent("secret_secured", user: "u-fc1")
            #expect(try await daemon.grantState("u-fc1") == "active")
            daemon.expectSpoolDrained()
            let verified = try await daemon.auditVerify()
            #expect(verified.exitStatus == 0, "\(verified.standardError)")
        }
    }

    /// The write that fails is the commit of WhiteBIT's token answer (slowed so the lock
    /// is taken while it is on the wire): no `/info`, no secret retrieval follows.
    @Test func aFailedCommitOfACallsAnswerMakesNoFurtherCall() async throws {
        try await withDaemon { daemon in
            try await daemon.admin.addFault(SimFaultSpec(endpoint: .token, kind: .latency(milliseconds: 4000), count: 1, user: "u-fc2"))
            _ = try await daemon.consentAndSubmit(user: "u-fc2", key: .now)
            try await daemon.awaitEvent("authorization_received", user: "u-fc2")
            let lock = try await StoreWriteLock.take(on: daemon.paths.store)
            let termination = try await ended(daemon.process, within: .seconds(60))
            await lock.release()
            #expect(termination.exitStatus == 1, "wbkeyd ended \(termination), not with exit status 1")
            // The write that fails may be the answer's commit or, should it come first while
            // the lock is held, the instance's heartbeat: either way nothing follows.
            try expectDegraded(daemon.process, saying: "write failed")
            let sim = try await daemon.admin.state()
            #expect(sim.requests["token"] == 1)
            #expect((sim.requests["info"] ?? 0) + (sim.requests["secret"] ?? 0) + (sim.requests["delete"] ?? 0) == 0,
                "a call followed the answer that could not be committed: \(sim.requests)")
            #expect(sim.keys.allSatisfy { $0.secretFetches == 0 })
            // What was committed is all there is: the grant still waits for its exchange,
            // with no token (the one WhiteBIT issued was never stored).
            let row = try await daemon.grantRow("u-fc2")
            #expect(row?["state"] == "pending" && row?["has_token"] == "0", "the grant is \(row ?? [:])")
        }
    }

    private func expectDegraded(_ process: DaemonProcess, saying reason: String) throws {
        let status = process.notifications.first { $0.contains("STATUS=degraded: ") && $0.contains(reason) }
        #expect(status != nil, "no STATUS=degraded notification; got \(process.notifications)")
        #expect(status?.contains("ERRNO=") == true, "the degraded notification carries no ERRNO=")
        #expect(
            process.lines.contains { $0.text.contains("critical") && $0.text.contains("wbkeyd stops changing anything at WhiteBIT") },
            "no critical line saying wbkeyd stops acting")
    }

    /// The process's own end (it was not told to stop), within `limit`.
    private func ended(_ process: DaemonProcess, within limit: Duration) async throws -> ProcessTermination {
        #expect(try await eventually(within: limit) { !process.isRunning }, "wbkeyd kept running after its store write failed")
        return await process.termination
    }
}
