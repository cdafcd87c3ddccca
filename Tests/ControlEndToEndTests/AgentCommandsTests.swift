import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// wbkeyd as the user's key agent (docs/design.md §12), through socat and wbkeyctl, with
/// the simulator's deterministic account data as the truth and its request log as the
/// judge of every signature.
@Suite struct AgentCommandsTests {
    @Test func balanceAndEveryHistoryKindComeFromWhiteBITThroughTheKey() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            try await daemon.consentAndSubmit(user: "u-1")
            try await session.awaitActive("u-1")
            let data = try #require(try JSONSerialization.jsonObject(with: try await daemon.admin.accountData(user: "u-1")) as? [String: Any])
            let balances = try #require(data["balances"] as? [[String: Any]])
            let expectedMain = Dictionary(uniqueKeysWithValues: balances.map { ($0["ticker"] as! String, ["main_balance": $0["main_balance"]!]) })
            let expectedSpot = Dictionary(uniqueKeysWithValues: balances.map {
                ($0["ticker"] as! String, ["available": $0["available"]!, "freeze": $0["freeze"]!])
            })
            let btc = try #require(balances.first { $0["ticker"] as? String == "BTC" })

            for tool in ControlTool.allCases {
                let main = try await session.object("balance u-1 main", via: tool)
                #expect(main["route"] as? String == "v4" && main["user"] as? String == "u-1", "\(main)")
                #expect(sameJSON(main["balance"], expectedMain), "main balance via \(tool): \(main)")
                let spot = try await session.object("balance u-1 spot", via: tool)
                #expect(sameJSON(spot["balance"], expectedSpot), "spot balance via \(tool): \(spot)")
                let one = try await session.object("balance u-1 main btc", via: tool)
                #expect(sameJSON(one["balance"], ["main_balance": btc["main_balance"]!]), "\(one)")
                let text = try await session.ask("balance u-1 spot", via: tool)
                #expect(text.exitStatus == 0 && text.text.hasPrefix("user: u-1\nroute: v4\n\nTICKER  AVAILABLE"), "\(text.text)")
                let row = text.text.split(separator: "\n").first { $0.hasPrefix("BTC ") }?.split(separator: " ").map(String.init)
                #expect(row == ["BTC", btc["available"] as! String, btc["freeze"] as! String], "\(text.text)")
            }

            let transactions = try #require(data["transactions"] as? [Any])
            let all = try await session.object("history u-1 transactions limit=100", via: .socat)
            let page = try #require(all["history"] as? [String: Any])
            #expect(all["route"] as? String == "v4")
            #expect(page["total"] as? Int == transactions.count && sameJSON(page["records"], transactions), "\(all.keys)")
            let paged = try await session.object("history u-1 transactions limit=5 offset=3", via: .wbkeyctl)
            #expect(sameJSON((paged["history"] as? [String: Any])?["records"], Array(transactions.dropFirst(3).prefix(5))))

            // Converts: WhiteBIT's window is at most 30 days; the data lies before today.
            let dayStart = Int(Date().timeIntervalSince1970) / 86_400 * 86_400
            let from = dayStart - 30 * 86_400
            let converts = try #require(data["converts"] as? [[String: Any]]).filter { (from...dayStart).contains($0["date"] as? Int ?? 0) }
            for tool in ControlTool.allCases {
                let answer = try await session.object("history u-1 converts from=\(from) to=\(dayStart) limit=100", via: tool)
                let history = try #require(answer["history"] as? [String: Any], "\(answer)")
                #expect(sameJSON(history["records"], converts), "converts via \(tool)")
            }

            for kind in ["orders", "deals"] {
                let entries = try #require(data[kind] as? [[String: Any]])
                var grouped: [String: [Any]] = [:]
                for entry in entries { grouped[entry["market"] as! String, default: []].append(entry["record"]!) }
                for tool in ControlTool.allCases {
                    let answer = try await session.object("history u-1 \(kind) limit=100", via: tool)
                    #expect(sameJSON(answer["history"], grouped), "\(kind) via \(tool)")
                }
                let one = try await session.object("history u-1 \(kind) market=ETH_USDT limit=100", via: .socat)
                #expect(sameJSON(one["history"], grouped.filter { $0.key == "ETH_USDT" }), "\(kind) of one market")
            }
            let text = try await session.ask("history u-1 deals limit=1", via: .wbkeyctl)
            #expect(text.exitStatus == 0 && text.text.hasPrefix("user: u-1\nroute: v4\n{\n"), "\(text.text.prefix(200))")

            // Bad lines are refused before WhiteBIT is asked, naming what was wrong.
            let bad: [(String, String)] = [
                ("balance u-1 savings", "error: unknown balance `savings`; balances: main, spot\n"),
                ("balance u-1", "error: usage: balance USER main|spot [TICKER] [json]\n"),
                ("history u-1 trades", "error: unknown history `trades`; histories: transactions, converts, orders, deals\n"),
                ("history u-1 deals limit=ten", "error: limit: `ten` is not a whole number\n"),
                ("history u-1 deals orderId=5", "error: deals takes no field `orderId`; fields: market, clientOrderId, startDate, endDate, offset, limit\n"),
                ("history u-1 deals limit", "error: `limit` is not FIELD=VALUE\n"),
                ("history u-1 deals limit=1 limit=2", "error: field `limit` given twice\n"),
                ("balance nobody main", "error: no grant for nobody\n"),
            ]
            let before = try await daemon.auditRows().filter { $0.event == "account_read" }.count
            for (line, expected) in bad {
                let answer = try await session.ask(line, via: .socat)
                #expect(answer.text == expected, "`\(line)` via socat: \(answer.text)")
                // wbkeyctl checks the line as wbkeyd does and sends nothing (status 2), or,
                // for an unknown user, prints wbkeyd's answer (status 1).
                guard line != "balance u-1" else { continue }  // ArgumentParser's own usage error
                let checked = try await session.ask(line, via: .wbkeyctl)
                let message = String(expected.dropFirst("error: ".count).dropLast())
                let words = message.hasPrefix("usage:") ? String(message.prefix { $0 != "[" }) : message
                #expect(checked.text.contains(words) && [1, 64].contains(checked.exitStatus), "`\(line)` via wbkeyctl: \(checked.text)")
            }
            // WhiteBIT's own validation comes back with its words.
            let invalid = try await session.ask("history u-1 deals market=DOGE_USDT", via: .socat)
            #expect(invalid.text.hasPrefix("error: u-1: deals history failed: WhiteBIT POST /api/v4/trade-account/executed-history"), "\(invalid.text)")
            #expect(invalid.text.contains("market"), "\(invalid.text)")

            let reads = try await daemon.auditRows(user: "u-1").filter { $0.event == "account_read" }
            #expect(reads.count == before + 1, "the refused lines must not be audited as reads")
            #expect(reads.count == 20)
            #expect(reads.allSatisfy { $0.actor == "uid:\(getuid())" && $0.detailValue("route") == "v4" })
            #expect(reads.first?.detailValue("endpoint") == "/api/v4/main-account/balance" && reads.first?.detailValue("outcome") == "ok")
            #expect(reads.last?.detailValue("outcome") == "failed")
            #expect(reads.allSatisfy { !$0.detail.contains(btc["main_balance"] as! String) }, "a balance in the audit")
            try await expectNoSecretAnywhere(session)
        }
    }

    @Test func sixteenConcurrentSignersForOneUserAreAllAcceptedAndNoncesSurviveARestart() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            try await daemon.consentAndSubmit(user: "u-1")
            try await session.awaitActive("u-1")
            let key = try #require(try await daemon.admin.state().keys(of: "u-1").first)

            // Sixteen callers sign at once; the requests then go out together, so that a
            // runner slow to start a caller's socat or wbkeyctl cannot hold one request back
            // past WhiteBIT's 5 s window behind the others.
            let signatures = try await withThrowingTaskGroup(of: (SignedRequest, Int).self) { group in
                for caller in 0..<16 {
                    group.addTask {
                        let tool: ControlTool = caller % 2 == 0 ? .socat : .wbkeyctl
                        let path = caller % 4 < 2 ? "/api/v4/main-account/balance" : "/api/v4/trade-account/balance"
                        let body = caller % 3 == 0 ? #" {"ticker":"BTC"}"# : ""
                        let signed = try await session.object("sign u-1 \(path)\(body)", via: tool)
                        return (try Self.request(of: signed), try Self.nonce(of: signed))
                    }
                }
                var all: [(SignedRequest, Int)] = []
                for try await signed in group { all.append(signed) }
                return all
            }
            let answers = try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
                for (request, nonce) in signatures {
                    group.addTask {
                        let (status, answer) = try await Self.send(request)
                        return (status, nonce, answer)
                    }
                }
                var all: [(Int, Int, String)] = []
                for try await answer in group { all.append(answer) }
                return all
            }
            #expect(answers.count == 16)
            for (status, nonce, body) in answers {
                #expect(status == 200, "nonce \(nonce): \(status) \(body.prefix(200))")
            }
            #expect(Set(answers.map(\.1)).count == 16, "two callers got the same nonce")
            let log = try await daemon.admin.requestLog(externalID: key.externalID)
            #expect(log.filter { $0.status == 200 }.count >= 16)
            #expect(!log.contains { $0.message == "Too many requests." }, "a nonce was not increasing")

            let rows = try await daemon.auditRows(user: "u-1").filter { $0.event == "request_signed" }
            #expect(rows.count == 16)
            #expect(Set(rows.compactMap { $0.detailValue("nonce").flatMap(Int.init) }) == Set(answers.map(\.1)))
            #expect(rows.allSatisfy { $0.actor == "uid:\(getuid())" && $0.externalID == key.externalID })
            for row in rows {
                #expect(!answers.contains { row.detail.contains($0.2) } && !row.detail.contains("X-TXC"), "signature or body in the audit")
            }

            // A path outside agent.sign_paths is refused and nothing is signed.
            for tool in ControlTool.allCases {
                let refused = try await session.ask("sign u-1 /api/v4/order/new {\"market\":\"BTC_USDT\"}", via: tool)
                #expect(refused.text == "error: /api/v4/order/new is not in agent.sign_paths; wbkeyd signs only those paths\n", "\(refused.text)")
                #expect(tool == .socat || refused.exitStatus == 1)
            }
            let badBody = try await session.ask("sign u-1 /api/v4/main-account/balance [1,2]", via: .socat)
            #expect(badBody.text.hasPrefix("error: cannot sign the V4 request: the body must be a JSON object"), "\(badBody.text)")
            #expect(try await daemon.auditRows(user: "u-1").filter { $0.event == "request_signed" }.count == 16)

            // The mark is durable with each signature: a restart continues above it.
            let highest = try #require(answers.map(\.1).max())
            let mark = try await daemon.sqliteRows("SELECT last_nonce FROM key_nonces WHERE api_key = '\(key.externalID)'").first?["last_nonce"]
            #expect(mark.flatMap(Int.init) == highest)
            // Even a SIGKILL right after the answers cannot hand a nonce out twice.
            try await daemon.kill9()
            try await daemon.restart()
            let after = try await session.object("sign u-1 /api/v4/main-account/balance", via: .socat)
            #expect(try Self.nonce(of: after) > highest)
            #expect(try await Self.send(after).status == 200)
            try await expectNoSecretAnywhere(session)
        }
    }

    @Test func agentModeRefusesSecretToEveryoneAndStillSignsAndReads() async throws {
        let options = DaemonFixture.Options(config: ["control.secret_delivery": false])
        try await DaemonFixture.withDaemon(options) { daemon in
            let session = Session(daemon)
            try await daemon.consentAndSubmit(user: "u-1")
            try await session.awaitActive("u-1")
            for tool in ControlTool.allCases {
                let secret = try await session.ask("secret u-1", via: tool)
                #expect(secret.text == "error: `secret` is refused for everyone: control.secret_delivery is false (agent mode); use `sign`, `balance` or `history`\n", "\(secret.text)")
                let json = try await session.object("secret u-1", via: tool)
                #expect((json["error"] as? [String: Any])?["message"] as? String != nil)
            }
            let rows = try await daemon.auditRows()
            #expect(!rows.contains { $0.event == "secret_read" })
            let refused = rows.filter { $0.event == "command_refused" }
            #expect(refused.first?.detailValue("command") == "secret" && refused.first?.detailValue("reason") == "control.secret_delivery is false")

            let signed = try await session.object("sign u-1 /api/v4/trade-account/balance {\"ticker\":\"ETH\"}", via: .wbkeyctl)
            let (status, body) = try await Self.send(signed)
            #expect(status == 200, "\(body.prefix(200))")
            #expect(body.contains("\"available\""), "\(body.prefix(200))")
            let balance = try await session.object("balance u-1 spot ETH", via: .socat)
            #expect(balance["route"] as? String == "v4" && balance["balance"] != nil, "\(balance)")
            let settings = try await daemon.wbkeyd(["check-config", "--config", daemon.paths.configFile])
            #expect(settings.standardOutput.contains("secret_delivery = false  # agent mode: `secret` is refused for everyone, root too"), "\(settings.standardOutput)")
            try await expectNoSecretAnywhere(session)
        }
    }

    @Test func whiteBITsRefusalComesBackAsAClearErrorLine() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            try await daemon.consentAndSubmit(user: "u-1")
            try await session.awaitActive("u-1")
            try await daemon.admin.disableKey(user: "u-1")
            for tool in ControlTool.allCases {
                let answer = try await session.ask("balance u-1 main", via: tool)
                #expect(answer.text.hasPrefix("error: u-1: main balance failed: WhiteBIT POST /api/v4/main-account/balance: 403 key disabled"), "\(answer.text)")
                #expect(answer.text.contains("WhiteBIT said: \"This action is unauthorized. Enable your key in API settings\""), "\(answer.text)")
                #expect(tool == .socat || answer.exitStatus == 1)
                let json = try await session.object("history u-1 transactions", via: tool)
                let message = try #require((json["error"] as? [String: Any])?["message"] as? String)
                #expect(message.hasPrefix("u-1: transactions history failed:") && message.contains("Enable your key"), "\(message)")
            }
            let failed = try await daemon.auditRows(user: "u-1").filter { $0.event == "account_read" }
            #expect(failed.count == 4 && failed.allSatisfy { $0.detailValue("outcome") == "failed" })

            // Without a sealed secret and without a live token: the state is named.
            try await daemon.consentAndSubmit(user: "u-2")
            try await session.awaitActive("u-2")
            _ = try await session.ask("revoke u-2 test", via: .socat)
            let none = try await session.ask("sign u-2 /api/v4/main-account/balance", via: .socat)
            #expect(none.text.hasPrefix("error: u-2 has no secret of its current key (state revoked)"), "\(none.text)")
            let noRead = try await session.ask("balance u-2 main", via: .socat)
            #expect(noRead.text.hasPrefix("error: u-2 has no secret of its current key and no token to read with (state revoked)"), "\(noRead.text)")
            try await expectNoSecretAnywhere(session)
        }
    }

    @Test func withoutASecretTheLiveTokenReadsOnTheBearerRoute() async throws {
        try await DaemonFixture.withDaemon { daemon in
            let session = Session(daemon)
            // A token without a read scope: WhiteBIT's 401 comes back, naming the user.
            try await daemon.consentAndSubmit(user: "u-c", key: .never)
            _ = try await daemon.awaitState("awaiting_key", user: "u-c")
            let unscoped = try await session.ask("balance u-c main", via: .socat)
            #expect(unscoped.text.hasPrefix("error: u-c: main balance failed: WhiteBIT POST /api/v4/accounts/balances/main: 401 unauthorized"), "\(unscoped.text)")
            // A client whose consent grants balance reads; the user consents but makes no
            // key: the grant waits with a live token.
            try await daemon.admin.registerClient(
                id: SimDefaults.clientID, secret: SimDefaults.clientSecret, redirectURIs: [SimDefaults.redirectURI],
                scopes: ["apikeys.create", "apikeys.read", "apikeys.delete", "users.balances.read"])
            try await daemon.consentAndSubmit(user: "u-b", key: .never)
            _ = try await daemon.awaitState("awaiting_key", user: "u-b")
            let data = try #require(try JSONSerialization.jsonObject(with: try await daemon.admin.accountData(user: "u-b")) as? [String: Any])
            let balances = try #require(data["balances"] as? [[String: Any]])
            let expected = Dictionary(uniqueKeysWithValues: balances.map { ($0["ticker"] as! String, ["main_balance": $0["main_balance"]!]) })
            for tool in ControlTool.allCases {
                let answer = try await session.object("balance u-b main", via: tool)
                #expect(answer["route"] as? String == "bearer", "\(answer)")
                #expect(sameJSON(answer["balance"], expected), "\(answer)")
            }
            let sign = try await session.ask("sign u-b /api/v4/main-account/balance", via: .socat)
            #expect(sign.text.hasPrefix("error: u-b has no secret of its current key (state awaiting_key)"), "\(sign.text)")
            let reads = try await daemon.auditRows(user: "u-b").filter { $0.event == "account_read" }
            #expect(reads.count == 2 && reads.allSatisfy { $0.detailValue("route") == "bearer" && $0.detailValue("endpoint") == "/api/v4/accounts/balances/main" })
            try await expectNoSecretAnywhere(session, needsAPISecret: false)
        }
    }

    // MARK: - Helpers

    /// Sends a `sign` answer as the partner would, with curl; answers the status and body.
    /// What `sign` answered, as curl sends it.
    struct SignedRequest: Sendable {
        let url: String
        let body: String
        let headers: [String: String]
    }

    static func request(of signed: [String: Any]) throws -> SignedRequest {
        let url = try #require(signed["url"] as? String), body = try #require(signed["body"] as? String)
        let headers = try #require(signed["headers"] as? [String: String])
        #expect(Set(headers.keys) == ["Content-Type", "X-TXC-APIKEY", "X-TXC-PAYLOAD", "X-TXC-SIGNATURE"])
        return SignedRequest(url: url, body: body, headers: headers)
    }

    static func send(_ signed: [String: Any]) async throws -> (status: Int, body: String) {
        try await send(try request(of: signed))
    }

    static func send(_ request: SignedRequest) async throws -> (status: Int, body: String) {
        var arguments = ["-s", "-X", "POST", "-w", "\n%{http_code}", "--data-binary", request.body]
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) { arguments += ["-H", "\(name): \(value)"] }
        let result = try await CommandRunner.run(try CommandRunner.onPath("curl"), arguments + [request.url])
        let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    static func nonce(of signed: [String: Any]) throws -> Int {
        let body = try #require(signed["body"] as? String)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(object["nonceWindow"] as? Bool == true)
        return try #require(object["nonce"] as? Int)
    }
}

/// The closing search of docs/design.md §12: no API secret, token or master key in any
/// answer but `secret`'s, in anything the daemon printed (stderr is its journal), or in
/// the store, its WAL or its shared-memory file.
func expectNoSecretAnywhere(_ session: Session, needsAPISecret: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let daemon = session.daemon
    let secrets = try await Transcript.secretsOnRecord(daemon)
    #expect(!needsAPISecret || secrets.contains { $0.what.hasPrefix("API secret") }, "the search needs the API secrets", sourceLocation: sourceLocation)
    #expect(secrets.contains { $0.what.hasPrefix("access token") }, "the search needs the tokens", sourceLocation: sourceLocation)
    var leaks = session.transcript.leaks(of: secrets)
    let output = Data(daemon.allOutput)
    let files = [daemon.paths.store, daemon.paths.storeWAL, daemon.paths.storeSHM]
    for secret in secrets {
        let needle = Data(secret.value.utf8)
        if output.range(of: needle) != nil { leaks.append("the daemon's output holds the \(secret.what)") }
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file) else { continue }
            if bytes.range(of: needle) != nil { leaks.append("\(URL(fileURLWithPath: file).lastPathComponent) holds the \(secret.what)") }
        }
    }
    #expect(leaks.isEmpty, "\(leaks)", sourceLocation: sourceLocation)
}
