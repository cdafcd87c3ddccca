import Foundation
import Testing
import WhiteBITSimHarness

/// The per-IP rate limit of a real `whitebit-sim`, keyed by the TCP peer address: Linux
/// routes all of 127.0.0.0/8 to `lo`, so one test can be several clients by binding its
/// connections to 127.0.0.2 and 127.0.0.3.
@Suite struct RateLimitProcessTests {
    static let budget = 50
    // A minute, not 10 s: 50 requests on a machine shared with builds must all fall in one window.
    static let arguments = ["--rate-limit", "default=\(budget)", "--rate-limit-window", "60s"]

    @Test func anAddressPastItsBudgetGets429WhileOtherAddressesGet200() async throws {
        try await SimProcess.withRunning(arguments: Self.arguments) { sim in
            let partner = Partner(sim: sim)
            let token = try await partner.accessToken(user: "u-1")
            var statuses: [Int] = []
            for _ in 0..<Self.budget { statuses.append(try await partner.info(token, from: "127.0.0.2").status) }
            #expect(statuses == Array(repeating: 200, count: Self.budget))

            let refused = try await partner.info(token, from: "127.0.0.2")
            #expect(refused.status == 429)
            #expect(refused.message == "Too many requests.")
            // A V4 path in the same (default) bucket is refused too, in the V4 error shape.
            let v4 = try await partner.send(.POST, "/api/v4/accounts/balances/main", bearer: token, from: "127.0.0.2")
            #expect(v4.status == 429)
            #expect(NSDictionary(dictionary: v4.json ?? [:]) == ["code": 0, "message": "Too many requests."])

            #expect(try await partner.info(token, from: "127.0.0.3").status == 200)
            #expect(try await partner.info(token).status == 200)

            let counts = try await sim.admin.counts()
            #expect(counts.sources["127.0.0.2"] == SimSourceCount(requests: Self.budget + 2, rateLimited: 2))
            #expect(counts.sources["127.0.0.3"] == SimSourceCount(requests: 1, rateLimited: 0))
            // The token exchange and the last info; the admin calls (consent, counts) are not counted.
            #expect(counts.sources["127.0.0.1"] == SimSourceCount(requests: 2, rateLimited: 0))
            // A refused request never reaches the endpoint: its counters saw 50 + 2 infos.
            #expect(counts.requests["info"] == Self.budget + 2)
        }
    }

    @Test func theLimitsAreSettingsWithTheDocumentedDefaults() async throws {
        try await SimProcess.withRunning { sim in
            let documented = try await sim.admin.settings().rateLimit
            #expect(documented == SimRateLimit(
                enabled: true, windowMilliseconds: 10_000, defaultLimit: 10_000, publicLimit: 20_000, mainAccount: 1_000,
                mainAccountHistory: 200, tradeAccount: 12_000))
            // A budget of 0 refuses at once, and the admin API still answers.
            try await sim.admin.updateSettings(SimAdminSettings(rateLimit: SimRateLimit(defaultLimit: 0)))
            let refused = try await Partner(sim: sim).send(.GET, "/oauth2/api-key/info", from: "127.0.0.3")
            #expect(refused.status == 429)
            #expect(try await sim.admin.counts().sources["127.0.0.3"]?.rateLimited == 1)
        }
        try await SimProcess.withRunning(arguments: Self.arguments) { sim in
            let configured = try await sim.admin.settings().rateLimit
            #expect(configured?.defaultLimit == Self.budget && configured?.windowMilliseconds == 60_000)
            #expect(configured?.mainAccount == 1_000)
        }
    }

    static let badArguments: [([String], String)] = [
        (["--rate-limit", "burst=5"], "--rate-limit burst=5 must be SCOPE=N with SCOPE one of default, public, main_account"),
        (["--rate-limit", "default"], "--rate-limit default must be SCOPE=N"),
        (["--rate-limit", "default=-1"], "the budget must be a whole number of requests, 0 or more"),
        (["--rate-limit-window", "0s"], "--rate-limit-window must be longer than 0ms"),
        (["--rate-limit-window", "10"], "--rate-limit-window 10 is not a duration"),
    ]

    @Test(arguments: badArguments)
    func aBadBudgetIsAUsageError(arguments: [String], message: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try SimProcess.executablePath())
        process.arguments = ["--port", "0"] + arguments
        let standardError = Pipe()
        process.standardError = standardError
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: standardError.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 64)
        #expect(text.contains(message), "\(text)")
    }
}
