import ControlProtocol
import GrantLifecycle
import Testing

@Suite struct ControlParserTests {
    @Test(arguments: [
        ("revoke u-1", false), ("revoke u-1 wait", true), ("revoke u-1 user left wait json", true), ("revoke u-1 -- wait", true),
        ("reconcile u-1 dry-run wait", true), ("reconcile wait --", false), ("show wait", false),
    ])
    func theOptionWordWaitAsksForTheEnd(line: String, wait: Bool) throws {
        #expect(try ControlParser.parse(line).wait == wait)
    }

    @Test(arguments: [("show json -- json", true), ("show json --", false), ("audit 3 json", true), ("json", false), ("show u -- x json", true)])
    func errorsAreAnsweredInTheFormAsked(line: String, json: Bool) {
        #expect(ControlParser.asksForJSON(line) == json)
    }

    @Test(arguments: [
        ("help", ControlCommand.help, false),
        ("status", .status, false),
        ("status json", .status, true),
        ("  status\tjson  ", .status, true),
        ("grants", .grants(state: nil), false),
        ("grants revoke_pending json", .grants(state: .revokePending), true),
        ("show u-1001", .show(user: "u-1001"), false),
        ("audit", .audit(count: 20, user: nil), false),
        ("audit 5", .audit(count: 5, user: nil), false),
        ("audit 5 u:a@b.c_d-e json", .audit(count: 5, user: "u:a@b.c_d-e"), true),
        ("audit u-1", .audit(count: 20, user: "u-1"), false),
        ("metrics", .metrics, false),
        ("authorize-url u-1", .authorizeURL(user: "u-1"), false),
        ("reconcile", .reconcile(user: nil, dryRun: false), false),
        ("reconcile dry-run", .reconcile(user: nil, dryRun: true), false),
        ("reconcile u-1 dry-run json", .reconcile(user: "u-1", dryRun: true), true),
        ("revoke u-1", .revoke(user: "u-1", reason: nil), false),
        ("revoke u-1 user asked to disconnect", .revoke(user: "u-1", reason: "user asked to disconnect"), false),
        ("secret u-1 json", .secret(user: "u-1"), true),
        ("balance u-1 main", .balance(user: "u-1", account: .main, ticker: nil), false),
        ("balance u-1 spot btc json", .balance(user: "u-1", account: .spot, ticker: "BTC"), true),
        ("history u-1 deals", .history(user: "u-1", kind: .deals, fields: [:]), false),
        ("history u-1 transactions limit=5 ticker=BTC status=3,7 addresses=a,b json", .history(
            user: "u-1", kind: .transactions,
            fields: ["limit": .integer(5), "ticker": .string("BTC"), "status": .integers([3, 7]), "addresses": .strings(["a", "b"])]), true),
        ("history u-1 orders status=FILLED orderId=12", .history(user: "u-1", kind: .orders, fields: ["status": .string("FILLED"), "orderId": .integer(12)]), false),
        ("sign u-1 /api/v4/main-account/balance", .sign(user: "u-1", path: "/api/v4/main-account/balance", body: nil), false),
        (#"sign u-1 /api/v4/main-account/balance  {"ticker": "BTC",  "x": "a  b"}  json"#,
         .sign(user: "u-1", path: "/api/v4/main-account/balance", body: #"{"ticker": "BTC",  "x": "a  b"}"#), true),
        // Option words in any order after the arguments; `--` makes the words before it
        // arguments as written (a user named like an option word).
        ("reconcile u-1 json dry-run", .reconcile(user: "u-1", dryRun: true), true),
        ("show json --", .show(user: "json"), false),
        ("show json -- json", .show(user: "json"), true),
        ("show -- --", .show(user: "--"), false),
        ("reconcile dry-run --", .reconcile(user: "dry-run", dryRun: false), false),
        ("reconcile dry-run -- dry-run json", .reconcile(user: "dry-run", dryRun: true), true),
        ("revoke u-1 please wait -- json", .revoke(user: "u-1", reason: "please wait"), true),
        ("revoke u-1 a -- b --", .revoke(user: "u-1", reason: "a -- b"), false),
        ("audit 5 json --", .audit(count: 5, user: "json"), false),
    ])
    func parsesEveryCommand(line: String, command: ControlCommand, json: Bool) throws {
        let request = try ControlParser.parse(line)
        #expect(request.command == command)
        #expect(request.json == json)
    }

    @Test(arguments: [
        ("", "empty command"),
        ("   ", "empty command"),
        ("frobnicate", "unknown command `frobnicate`"),
        ("status now", "usage: status"),
        ("grants sleeping", "unknown state `sleeping`"),
        ("grants active extra", "usage: grants"),
        ("balance u-1 savings", "unknown balance `savings`; balances: main, spot"),
        ("balance u-1 main BT-C", "invalid ticker `BT-C`"),
        ("history u-1 trades", "unknown history `trades`"),
        ("history u-1 deals orderId=1", "deals takes no field `orderId`"),
        ("history u-1 deals limit=-1", "limit: `-1` is not a whole number"),
        ("history u-1 deals =1", "`=1` is not FIELD=VALUE"),
        ("history u-1 transactions status=1,,2", "a list of 1–20 comma-separated values"),
        ("sign u-1", "usage: sign USER PATH [JSON-BODY]"),
        ("sign u-1 api/v4/x", "PATH must be an absolute path"),
        ("show", "usage: show USER"),
        ("show a b", "usage: show USER"),
        ("show bad/user", "invalid user reference"),
        ("show \(String(repeating: "u", count: 129))", "invalid user reference"),
        ("audit 0", "N must be between 1 and 1000"),
        ("audit 1001", "N must be between 1 and 1000"),
        ("audit 99999999999999999999999", "N must be between 1 and 1000"),
        ("audit 5 u-1 extra", "usage: audit"),
        ("revoke", "usage: revoke USER"),
        ("revoke u-1 \(String(repeating: "r", count: 201))", "reason longer than 200"),
        ("secret", "usage: secret USER"),
        ("status\u{7}", "printable ASCII"),
        ("show u-ü", "printable ASCII"),
        (String(repeating: "x", count: 4097), "longer than 4096 bytes"),
        ("reconcile a b", "usage: reconcile"),
        ("show json", "usage: show USER"),
        ("show --", "usage: show USER"),
        ("show u-1 -- verbose", "`verbose` after `--` is no option of `show`; its options: json"),
        ("status -- wait", "`wait` after `--` is no option of `status`"),
    ])
    func refusesWithAReason(line: String, expected: String) {
        #expect {
            try ControlParser.parse(line)
        } throws: { error in
            (error as? ControlError)?.message.contains(expected) == true
        }
    }

    /// A line that does not parse still gets its error in the form it asked for, decided
    /// by the same word split as the parser's (tabs, trailing blanks).
    @Test(arguments: [
        ("grants bogus json", true), ("grants bogus\tjson", true), ("grants bogus json  ", true), ("bogus json\t", true),
        ("json", false), ("grants bogus", false), ("grants bogus jsonx", false), ("", false),
    ])
    func asksForJSONLikeTheParser(line: String, json: Bool) {
        #expect(ControlParser.asksForJSON(line) == json)
    }

    @Test func errorsDoNotReflectLongInput() throws {
        let long = String(repeating: "A", count: 500)
        do {
            _ = try ControlParser.parse(long)
            Issue.record("parsed")
        } catch {
            #expect(error.message.count < 100)
        }
    }

    @Test func tiers() {
        #expect(ControlCommand.status.requiredTier == .anyone)
        #expect(ControlCommand.show(user: "u").requiredTier == .anyone)
        #expect(ControlCommand.revoke(user: "u", reason: nil).requiredTier == .admin)
        #expect(ControlCommand.authorizeURL(user: "u").requiredTier == .admin)
        #expect(ControlCommand.reconcile(user: nil, dryRun: true).requiredTier == .admin)
        #expect(ControlCommand.secret(user: "u").requiredTier == .secretReader)
    }
}

/// `events` and `wait` (docs/design.md §12).
@Suite struct HeldCommandParserTests {
    @Test(arguments: [
        ("events", ControlCommand.events(user: nil), false),
        ("events json", .events(user: nil), true),
        ("events u-1", .events(user: "u-1"), false),
        ("wait u-1 active", .wait(user: "u-1", states: [.active], timeout: .seconds(30)), false),
        ("wait u-1 active,no_key,active 5m json", .wait(user: "u-1", states: [.active, .noKey], timeout: .seconds(300)), true),
        ("wait u-1 failed 250ms", .wait(user: "u-1", states: [.failed], timeout: .milliseconds(250)), false),
        ("wait u-1 failed 0s", .wait(user: "u-1", states: [.failed], timeout: .zero), false),
        ("wait u-1 failed 1h", .wait(user: "u-1", states: [.failed], timeout: .seconds(3600)), false),
    ])
    func parses(line: String, command: ControlCommand, json: Bool) throws {
        let request = try ControlParser.parse(line)
        #expect(request.command == command)
        #expect(request.json == json)
    }

    @Test(arguments: [
        ("wait", "usage: wait USER STATE[,STATE…] [TIMEOUT]"),
        ("wait u-1", "usage: wait USER STATE[,STATE…] [TIMEOUT]"),
        ("wait u-1 ready", "unknown state `ready`; states: pending, awaiting_key"),
        ("wait u-1 active,,failed", "unknown state ``"),
        ("wait u-1 active 30", "bad timeout `30`: write a number and a unit (ms, s, m, h)"),
        ("wait u-1 active 1d", "bad timeout `1d`"),
        ("wait u-1 active -1s", "bad timeout `-1s`"),
        ("wait u-1 active 61m", "bad timeout `61m`: longer than 3600s"),
        ("wait u-1 active 9999999999s", "bad timeout"),
        ("wait u/1 active", "invalid user reference"),
        ("events u-1 u-2", "usage: events [USER]"),
    ])
    func refuses(line: String, expected: String) {
        #expect {
            try ControlParser.parse(line)
        } throws: { error in
            (error as? ControlError)?.message.contains(expected) == true
        }
    }

    @Test func tiers() {
        #expect(ControlCommand.wait(user: "u", states: [.active], timeout: .seconds(1)).requiredTier == .anyone)
        #expect(ControlCommand.events(user: nil).requiredTier == .agentOrAdmin)
    }
}
