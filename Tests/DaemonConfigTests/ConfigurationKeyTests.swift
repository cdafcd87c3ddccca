import DaemonConfig
import Testing

/// Every key, one bad value at a time: the problem must name that key and no other.
@Suite struct ConfigurationKeyTests {
    static let wrongTypes: [(key: String, value: String, expected: String)] = [
        ("whitebit.base_url", "1", "must be a string, not an integer"),
        ("whitebit.client_id", "true", "must be a string, not a boolean"),
        ("whitebit.client_secret_file", "5", "must be a string"),
        ("whitebit.redirect_uri", "[]", "must be a string, not an array"),
        ("whitebit.request_timeout", "10", "must be a duration string such as \"30s\", not an integer"),
        ("whitebit.max_concurrency", "\"8\"", "must be an integer, not a string"),
        ("whitebit.max_concurrency", "8.5", "must be an integer, not a float"),
        ("whitebit.rate_limit", "\"10\"", "must be a number, not a string"),
        ("whitebit.source_address", "127", "must be a string, not an integer"),
        ("spool.directory", "1", "must be a string"),
        ("spool.rescan_interval", "30", "must be a duration string"),
        ("spool.max_code_age", "true", "must be a duration string"),
        ("keys.info_poll_interval", "2", "must be a duration string"),
        ("keys.info_poll_budget", "1.5", "not a float"),
        ("keys.reconcile_interval", "[\"15m\"]", "not an array"),
        ("keys.expiry_margin", "{ minutes = 5 }", "not a table"),
        ("store.path", "1", "must be a string"),
        ("store.master_key_file", "false", "must be a string"),
        ("store.audit_retention", "400", "must be a duration string"),
        ("control.socket", "1", "must be a string"),
        ("control.mode", "660", "must be a string, not an integer"),
        ("control.admin_group", "1", "must be a string"),
        ("control.secret_readers", "\"alice\"", "must be an array of strings, not a string"),
        ("control.secret_readers", "[\"alice\", 1]", "element 2 must be a string, not an integer"),
        ("whitebit.request_timeout", "2026-11-26T10:00:00Z", "not a date-time"),
        ("metrics.listen", "9867", "must be a string"),
        ("control.agent_users", "\"partner-app\"", "must be an array of strings, not a string"),
        ("control.secret_delivery", "\"false\"", "must be true or false, not a string"),
        ("control.socket_group", "7", "must be a string"),
        ("agent.sign_paths", "\"/api/v4/main-account/balance\"", "must be an array of strings"),
    ]

    @Test(arguments: wrongTypes)
    func aWrongTypeNamesItsKey(key: String, value: String, expected: String) {
        let found = problems(of: ConfigText.valid([key: value]))
        #expect(found.map(\.key) == [key], "\(found)")
        #expect(found.first?.reason.contains(expected) == true, "\(found)")
    }

    static let outOfBand: [(key: String, value: String, expected: String)] = [
        ("whitebit.base_url", "\"ftp://whitebit.com\"", "scheme"),
        ("whitebit.base_url", "\"https://whitebit.com/?lang=en\"", "query"),
        ("whitebit.base_url", "\"https://whitebit.com/#top\"", "fragment"),
        ("whitebit.base_url", "\"whitebit.com\"", "not an absolute URL"),
        ("whitebit.base_url", "\"https://\"", "has no host"),
        ("whitebit.base_url", "\"https://user:pw@whitebit.com\"", "credentials do not belong"),
        ("whitebit.base_url", "\"\"", "not an absolute URL"),
        // In clear, the client secret, codes, verifiers, tokens and API secrets would cross the network.
        ("whitebit.base_url", "\"http://whitebit.com\"", "http:// is only for a loopback host"),
        ("whitebit.base_url", "\"HTTP://whitebit.com\"", "http:// is only for a loopback host"),
        ("whitebit.base_url", "\"http://10.0.0.7:8080\"", "http:// is only for a loopback host"),
        ("whitebit.base_url", "\"http://128.0.0.1\"", "http:// is only for a loopback host"),
        ("whitebit.base_url", "\"http://[::2]:8080\"", "http:// is only for a loopback host"),
        ("whitebit.base_url", "\"http://localhost.whitebit.com\"", "http:// is only for a loopback host"),
        ("whitebit.base_url", "\"http://127.0.0.1.nip.io\"", "http:// is only for a loopback host"),
        ("whitebit.client_id", "\"\"", "required"),
        ("whitebit.client_id", "\"has space\"", "printable ASCII"),
        ("whitebit.client_id", "\"tab\\t\"", "printable ASCII"),
        ("whitebit.client_id", "\"" + String(repeating: "x", count: 257) + "\"", "longer than 256"),
        ("whitebit.client_secret_file", "\"client-secret\"", "not an absolute path"),
        ("whitebit.client_secret_file", "\"/etc/wbkeyd/\"", "must name a file"),
        ("whitebit.redirect_uri", "\"not a url\"", "not an absolute URL"),
        ("whitebit.redirect_uri", "\"javascript:alert(1)\"", "scheme"),
        ("whitebit.redirect_uri", "\"https://partner.example/cb#x\"", "fragment"),
        ("whitebit.request_timeout", "\"99ms\"", "99ms is outside 100ms–5m"),
        ("whitebit.request_timeout", "\"301s\"", "outside 100ms–5m"),
        ("whitebit.request_timeout", "\"1.5s\"", "fractions are not allowed"),
        ("whitebit.request_timeout", "\"-1s\"", "negative"),
        ("whitebit.request_timeout", "\"10\"", "missing unit"),
        ("whitebit.request_timeout", "\"1h30m\"", "one number and one unit"),
        ("whitebit.max_concurrency", "0", "0 is outside 1–256"),
        ("whitebit.max_concurrency", "257", "outside 1–256"),
        ("whitebit.max_concurrency", "-1", "outside 1–256"),
        ("whitebit.rate_limit", "0.05", "0.05 is outside 0.1–1000"),
        ("whitebit.rate_limit", "0", "outside 0.1–1000"),
        ("whitebit.rate_limit", "1001", "1001 is outside"),
        ("whitebit.rate_limit", "nan", "outside"),
        ("whitebit.rate_limit", "inf", "outside"),
        // A name could resolve elsewhere tomorrow; bind(2) takes an address.
        ("whitebit.source_address", "\"wbkeyd-1.example\"", "\"wbkeyd-1.example\" is not an IPv4 or IPv6 address"),
        ("whitebit.source_address", "\"[2001:db8::10]\"", "without brackets or port"),
        ("whitebit.source_address", "\"192.0.2.10:0\"", "is not an IPv4 or IPv6 address"),
        ("whitebit.source_address", "\"127.2\"", "is not an IPv4 or IPv6 address"),
        ("whitebit.source_address", "\" 192.0.2.10\"", "is not an IPv4 or IPv6 address"),
        ("whitebit.source_address", "\"0.0.0.0\"", "the wildcard address"),
        ("whitebit.source_address", "\"::\"", "the wildcard address"),
        ("spool.directory", "\"\"", "required"),
        ("spool.directory", "\"spool\"", "not an absolute path"),
        ("spool.rescan_interval", "\"999ms\"", "outside 1s–1h"),
        ("spool.rescan_interval", "\"61m\"", "outside 1s–1h"),
        ("spool.max_code_age", "\"9s\"", "outside 10s–1h"),
        ("spool.max_code_age", "\"2h\"", "outside 10s–1h"),
        ("keys.info_poll_interval", "\"99ms\"", "outside 100ms–1m"),
        ("keys.info_poll_interval", "\"61s\"", "outside 100ms–1m"),
        ("keys.info_poll_budget", "\"11m\"", "over the 10m ceiling"),
        ("keys.info_poll_budget", "\"1s\"", "shorter than keys.info_poll_interval (2s)"),
        ("keys.reconcile_interval", "\"9s\"", "outside 10s–4h"),
        ("keys.reconcile_interval", "\"5h\"", "outside 10s–4h"),
        ("keys.expiry_margin", "\"999ms\"", "outside 1s–1h"),
        ("keys.expiry_margin", "\"61m\"", "outside 1s–1h"),
        ("keys.expiry_margin", "\"4h\"", "outside 1s–1h"),
        ("store.path", "\"wbkeyd.sqlite3\"", "not an absolute path"),
        ("store.path", "\"/var/lib/wbkeyd/\"", "must name a file"),
        ("store.master_key_file", "\"master-key\"", "not an absolute path"),
        ("store.audit_retention", "\"23h\"", "outside 1d–3650d"),
        ("store.audit_retention", "\"3651d\"", "outside 1d–3650d"),
        ("control.socket", "\"run/control.sock\"", "not an absolute path"),
        ("control.socket", "\"/run/wbkeyd/\"", "must name a file"),
        ("control.socket", "\"/" + String(repeating: "s", count: 107) + "\"", "108 bytes is too long"),
        ("control.mode", "\"4660\"", "setuid, setgid and sticky"),
        ("control.mode", "\"1660\"", "setuid, setgid and sticky"),
        ("control.mode", "\"0440\"", "owner read and write"),
        ("control.mode", "\"0060\"", "owner read and write"),
        ("control.mode", "\"0888\"", "octal digits"),
        ("control.mode", "\"rw-rw----\"", "octal digits"),
        ("control.mode", "\"66\"", "octal digits"),
        ("control.mode", "\"06600\"", "octal digits"),
        ("control.admin_group", "\"no-such-group\"", "no such group \"no-such-group\""),
        ("control.admin_group", "\"alice\"", "no such group"),
        ("control.secret_readers", "[\"ghost\"]", "\"ghost\": no such user or group"),
        ("control.secret_readers", "[\"user:ghost\"]", "\"user:ghost\": no such user"),
        ("control.secret_readers", "[\"user:ops\"]", "\"user:ops\": no such user"),
        ("control.secret_readers", "[\"group:alice\"]", "\"group:alice\": no such group"),
        ("control.secret_readers", "[\"\"]", "the name is empty"),
        ("control.secret_reads_per_minute", "0", "0 is outside 1–600"),
        ("control.secret_reads_per_minute", "601", "601 is outside 1–600"),
        ("control.secret_readers", "[\"group:\"]", "the name is empty"),
        ("metrics.listen", "\"9867\"", "must be HOST:PORT"),
        ("metrics.listen", "\"127.0.0.1\"", "must be HOST:PORT"),
        ("metrics.listen", "\"::1:9867\"", "must be HOST:PORT"),
        ("metrics.listen", "\"127.0.0.1:65536\"", "0–65535"),
        ("metrics.listen", "\"127.0.0.1:\"", "0–65535"),
        ("metrics.listen", "\"127.0.0.1:http\"", "0–65535"),
        ("metrics.listen", "\"127.0.0.1:-1\"", "0–65535"),
        ("metrics.listen", "\"prometheus.internal:9867\"", "literal IPv4 address"),
        ("metrics.listen", "\"127.1:9867\"", "literal IPv4 address"),
        ("metrics.listen", "\"[::ffff:zz]:9867\"", "literal IPv4 address"),
        ("metrics.listen", "\"0.0.0.0:9867\"", "every interface"),
        ("metrics.listen", "\"[::]:9867\"", "every interface"),
        ("control.agent_users", "[\"ghost\"]", "\"ghost\": no such user or group"),
        ("control.agent_users", "[\"group:alice\"]", "\"group:alice\": no such group"),
        ("control.agent_users", "[\"user:\"]", "the name is empty"),
        ("control.socket_group", "\"no-such-group\"", "no such group \"no-such-group\""),
        ("agent.sign_paths", "[\"api/v4/main-account/balance\"]", "not an absolute /api/v4/… path"),
        ("agent.sign_paths", "[\"/api/v1/balance\"]", "not an absolute /api/v4/… path"),
        ("agent.sign_paths", "[\"/api/v4/\"]", "not an absolute /api/v4/… path"),
        ("agent.sign_paths", "[\"/api/v4/main-account/balance?x=1\"]", "no query, fragment or spaces"),
        ("agent.sign_paths", "[\"/api/v4/../oauth2/token\"]", "an empty, . or .. segment"),
        ("agent.sign_paths", "[\"/api/v4//balance\"]", "an empty, . or .. segment"),
    ]

    @Test(arguments: outOfBand)
    func anImpossibleValueNamesItsKey(key: String, value: String, expected: String) {
        let found = problems(of: ConfigText.valid([key: value]))
        #expect(found.map(\.key) == [key], "\(found)")
        #expect(found.first?.reason.contains(expected) == true, "\(found)")
        #expect(found.first?.description.hasPrefix("\(testConfigPath): \(key): ") == true)
    }

    /// Each case is one file: a value at the edge of its band, with what it depends on.
    static let edgesInBand: [[String: String]] = [
        ["whitebit.base_url": "\"http://127.0.0.1:43210\""],
        ["whitebit.base_url": "\"http://127.8.9.10:43210\""],
        ["whitebit.base_url": "\"http://[::1]:43210\""],
        ["whitebit.base_url": "\"http://localhost:43210\""],
        ["whitebit.base_url": "\"http://LocalHost\""],
        ["whitebit.base_url": "\"https://whitebit.com/api-prefix\""],
        ["whitebit.request_timeout": "\"100ms\""],
        ["whitebit.request_timeout": "\"5m\""],
        ["whitebit.max_concurrency": "1"],
        ["whitebit.max_concurrency": "256"],
        ["whitebit.rate_limit": "0.1"],
        ["whitebit.rate_limit": "1000"],
        ["whitebit.rate_limit": "1000.0"],
        ["whitebit.source_address": "\"\""],
        ["whitebit.source_address": "\"127.0.0.2\""],
        ["whitebit.source_address": "\"2001:db8::10\""],
        ["whitebit.source_address": "\"::1\""],
        ["spool.rescan_interval": "\"1s\""],
        ["spool.rescan_interval": "\"1h\""],
        ["spool.max_code_age": "\"10s\""],
        ["spool.max_code_age": "\"60m\""],
        ["keys.info_poll_interval": "\"100ms\""],
        ["keys.info_poll_interval": "\"1m\"", "keys.info_poll_budget": "\"1m\""],
        ["keys.info_poll_budget": "\"2s\""],
        ["keys.info_poll_budget": "\"10m\""],
        ["keys.reconcile_interval": "\"10s\""],
        ["keys.reconcile_interval": "\"4h\""],
        ["keys.expiry_margin": "\"1s\""],
        ["keys.expiry_margin": "\"3600s\""],
        ["store.audit_retention": "\"24h\""],
        ["store.audit_retention": "\"3650d\""],
        ["control.socket": "\"/" + String(repeating: "s", count: 106) + "\""],
        ["control.mode": "\"600\""],
        ["control.mode": "\"0666\""],
        ["control.admin_group": "\"\""],
        ["control.secret_readers": "[\"partner-app\", \"ops\", \"user:alice\", \"group:wbkeyd-secrets\"]"],
        ["metrics.listen": "\"\""],
        ["metrics.listen": "\"127.0.0.1:9867\""],
        ["metrics.listen": "\"[::1]:9867\""],
        ["metrics.listen": "\"localhost:1\""],
        ["metrics.listen": "\"192.0.2.10:65535\""],
        ["metrics.listen": "\"127.0.0.1:0\""],
    ]

    @Test(arguments: edgesInBand)
    func theEdgesOfEachBandAreAccepted(overrides: [String: String]) {
        #expect(problems(of: ConfigText.valid(overrides)) == [])
    }

    @Test func aBudgetIsNotComparedWithAnIntervalThatWasAlreadyWrong() {
        let found = problems(of: ConfigText.valid(["keys.info_poll_interval": "\"2x\"", "keys.info_poll_budget": "\"1s\""]))
        #expect(found.map(\.key) == ["keys.info_poll_interval"])
    }

    @Test func aBareNameIsAUserFirstThenAGroup() throws {
        let text = ConfigText.valid(["control.secret_readers": "[\"partner-app\", \"ops\"]"])
        let loaded = try makeLoader().load(text: text, path: testConfigPath)
        #expect(loaded.access.secretReaderUsers == [UserAccount(name: "partner-app", uid: 1002, gid: 1002)])
        #expect(loaded.access.secretReaderGroups == [GroupAccount(name: "ops", gid: 2000)])
    }

    @Test func aBrokenAccountDatabaseIsAProblemNotALockOut() {
        var accounts = FakeAccountDirectory.standard
        accounts.failing = true
        let text = ConfigText.valid(["control.secret_readers": "[\"partner-app\"]"])
        let found = problems(of: text, loader: makeLoader(accounts: accounts))
        #expect(found.map(\.key) == ["control.admin_group", "control.secret_readers"])
        #expect(found.allSatisfy { $0.reason.contains("Input/output error") })
    }
}
