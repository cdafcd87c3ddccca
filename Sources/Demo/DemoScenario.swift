import Foundation
import WBKeydHarness
import WhiteBITSimHarness

/// The partner users the demo plays, each showing one path of docs/design.md §5, and the
/// state each must end in (the README's table says the same).
struct DemoUser: Sendable {
    let name: String
    let story: String
    let expected: String
}

enum DemoScenario {
    /// Token lifetime in the demo's simulator: short, so expiry is seen within a minute.
    static let tokenLifetimeSeconds = 45

    static let users = [
        DemoUser(name: "alice", story: "ordinary: the key appears at once", expected: "dormant"),
        DemoUser(name: "bob", story: "the key appears 10 s after consent", expected: "dormant"),
        DemoUser(name: "carol", story: "never creates a key", expected: "no_key"),
        DemoUser(name: "dave", story: "the secret's answer is lost on the wire (409 after)", expected: "lost"),
        DemoUser(name: "erin", story: "revoked by the partner through the spool", expected: "revoked"),
        DemoUser(name: "frank", story: "deletes his key at WhiteBIT once his token ended; a probe finds it", expected: "gone"),
    ]

    static let simArguments = ["--token-lifetime", "\(tokenLifetimeSeconds)s"]

    static let config: [String: TOMLValue] = [
        "keys.info_poll_interval": "1s",
        "keys.info_poll_budget": "20s",
        "keys.reconcile_interval": "10s",
        "keys.expiry_margin": "5s",
        // docs/design.md §12: each key verified once sealed; dormant keys probed every 5 s.
        "keys.verify_key": .bool(true),
        "keys.probe_interval": "5s",
    ].merging(DaemonFixture.selfAsAgent) { $1 }

    /// Plays every user's consent (and erin's revocation once she is active).
    static func play(on fixture: DaemonFixture) async throws {
        try await fixture.consentAndSubmit(user: "alice", key: .now)
        try await fixture.consentAndSubmit(user: "bob", key: .after(milliseconds: 10_000))
        try await fixture.consentAndSubmit(user: "carol", key: .never)
        try await fixture.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .lostSecret, count: 1, user: "dave"))
        try await fixture.consentAndSubmit(user: "dave", key: .now)
        try await fixture.consentAndSubmit(user: "erin", key: .now)
        try await fixture.consentAndSubmit(user: "frank", key: .now)
        _ = try await fixture.awaitState("active", user: "erin", deadline: .seconds(30))
        _ = try fixture.submitRevocation(user: "erin", reason: "user disconnected in the partner app")
        // Frank deletes his key in WhiteBIT's dashboard once no token watches it: only a
        // signed probe can find out. The demo's table shows it meanwhile.
        Task {
            guard (try? await fixture.awaitState("dormant", user: "frank", deadline: .seconds(120))) == "dormant" else { return }
            _ = try? await fixture.admin.deleteKey(user: "frank")
        }
    }

    /// True once every user is in the state the demo promises.
    static func settled(_ states: [String: String]) -> Bool {
        users.allSatisfy { states[$0.name] == $0.expected }
    }
}
