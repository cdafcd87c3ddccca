import Foundation
import PKCE
import Sensitive
import Testing
import WhiteBITSimHarness
@testable import WhiteBITClient

/// The client's V4 signer and the simulator's signature check were written apart, each
/// from docs/whitebit-api.md §5.2; here they meet over loopback. Every read of §4 on both
/// routes, many signers for one key, and what each documented refusal tells the daemon.
@Suite struct SimSignedReadTests {
    /// A consent, its token, and the key's secret fetched once: what the daemon holds.
    func issuedKey(_ s: SimScenario, user: String) async throws -> (credentials: V4Credentials, externalID: String, token: AccessToken) {
        let (token, _) = try await s.token(user: user)
        let info = try await s.client.apiKeyInfo(token: token.value)
        let externalID = try #require(info.externalID)
        let secret = try await s.client.apiKeySecret(externalID: externalID, token: token.value)
        return (V4Credentials(apiKey: externalID, secret: secret), externalID, token)
    }

    @Test func everySignedReadAnswersTheUsersOwnData() async throws {
        try await SimScenario.run { s in
            let key = try await issuedKey(s, user: "u-2001")
            let nonces = V4NonceSource()
            let account = try JSONSerialization.jsonObject(with: try await s.sim.admin.accountData(user: "u-2001")) as? [String: Any]
            let balances = try #require(account?["balances"] as? [[String: Any]])
            var mainBalances: [String: String] = [:]
            for balance in balances {
                if let ticker = balance["ticker"] as? String { mainBalances[ticker] = balance["main_balance"] as? String }
            }

            let main = try await s.client.accountRead(.mainBalance, credentials: key.credentials, nonces: nonces)
            #expect(Set(main.objectValue?.keys.map { $0 } ?? []) == Set(mainBalances.keys))
            for (ticker, amount) in mainBalances {
                #expect(main[ticker]?["main_balance"]?.stringValue == amount, "\(ticker)")
            }
            let btc = try await s.client.accountRead(
                .spotBalance, parameters: ["ticker": .string("BTC")], credentials: key.credentials, nonces: nonces)
            #expect(btc["available"]?.stringValue != nil && btc["freeze"]?.stringValue != nil)

            for read in [AccountRead.transactions, .converts] {
                let page = try await s.client.accountRead(
                    read, parameters: ["limit": .number("5"), "offset": .number("0")], credentials: key.credentials, nonces: nonces)
                #expect(page["records"]?.arrayValue?.count == 5, "\(read)")
            }
            for read in [AccountRead.orders, .deals] {
                let grouped = try await s.client.accountRead(
                    read, parameters: ["limit": .number("10")], credentials: key.credentials, nonces: nonces)
                let total = grouped.objectValue?.values.reduce(0) { $0 + ($1.arrayValue?.count ?? 0) }
                #expect(total == 10, "\(read)")
            }
            // The same read twice gives the same answer: the data is the user's, not random.
            let again = try await s.client.accountRead(.mainBalance, credentials: key.credentials, nonces: nonces)
            #expect(again == main)

            let log = try await s.sim.admin.requestLog(externalID: key.externalID)
            #expect(log.count == 7)
            #expect(log.allSatisfy { $0.status == 200 })
            let sent = log.compactMap(\.nonce)
            #expect(sent == sent.sorted() && Set(sent).count == sent.count)
        }
    }

    /// Partner processes sign for one user at once; the client's per-key lane and the nonce
    /// source keep every nonce increasing as WhiteBIT sees them.
    @Test func sixteenConcurrentReadersOfOneKeyAreAllAccepted() async throws {
        try await SimScenario.run { s in
            let key = try await issuedKey(s, user: "u-2002")
            let nonces = V4NonceSource()
            let client = s.client
            let credentials = key.credentials
            let results = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        let read: AccountRead = index % 2 == 0 ? .mainBalance : .spotBalance
                        return (try? await client.accountRead(read, credentials: credentials, nonces: nonces)) != nil
                    }
                }
                var all: [Bool] = []
                for await ok in group { all.append(ok) }
                return all
            }
            #expect(results.count == 16 && results.allSatisfy { $0 })
            let log = try await s.sim.admin.requestLog(externalID: key.externalID)
            #expect(log.filter { $0.status == 200 }.count == 16)
        }
    }

    @Test func aWrongSecretIsRefusedAsAKeyThatNoLongerAuthenticates() async throws {
        try await SimScenario.run { s in
            let key = try await issuedKey(s, user: "u-2003")
            let forged = V4Credentials(apiKey: key.externalID, secret: Sensitive(String(repeating: "0", count: 32)))
            let error = await s.failure { try await s.client.accountRead(.mainBalance, credentials: forged, nonces: V4NonceSource()) }
            #expect(error?.kind == .signatureRejected)
            #expect(error?.messages == ["Unauthorized request."])
            #expect(error?.verdict == .keyGone)
        }
    }

    @Test func aNonceThatDoesNotIncreaseIsTooManyRequests() async throws {
        try await SimScenario.run { s in
            let key = try await issuedKey(s, user: "u-2004")
            let nonces = V4NonceSource()
            _ = try await s.client.accountRead(.mainBalance, credentials: key.credentials, nonces: nonces)
            // A second source that starts from the clock again, as a restarted process without
            // the persisted nonce would: its nonce is below the one WhiteBIT last accepted.
            let fresh = V4NonceSource(lastIssued: [:], now: { 1 })
            let error = await s.failure { try await s.client.accountRead(.mainBalance, credentials: key.credentials, nonces: fresh) }
            // WhiteBIT documents "Too many requests." for a nonce that does not increase and
            // 429 for a rate limit, and the simulator answers the one with the other: the
            // client cannot tell them apart, and need not, both are worth a later retry.
            #expect([.nonceNotIncreasing, .rateLimited].contains(error?.kind))
            #expect(error?.messages == ["Too many requests."])
            #expect(error?.verdict == .transient)
        }
    }

    @Test func aDisabledOrIdleKeyIsSeenAsDisabled() async throws {
        try await SimScenario.run { s in
            let key = try await issuedKey(s, user: "u-2005")
            try await s.sim.admin.setIdle(externalID: key.externalID, milliseconds: 15 * 24 * 3600 * 1000)
            let error = await s.failure {
                try await s.client.accountRead(.mainBalance, credentials: key.credentials, nonces: V4NonceSource())
            }
            #expect(error?.kind == .keyDisabled)
            #expect(error?.verdict == .keyDisabled)
            let info = try await s.client.apiKeyInfo(token: key.token.value)
            #expect(info.exists && !info.isEnabled)
        }
    }

    /// What a deleted key answers is not documented; the simulator plays each reading, and
    /// the verdict the daemon acts on is written down for each.
    @Test(arguments: [("401", WhiteBITError.Verdict.keyGone), ("404", .keyGone), ("403", .keyDisabled)])
    func aDeletedKeyUnderEachReading(answer: String, verdict: WhiteBITError.Verdict) async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(SimAdminSettings(deletedKey: answer))
            let key = try await issuedKey(s, user: "u-2006")
            try await s.sim.admin.deleteKey(user: "u-2006")
            let error = await s.failure {
                try await s.client.accountRead(.mainBalance, credentials: key.credentials, nonces: V4NonceSource())
            }
            #expect(error?.httpStatus == Int(answer))
            #expect(error?.verdict == verdict)
        }
    }

    @Test func aPermissionTheUserDidNotGrantIsRefusedWithoutBlamingTheKey() async throws {
        try await SimScenario.run { s in
            let key = try await issuedKey(s, user: "u-2007")
            try await s.sim.admin.setPermissions(externalID: key.externalID, ["none"])
            let error = await s.failure {
                try await s.client.accountRead(.transactions, credentials: key.credentials, nonces: V4NonceSource())
            }
            #expect(error?.kind == .endpointNotPermitted)
            #expect(error?.messages == ["You don't have permission to use this endpoint."])
            #expect(error?.verdict == .refused)
        }
    }

    /// §3.6, main's reading: a separate public key arrives on the callback, and only it signs.
    @Test func theApiKeyReadingSignsWithTheKeyFromTheCallback() async throws {
        try await SimScenario.run { s in
            try await s.sim.admin.updateSettings(SimAdminSettings(apiKeyHeader: "api_key"))
            let pair = PKCEPair.generate()
            let consent = try await s.sim.admin.consent(user: "u-2008", codeChallenge: pair.challenge, state: PKCE.makeState())
            let token = try await s.client.exchangeCode(code: consent.code, codeVerifier: pair.verifier)
            let externalID = try #require(consent.externalID)
            let apiKey = try #require(consent.apiKey)
            #expect(apiKey != externalID)
            let secret = try await s.client.apiKeySecret(externalID: externalID, token: token.value)
            let nonces = V4NonceSource()
            let byExternalID = await s.failure {
                try await s.client.accountRead(
                    .mainBalance, credentials: V4Credentials(apiKey: externalID, secret: secret), nonces: nonces)
            }
            #expect(byExternalID?.verdict == .keyGone)
            let balance = try await s.client.accountRead(
                .mainBalance, credentials: V4Credentials(apiKey: apiKey, secret: secret), nonces: nonces)
            #expect(balance.objectValue?.isEmpty == false)
        }
    }

    @Test func theBearerRouteNeedsItsScope() async throws {
        try await SimScenario.run { s in
            let unscoped = try await s.token(user: "u-2009").token
            let refused = await s.failure { try await s.client.accountRead(.mainBalance, bearer: unscoped.value) }
            #expect(refused?.verdict == .tokenRejected)

            try await s.sim.admin.updateSettings(SimAdminSettings(grantedScopes: ["users.balances.read", "users.transactions.read"]))
            let scoped = try await s.token(user: "u-2010").token
            let main = try await s.client.accountRead(.mainBalance, bearer: scoped.value)
            #expect(main.objectValue?.isEmpty == false)
            let page = try await s.client.accountRead(.transactions, parameters: ["limit": .number("3")], bearer: scoped.value)
            #expect(page["records"]?.arrayValue?.count == 3)
            let converts = await s.failure { try await s.client.accountRead(.converts, bearer: scoped.value) }
            #expect(converts?.verdict == .tokenRejected)
        }
    }
}
