import Foundation
import PKCE
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// docs/design.md §5 "Nothing secret leaves in clear": after a scenario with an active, a lost,
/// a revoked and a failed grant, no token, code, verifier, API secret, client secret or
/// master key appears in the SQLite file, its WAL, anything wbkeyd printed, or any control
/// answer but `secret`'s. The raw bytes are searched, in clear and in base64.
@Suite struct SecretLeakTests {
    @Test func noSecretAppearsInTheStoreTheLogOrTheControlAnswers() async throws {
        try await withDaemon { daemon in
            let scenario = try await LeakScenario.run(daemon)
            // While wbkeyd runs, the WAL holds the latest pages.
            let walWhileRunning = try bytes(daemon.paths.storeWAL)
            #expect(!walWhileRunning.isEmpty, "the store runs in WAL mode")
            let storeWhileRunning = try bytes(daemon.paths.store)
            #expect(try await daemon.terminate().isCleanExit)

            let secrets = try await scenario.secrets(daemon)
            let places: [(String, [UInt8])] = [
                ("the store while running", storeWhileRunning), ("the WAL while running", walWhileRunning),
                ("the store after stop", try bytes(daemon.paths.store)),
                ("the WAL after stop", (try? bytes(daemon.paths.storeWAL)) ?? []),
            ] + scenario.places(daemon)
            LeakScenario.expectAbsent(secrets, masterKey: daemon.masterKey, from: places)
        }
    }

    private func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// The leak tests' scenario (an active, a lost, a revoked and a failed grant, then every
/// read-only and admin answer), and the search of its secrets, shared by both backends.
struct LeakScenario {
    var answers: [String]
    var secretAnswer: String
    var verifiers: [String]

    static func run(_ daemon: DaemonFixture) async throws -> LeakScenario {
        var verifiers: [String] = []
        let active = try await daemon.activeGrant("u-active")
        verifiers.append(active.consent.authorization.verifier.revealed)

        try await daemon.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .lostSecret, user: "u-lost"))
        verifiers.append(try await daemon.consentAndSubmit(user: "u-lost", key: .now).authorization.verifier.revealed)
        try await daemon.awaitEvent("key_revoked", user: "u-lost")

        let revoked = try await daemon.activeGrant("u-revoked")
        verifiers.append(revoked.consent.authorization.verifier.revealed)
        let revokeAnswer = try await daemon.control("revoke u-revoked done")

        let refused = try await daemon.admin.authorize(user: "u-failed", key: .never)
        let wrongVerifier = PKCEPair.generate().verifier
        try daemon.submitAuthorization(user: "u-failed", code: refused.code, verifier: wrongVerifier)
        verifiers += [refused.verifier.revealed, wrongVerifier.revealed]
        try await daemon.awaitEvent("token_exchange_failed", user: "u-failed")

        var answers = [revokeAnswer]
        for command in [
            "help", "status", "status json", "grants", "grants json", "audit 1000", "audit 1000 json", "metrics",
            "reconcile u-active", "reconcile u-active dry-run json", "reconcile", "authorize-url u-new",
        ] {
            answers.append(try await daemon.control(command))
        }
        for user in ["u-active", "u-lost", "u-revoked", "u-failed"] {
            answers.append(try await daemon.control("show \(user)"))
            answers.append(try await daemon.control("show \(user) json"))
        }
        answers.append(try await daemon.control("secret u-nobody"))
        let secretAnswer = try await daemon.control("secret u-active json")
        return LeakScenario(answers: answers, secretAnswer: secretAnswer, verifiers: verifiers)
    }

    /// Every secret the simulator handed out or the scenario made, checked to be the ones
    /// the scenario meant; and the positive control: `secret` does answer the API secret.
    func secrets(_ daemon: DaemonFixture) async throws -> [(what: String, value: String)] {
        let state = try await daemon.admin.state()
        var secrets: [(what: String, value: String)] = []
        secrets += state.tokens.map { ("access token of \($0.user)", $0.accessToken) }
        secrets += state.codes.map { ("code of \($0.user)", $0.code) }
        secrets += state.keys.map { ("API secret of \($0.user)", $0.apiSecret) }
        secrets += verifiers.map { ("a code verifier", $0) }
        secrets.append(("the client secret", SimDefaults.clientSecret.revealed))
        #expect(state.tokens.count == 3 && state.codes.count == 4 && state.keys.filter { $0.user != "u-failed" }.count == 3, "the scenario ran as planned")
        let activeSecret = try #require(state.keys.first { $0.user == "u-active" }?.apiSecret)
        #expect(Array(secretAnswer.utf8).firstRange(of: Array(activeSecret.utf8)) != nil, "`secret` answers the API secret")
        return secrets
    }

    /// What wbkeyd printed and every answer but `secret`'s.
    func places(_ daemon: DaemonFixture) -> [(String, [UInt8])] {
        [("wbkeyd's output", daemon.allOutput)] + answers.enumerated().map { ("control answer \($0.offset)", Array($0.element.utf8)) }
    }

    /// Each secret in clear and in base64, and the master key raw and in hex.
    static func forms(of secrets: [(what: String, value: String)], masterKey: [UInt8]) -> [(what: String, bytes: [UInt8])] {
        var forms = secrets.flatMap { secret in
            [(secret.what, Array(secret.value.utf8)), (secret.what + " (base64)", Array(Data(secret.value.utf8).base64EncodedString().utf8))]
        }
        forms.append(("the master key", masterKey))
        forms.append(("the master key (hex)", Array(masterKey.map { String(format: "%02x", $0) }.joined().utf8)))
        return forms
    }

    static func expectAbsent(_ secrets: [(what: String, value: String)], masterKey: [UInt8], from places: [(String, [UInt8])]) {
        for (what, form) in forms(of: secrets, masterKey: masterKey) {
            for (place, haystack) in places {
                #expect(haystack.firstRange(of: form) == nil, "\(what) appears in \(place)")
            }
        }
    }
}
