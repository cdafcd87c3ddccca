import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// At most this many fixtures (a wbkeyd and a whitebit-sim each) run at once: the tests
/// of the whole package share two cores, and a latency fault of a few seconds must stay
/// long compared with a control-socket round trip.
actor FixtureGate {
    static let shared = FixtureGate(slots: 6)

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(slots: Int) { free = slots }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// A fixture that is started, handed to `body` and stopped, inside a gate slot.
func withDaemon<Result: Sendable>(
    _ options: DaemonFixture.Options = DaemonFixture.Options(), isolation: isolated (any Actor)? = #isolation,
    _ body: (DaemonFixture) async throws -> Result
) async throws -> Result {
    await FixtureGate.shared.acquire()
    do {
        let result = try await DaemonFixture.withDaemon(options, body)
        await FixtureGate.shared.release()
        return result
    } catch {
        await FixtureGate.shared.release()
        throw error
    }
}

/// The same for a fixture prepared but not started (start-up tests).
func withPreparedDaemon<Result: Sendable>(
    _ options: DaemonFixture.Options = DaemonFixture.Options(), isolation: isolated (any Actor)? = #isolation,
    _ body: (DaemonFixture) async throws -> Result
) async throws -> Result {
    await FixtureGate.shared.acquire()
    let fixture: DaemonFixture
    do {
        fixture = try await DaemonFixture.prepare(options)
    } catch {
        await FixtureGate.shared.release()
        throw error
    }
    do {
        let result = try await body(fixture)
        await fixture.stop()
        await FixtureGate.shared.release()
        return result
    } catch {
        await fixture.stop()
        await FixtureGate.shared.release()
        throw error
    }
}

/// Polls `condition` until it holds or `deadline` passes, for facts that no log line
/// announces (a file landing in a directory, the simulator's state). Answers whether it
/// held.
func eventually(
    within deadline: Duration = .seconds(30), isolation: isolated (any Actor)? = #isolation, _ condition: () async throws -> Bool
) async throws -> Bool {
    let end = ContinuousClock.now.advanced(by: deadline)
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= end { return false }
        try await Task.sleep(for: .milliseconds(100))
    }
}

extension DaemonFixture {
    /// A user who consents, and whose key's secret wbkeyd secures: the grant is active.
    @discardableResult
    func activeGrant(_ user: String) async throws -> (consent: SubmittedAuthorization, externalID: String) {
        let mark = logMark
        let consent = try await consentAndSubmit(user: user, key: .now)
        let secured = try await awaitEvent("secret_secured", user: user, since: mark)
        return (consent, secured.value("external_id") ?? "")
    }

    /// The key the simulator holds for `user` under this id.
    func simKey(_ externalID: String) async throws -> SimState.Key? {
        try await admin.state().key(externalID)
    }

    /// The audit rows of `user` with `event`.
    func auditRows(_ event: String, user: String) async throws -> [AuditRecord] {
        try await auditRows(user: user).filter { $0.event == event }
    }

    /// docs/design.md §5 in one check: every key whose secret left WhiteBIT is either deleted
    /// or held sealed in the store under its own id; no retrieval is still in flight.
    func expectNoKeyWithoutSecretOrDeletion(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let state = try await admin.state()
        for key in state.keys where key.clientID == SimDefaults.clientID {
            #expect(!key.retrievalInFlight, "\(key.externalID) of \(key.user): a retrieval is in flight", sourceLocation: sourceLocation)
            guard key.secretRetrieved, !key.deleted else { continue }
            let row = try await grantRow(key.user)
            #expect(
                row?["secret_external_id"] == key.externalID && row?["has_secret"] == "1",
                "\(key.externalID) of \(key.user): secret retrieved, key not deleted, and the store does not hold it (\(row ?? [:]))",
                sourceLocation: sourceLocation)
        }
    }

    /// Nothing waits in `new/` or `claimed/`.
    func expectSpoolDrained(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(paths.names(in: paths.spoolNew).isEmpty, "new/ holds \(paths.names(in: paths.spoolNew))", sourceLocation: sourceLocation)
        #expect(
            paths.names(in: paths.spoolClaimed).isEmpty, "claimed/ holds \(paths.names(in: paths.spoolClaimed))",
            sourceLocation: sourceLocation)
    }
}

/// Compares two secrets without printing either when they differ.
func same(_ a: String?, _ b: String?) -> Bool { a != nil && a == b }
