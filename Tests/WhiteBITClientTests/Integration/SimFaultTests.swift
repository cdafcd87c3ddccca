import Sensitive
import Testing
import WhiteBITSimHarness
@testable import WhiteBITClient

/// The simulator's injected faults, and what the client makes of them.
@Suite struct SimFaultTests {
    @Test func latencyBeyondTheRequestTimeoutIsATimeout() async throws {
        try await SimScenario.run { s in
            let (token, _) = try await s.token(user: "u-slow")
            // Only the faulted call gets the short timeout, so a slow machine cannot fail the setup.
            let impatient = try s.makeClient { $0.requestTimeout = .milliseconds(300) }
            try await s.sim.admin.addFault(.init(endpoint: .info, kind: .latency(milliseconds: 5_000)))
            let error = await s.failure { try await impatient.apiKeyInfo(token: token.value) }
            #expect(error?.kind == .timeout)
            #expect(error?.isTransient == true)
            #expect(impatient.counters.responses[.info] == ["timeout": 1])
            #expect(try await s.client.apiKeyInfo(token: token.value).exists, "the fault was used up")
        }
    }

    @Test func latencyWithinTheRequestTimeoutIsServed() async throws {
        try await SimScenario.run(configuration: { $0.requestTimeout = .seconds(20) }) { s in
            let (token, _) = try await s.token(user: "u-latency")
            try await s.sim.admin.addFault(.init(endpoint: .info, kind: .latency(milliseconds: 200)))
            #expect(try await s.client.apiKeyInfo(token: token.value).exists)
        }
    }

    @Test(arguments: [500, 502, 503])
    func serverErrorsAreTransientOnEveryEndpoint(status: Int) async throws {
        try await SimScenario.run { s in
            let authorization = try await s.authorize(user: "u-5xx")
            try await s.sim.admin.addFault(.init(endpoint: .any, kind: .status(status), count: 4))
            let token = Sensitive("any-token-for-5xx")
            let errors = [
                await s.failure { try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier) },
                await s.failure { try await s.client.apiKeyInfo(token: token) },
                await s.failure { try await s.client.apiKeySecret(externalID: "k-1", token: token) },
                await s.failure { try await s.client.deleteAPIKey(externalID: "k-1", token: token) },
            ]
            for error in errors {
                #expect(error?.kind == .server(status: status))
                #expect(error?.isTransient == true)
            }
            let (real, _) = try await s.token(user: "u-5xx-after")
            #expect(try await s.client.apiKeyInfo(token: real.value).exists, "only four requests were faulted")
        }
    }

    @Test func rateLimitedAndLockedByFault() async throws {
        try await SimScenario.run { s in
            let (token, authorization) = try await s.token(user: "u-429")
            let externalID = try #require(authorization.externalID)
            try await s.sim.admin.addFault(.init(endpoint: .info, kind: .status(429)))
            let limited = await s.failure { try await s.client.apiKeyInfo(token: token.value) }
            #expect(limited?.kind == .rateLimited)
            #expect(limited?.isTransient == true)

            try await s.sim.admin.addFault(.init(endpoint: .secret, kind: .status(423)))
            let locked = await s.failure { try await s.client.apiKeySecret(externalID: externalID, token: token.value) }
            #expect(locked?.kind == .locked)
            #expect(locked?.isTransient == true)
            let secret = try await s.client.apiKeySecret(externalID: externalID, token: token.value)
            #expect(secret.revealed == (try await s.sim.admin.state().key(externalID)?.apiSecret))
        }
    }

    @Test func aConcurrentRetrievalGetsTheRealLock() async throws {
        try await SimScenario.run { s in
            let (token, authorization) = try await s.token(user: "u-423")
            let externalID = try #require(authorization.externalID)
            // Long enough for the second request to arrive while the first holds the lock,
            // on a machine the whole suite loads (4 s did not, once).
            try await s.sim.admin.addFault(.init(endpoint: .secret, kind: .latency(milliseconds: 12_000)))
            let first = Task { try await s.client.apiKeySecret(externalID: externalID, token: token.value) }
            try await s.waitForState { $0.key(externalID)?.retrievalInFlight == true }

            let second = await s.failure { try await s.client.apiKeySecret(externalID: externalID, token: token.value) }
            #expect(second?.kind == .locked)
            #expect(second?.messages == ["Temporary lock, retry shortly."])
            let secret = try await first.value
            #expect(secret.revealed == (try await s.sim.admin.state().key(externalID)?.apiSecret))
        }
    }

    @Test func aDroppedConnectionIsATransientTransportErrorAndNothingWasDone() async throws {
        try await SimScenario.run { s in
            let authorization = try await s.authorize(user: "u-drop")
            try await s.sim.admin.addFault(.init(endpoint: .token, kind: .drop))
            let dropped = await s.failure {
                try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            }
            #expect(dropped?.kind == .transport(reason: "connection closed without an answer"))
            #expect(dropped?.isTransient == true)
            let token = try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)

            try await s.sim.admin.addFault(.init(endpoint: .info, kind: .drop))
            #expect(await s.failure { try await s.client.apiKeyInfo(token: token.value) }?.kind
                == .transport(reason: "connection closed without an answer"))
            #expect(try await s.client.apiKeyInfo(token: token.value).exists)
            #expect(s.client.counters.responses[.info] == ["transport": 1, "200": 1])
        }
    }

    @Test func aLostSecretIsATransportErrorThenA409() async throws {
        try await SimScenario.run { s in
            let (token, authorization) = try await s.token(user: "u-lost")
            let externalID = try #require(authorization.externalID)
            try await s.sim.admin.addFault(.init(endpoint: .secret, kind: .lostSecret))
            let lost = await s.failure { try await s.client.apiKeySecret(externalID: externalID, token: token.value) }
            guard case .transport = lost?.kind else {
                Issue.record("expected a transport error, got \(String(describing: lost?.kind))")
                return
            }
            #expect(lost?.isTransient == true)
            let retry = await s.failure { try await s.client.apiKeySecret(externalID: externalID, token: token.value) }
            #expect(retry?.kind == .secretAlreadyRetrieved)
            let key = try #require(try await s.sim.admin.state().key(externalID))
            #expect(key.secretRetrieved)
            #expect(key.secretFetches == 2)
            try await s.client.deleteAPIKey(externalID: externalID, token: token.value)
        }
    }

    @Test func aLostTokenAnswerSpendsTheCode() async throws {
        try await SimScenario.run { s in
            let authorization = try await s.authorize(user: "u-lost-token")
            try await s.sim.admin.addFault(.init(endpoint: .token, kind: .lostSecret))
            let lost = await s.failure {
                try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            }
            #expect(lost?.isTransient == true)
            let retry = await s.failure {
                try await s.client.exchangeCode(code: authorization.code, codeVerifier: authorization.verifier)
            }
            #expect(retry?.kind == .unauthorized)
        }
    }

    @Test func cancellingTheCallerCancelsTheRequest() async throws {
        try await SimScenario.run { s in
            let (token, _) = try await s.token(user: "u-cancel")
            try await s.sim.admin.addFault(.init(endpoint: .info, kind: .latency(milliseconds: 60_000)))
            let call = Task { try await s.client.apiKeyInfo(token: token.value) }
            try await s.waitForState { $0.requests["info", default: 0] == 1 }
            call.cancel()
            let error = await s.failure { try await call.value }
            #expect(error?.kind == .cancelled)
            let counters = s.client.counters
            #expect(counters.responses[.info] == ["cancelled": 1])
            #expect(counters.errors == 0, "a cancellation is the caller's, not WhiteBIT's error")
        }
    }

    @Test func theConcurrencyLimitHoldsBackTheNextRequest() async throws {
        try await SimScenario.run(configuration: { $0.maxConcurrency = 1 }) { s in
            let (token, _) = try await s.token(user: "u-limit")
            // Long enough to look at the second request while the first is still in flight.
            try await s.sim.admin.addFault(.init(endpoint: .info, kind: .latency(milliseconds: 4_000)))
            let first = Task { try await s.client.apiKeyInfo(token: token.value) }
            try await s.waitForState { $0.requests["info", default: 0] == 1 }
            let second = Task { try await s.client.apiKeyInfo(token: token.value) }
            for _ in 0..<100_000 where s.client.concurrencyLimiter.waiting == 0 {
                await Task.yield()
            }
            #expect(s.client.concurrencyLimiter.waiting == 1)
            #expect(try await s.sim.admin.state().requests["info"] == 1, "the second request went out while the first was in flight")
            #expect(try await first.value.exists)
            #expect(try await second.value.exists)
            #expect(try await s.sim.admin.state().requests["info"] == 2)
        }
    }
}
