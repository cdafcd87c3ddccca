import AsyncHTTPClient
import Foundation
import Testing
import WhiteBITSimHarness

@Suite struct FaultTests {
    @Test(arguments: [
        (.token, 500), (.info, 429), (.secret, 423), (.delete, 503),
    ] as [(SimFaultSpec.Endpoint, Int)])
    func statusFaultAnswersThatStatusOnce(endpoint: SimFaultSpec.Endpoint, status: Int) async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let authorization = try await sim.admin.authorize(user: "u-1")
            try await sim.admin.addFault(SimFaultSpec(endpoint: endpoint, kind: .status(status)))

            var token: String
            if endpoint == .token {
                let faulted = try await partner.token(authorization)
                #expect(faulted.status == status)
                #expect(faulted.message?.isEmpty == false)
                token = try await partner.accessToken(user: "u-1b")
            } else {
                token = try #require(try await partner.token(authorization).data?["access_token"] as? String)
            }
            let externalID = try await sim.admin.state().keys.last!.externalID
            switch endpoint {
            case .info:
                #expect(try await partner.info(token).status == status)
                #expect(try await partner.info(token).status == 200)
            case .secret:
                let faulted = try await partner.secret(token, externalID)
                #expect(faulted.status == 423)
                #expect(faulted.message == "Temporary lock, retry shortly.")
                // The fault stood in front of the handler: the secret is still there.
                #expect(try await sim.admin.state().key(externalID)?.secretFetches == 0)
                #expect(try await partner.secret(token, externalID).status == 200)
            case .delete:
                #expect(try await partner.delete(token, externalID).status == status)
                #expect(try await partner.delete(token, externalID).status == 200)
            case .token, .signed, .accounts, .any:
                break
            }
            let responses = try await sim.admin.state().responses
            #expect(responses["\(endpoint.rawValue) \(status)"] == 1)
        }
    }

    @Test func dropClosesTheConnectionWithoutAnAnswer() async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let token = try await partner.accessToken(user: "u-1")
            try await sim.admin.addFault(SimFaultSpec(endpoint: .info, kind: .drop))
            await #expect(throws: HTTPClientError.remoteConnectionClosed) { try await partner.info(token) }
            #expect(try await partner.info(token).status == 200)
            let state = try await sim.admin.state()
            #expect(state.responses["info dropped"] == 1)
            #expect(state.requests["info"] == 2)
        }
    }

    @Test func lostSecretMarksItRetrievedAndClosesTheConnection() async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let token = try await partner.accessToken(user: "u-1")
            let externalID = try await partner.externalID(token)
            try await sim.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .lostSecret))
            await #expect(throws: HTTPClientError.remoteConnectionClosed) { try await partner.secret(token, externalID) }
            let key = try #require(try await sim.admin.state().key(externalID))
            #expect(key.secretRetrieved)
            #expect(key.secretFetches == 1)
            #expect(!key.retrievalInFlight)
            let retry = try await partner.secret(token, externalID)
            #expect(retry.status == 409)
            #expect(try await sim.admin.state().responses == ["info 200": 1, "secret dropped": 1, "secret 409": 1, "token 200": 1])
        }
    }

    @Test func faultForOneUserSparesOthers() async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let victim = try await partner.accessToken(user: "u-victim")
            let bystander = try await partner.accessToken(user: "u-bystander")
            let fault = SimFaultSpec(endpoint: .any, kind: .status(500), count: 0, user: "u-victim")
            try await sim.admin.addFault(fault)
            try await sim.admin.addFault(SimFaultSpec(endpoint: .token, kind: .latency(milliseconds: 1)))
            #expect(try await sim.admin.faults() == [fault, SimFaultSpec(endpoint: .token, kind: .latency(milliseconds: 1))])
            #expect(try await sim.admin.state().faults.count == 2)
            #expect(try await partner.info(bystander).status == 200)
            #expect(try await partner.info(victim).status == 500)
            #expect(try await partner.info(victim).status == 500)
            try await sim.admin.clearFaults()
            #expect(try await sim.admin.faults().isEmpty)
            #expect(try await partner.info(victim).status == 200)
        }
    }

    /// A latency fault holds one answer back while the server keeps serving: while the slow
    /// retrieval is held, another request completes, the state shows the retrieval in
    /// flight, and a concurrent retrieval gets 423.
    @Test func latencyHoldsOneAnswerWithoutBlockingOthers() async throws {
        try await SimProcess.withRunning { sim in
            let partner = Partner(sim: sim)
            let token = try await partner.accessToken(user: "u-1")
            let externalID = try await partner.externalID(token)
            // Long enough to outlast the steps below on a machine the whole suite loads (5 s
            // did not, once).
            try await sim.admin.addFault(SimFaultSpec(endpoint: .secret, kind: .latency(milliseconds: 15_000)))

            let slow = Task { try await partner.secret(token, externalID) }
            try await sim.untilRetrievalInFlight(externalID)
            #expect(try await partner.info(token).status == 200)
            let concurrent = try await partner.secret(token, externalID)
            #expect(concurrent.status == 423)
            #expect(try await sim.admin.state().key(externalID)?.retrievalInFlight == true)

            let held = try await slow.value
            #expect(held.status == 200)
            let heldSecretMatchesState = try await held.data?["apiSecret"] as? String == sim.admin.state().key(externalID)?.apiSecret
            #expect(heldSecretMatchesState)
            #expect(try await sim.admin.state().key(externalID)?.retrievalInFlight == false)
            #expect(try await partner.secret(token, externalID).status == 409)
        }
    }
}
