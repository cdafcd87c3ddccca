import Foundation
import Sensitive
import Testing
import WhiteBITSimHarness

@Suite struct SimProcessTests {
    @Test func announcesItsPortAndStopsCleanlyOnSIGTERM() async throws {
        let sim = try await SimProcess.start()
        #expect(sim.port > 0)
        #expect(sim.baseURL == "http://127.0.0.1:\(sim.port)")
        #expect(try await sim.admin.state().clients.map(\.clientID) == ["wbkeyd-demo"])
        let termination = await sim.stop()
        #expect(termination.isCleanExit, "\(termination)")
        #expect(await sim.stop() == termination)
    }

    @Test func stopsCleanlyOnSIGINT() async throws {
        let sim = try await SimProcess.start()
        kill(sim.pid, SIGINT)
        let termination = await sim.termination
        #expect(termination.isCleanExit, "\(termination)")
    }

    @Test func stopsCleanlyWhileAnAnswerIsHeldBack() async throws {
        let sim = try await SimProcess.start()
        let partner = Partner(sim: sim)
        let token = try await partner.accessToken(user: "u-1")
        let externalID = try await partner.externalID(token)
        try await sim.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .latency(milliseconds: 600_000)))
        let held = Task { try await partner.secret(token, externalID) }
        try await sim.untilRetrievalInFlight(externalID)
        let termination = await sim.stop()
        #expect(termination.isCleanExit, "\(termination)")
        // The held answer went out (cut short) or the connection closed with the process.
        _ = try? await held.value
    }

    @Test func twoSimulatorsGetDifferentPorts() async throws {
        let first = try await SimProcess.start()
        let second = try await SimProcess.start()
        #expect(first.port != second.port)
        await first.stop()
        await second.stop()
    }

    @Test func flagsSetTheStartUpState() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("whitebit-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secretFile = directory.appendingPathComponent("client-secret")
        try Data("s3cret-from-file\n".utf8).write(to: secretFile)

        let arguments = [
            "--client-id", "acme", "--client-secret-file", secretFile.path,
            "--redirect-uri", "https://acme.example/a", "--redirect-uri", "https://acme.example/b",
            "--token-lifetime", "90s", "--code-lifetime", "30s", "--key-delay", "1500ms", "--seed", "7",
        ]
        try await SimProcess.withRunning(arguments: arguments) { sim in
            let client = try #require(try await sim.admin.state().clients.first)
            #expect(client.clientID == "acme")
            #expect(client.clientSecret == "s3cret-from-file")
            #expect(client.redirectURIs == ["https://acme.example/a", "https://acme.example/b"])
            #expect(try await sim.admin.state().settings.tokenLifetimeMilliseconds == 90_000)
            let settings = try await sim.admin.settings()
            #expect(settings.tokenLifetimeMilliseconds == 90_000)
            #expect(settings.codeLifetimeMilliseconds == 30_000)
            #expect(settings.keyDelayMilliseconds == 1_500)

            var partner = Partner(sim: sim)
            partner.clientID = "acme"
            partner.clientSecret = "s3cret-from-file"
            let token = try await partner.token(try await sim.admin.authorize(user: "u-1", redirectURI: "https://acme.example/b"))
            #expect(token.data?["expires_in"] as? Int == 90)
        }
        // The same seed gives the same codes in another process.
        let firstCode = try await SimProcess.withRunning(arguments: ["--seed", "7"]) { sim in
            try await sim.admin.consent(user: "u-1", codeChallenge: nil).code.revealed
        }
        let secondCode = try await SimProcess.withRunning(arguments: ["--seed", "7"]) { sim in
            try await sim.admin.consent(user: "u-1", codeChallenge: nil).code.revealed
        }
        let sameCode = firstCode == secondCode
        #expect(sameCode)
    }

    @Test func refusesANonLoopbackHost() async throws {
        await #expect(throws: SimProcessError.self) { try await SimProcess.start(arguments: ["--host", "0.0.0.0"]) }
    }

    @Test func stdinClosingEndsTheSimulator() async throws {
        // What happens when the parent dies: the stdin pipe closes and the simulator exits.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try SimProcess.executablePath())
        process.arguments = ["--port", "0", "--exit-on-stdin-eof"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        try process.run()
        var status: Int32?
        for await value in exited.stream { status = value }
        #expect(status == 0)
        #expect(process.terminationReason == .exit)
    }
}

@Suite struct AdminAPITests {
    @Test func switchesChangeWhatTheTokenEndpointSends() async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let all = try await sim.admin.updateSettings(
                SimAdminSettings(refreshToken: "null", expiresIn: "string", tokenWrapper: "bare"))
            #expect(all.refreshToken == "null")
            #expect(all.tokenError == "401")
            let answer = try await partner.token(try await sim.admin.authorize(user: "u-1"))
            #expect(answer.status == 200)
            #expect(answer.json?["data"] == nil)
            #expect(answer.json?["expires_in"] as? String == "14400")
            #expect(answer.json?["refresh_token"] is NSNull)

            try await sim.admin.updateSettings(SimAdminSettings(tokenError: "422"))
            let reused = try await partner.send(
                .POST, "/oauth2/token",
                form: ["client_id": "wbkeyd-demo", "client_secret": "demo-client-secret", "code": "nope", "code_verifier": String(repeating: "a", count: 43)])
            #expect(reused.status == 422)
            #expect((reused.json?["errors"] as? [String: [String]]) == ["code": ["validation.invalid"]])

            await #expect(throws: SimAdminError.self) { try await sim.admin.updateSettings(SimAdminSettings(grantType: "sometimes")) }
            try await sim.admin.reset()
            #expect(try await sim.admin.settings() == SimAdminSettings(
                refreshToken: "absent", expiresIn: "number", tokenWrapper: "data", grantType: "ignored",
                tokenRedirectURI: "ignored", tokenError: "401", deleteDisabled: "403",
                tokenLifetimeMilliseconds: 14_400_000, codeLifetimeMilliseconds: 600_000, keyDelayMilliseconds: 0,
                keyInactivityMilliseconds: 14 * 86_400_000, apiKeyHeader: "external_id", deletedKey: "401",
                accountsBody: "plain", grantedScopes: nil,
                rateLimit: SimRateLimit(
                    enabled: true, windowMilliseconds: 10_000, defaultLimit: 10_000, publicLimit: 20_000, mainAccount: 1_000,
                    mainAccountHistory: 200, tradeAccount: 12_000)))
        }
    }

    @Test func userActionsOverHTTP() async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let token = try await partner.accessToken(user: "u-1")
            let externalID = try await partner.externalID(token)

            #expect(try await sim.admin.disableKey(user: "u-1") == externalID)
            let disabled = try await partner.info(token)
            #expect(disabled.data?["exists"] as? Bool == true)
            #expect(disabled.data?["isEnabled"] as? Bool == false)
            #expect(try await partner.delete(token, externalID).status == 403)
            #expect(try await sim.admin.consent(user: "u-1", codeChallenge: nil).key == "partner_key_expired_exists")

            #expect(try await sim.admin.deleteKey(user: "u-1") == externalID)
            #expect(try await partner.info(token).data?["exists"] as? Bool == false)
            await #expect(throws: SimAdminError.self) { try await sim.admin.deleteKey(user: "u-1") }

            _ = try await sim.admin.consent(user: "u-1", codeChallenge: nil)
            #expect(try await sim.admin.changePassword(user: "u-1") == 1)
            #expect(try await sim.admin.expireTokens(user: "u-1") == 1)
            #expect(try await partner.info(token).status == 401)
        }
    }

    @Test func registeredClientsAndTheirKeys() async throws {
        try await SimProcess.withRunning { sim in
            try await sim.admin.registerClient(
                id: "other", secret: Sensitive("other-secret"), redirectURIs: ["https://other.example/cb"])
            var other = Partner(sim: sim)
            other.clientID = "other"
            other.clientSecret = "other-secret"
            let ours = try await Partner(sim: sim).accessToken(user: "u-1")
            let theirsAuthorization = try await sim.admin.authorize(user: "u-1", clientID: "other")
            let theirs = try #require(try await other.token(theirsAuthorization).data?["access_token"] as? String)
            let theirKey = try await other.externalID(theirs)
            #expect(try await Partner(sim: sim).secret(ours, theirKey).status == 403)
            #expect(try await Partner(sim: sim).delete(ours, theirKey).status == 403)
            #expect(try await other.secret(theirs, theirKey).status == 200)
        }
    }

    @Test func delayedKeyShowsUpLater() async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let token = try await partner.accessToken(user: "u-1", key: .after(milliseconds: 3_600_000))
            #expect(try await partner.info(token).data?["exists"] as? Bool == false)
            #expect(try await sim.admin.state().keys.first?.visible == false)
            let never = try await partner.accessToken(user: "u-2", key: .never)
            #expect(try await partner.info(never).data?["exists"] as? Bool == false)
            #expect(try await sim.admin.state().keys.count == 1)
        }
    }

    @Test func badAdminRequestsAre400WithAnError() async throws {
        try await SimProcess.withRunning { sim in
            await #expect(throws: SimAdminError.self) {
                try await sim.admin.consent(user: "u-1", codeChallenge: "too-short")
            }
            await #expect(throws: SimAdminError.self) { try await sim.admin.disableKey(user: "u-nobody") }
            do {
                try await sim.admin.addFault(SimFaultSpec(endpoint: .info, kind: .status(200)))
                Issue.record("a 200 status fault was accepted")
            } catch SimAdminError.refused(_, let status, let message) {
                #expect(status == 400)
                #expect(message.contains("between 400 and 599"))
            }
        }
    }
}
