import DaemonConfig
import Foundation
import Testing

@Suite struct ConfigurationLoadingTests {
    @Test func defaultsAreThoseOfTheDesign() {
        let defaults = DaemonConfiguration()
        #expect(defaults.whitebit.baseURL == "https://whitebit.com")
        #expect(defaults.whitebit.clientID == "")
        #expect(defaults.whitebit.clientSecretFile == "")
        #expect(defaults.whitebit.redirectURI == "")
        #expect(defaults.whitebit.requestTimeout == .seconds(10))
        #expect(defaults.whitebit.maxConcurrency == 8)
        #expect(defaults.whitebit.rateLimit == 10)
        #expect(defaults.spool.directory == "/var/spool/wbkeyd")
        #expect(defaults.spool.rescanInterval == .seconds(30))
        #expect(defaults.spool.maxCodeAge == .seconds(600))
        #expect(defaults.keys.infoPollInterval == .seconds(2))
        #expect(defaults.keys.infoPollBudget == .seconds(30))
        #expect(defaults.keys.reconcileInterval == .seconds(900))
        #expect(defaults.keys.expiryMargin == .seconds(300))
        #expect(defaults.store.path == "/var/lib/wbkeyd/wbkeyd.sqlite3")
        #expect(defaults.store.masterKeyFile == "")
        #expect(defaults.store.auditRetention == .seconds(400 * 86_400))
        #expect(defaults.control.socket == "/run/wbkeyd/control.sock")
        #expect(defaults.control.mode == SocketMode(0o660))
        #expect(defaults.control.adminGroup == "wbkeyd-admin")
        #expect(defaults.control.secretReaders == [])
    }

    @Test func aFileWithOnlyTheRequiredKeyGetsEveryDefault() throws {
        let loaded = try makeLoader().load(text: ConfigText.valid(), path: testConfigPath)
        var expected = DaemonConfiguration()
        expected.whitebit.clientID = "partner-1"
        #expect(loaded.configuration == expected)
        #expect(loaded.access.adminGroup == GroupAccount(name: "wbkeyd-admin", gid: 990))
        #expect(loaded.credentials.clientSecret == CredentialLocation(
            key: "whitebit.client_secret_file", path: testCredentialsDirectory + "/client-secret", source: .credentialsDirectory))
        #expect(loaded.credentials.masterKey == CredentialLocation(
            key: "store.master_key_file", path: testCredentialsDirectory + "/master-key", source: .credentialsDirectory))
    }

    @Test func everySettingIsRead() throws {
        let text = ConfigText.valid([
            "whitebit.base_url": "\"http://127.0.0.1:8080\"",
            "whitebit.client_secret_file": "'/etc/wbkeyd/client-secret'",
            "whitebit.redirect_uri": "\"https://partner.example/cb?src=wb\"",
            "whitebit.request_timeout": "\"1500ms\"",
            "whitebit.max_concurrency": "2",
            "whitebit.rate_limit": "0.5",
            "whitebit.source_address": "\"192.0.2.10\"",
            "spool.directory": "\"/srv/spool\"",
            "spool.rescan_interval": "\"5s\"",
            "spool.max_code_age": "\"1h\"",
            "keys.info_poll_interval": "\"500ms\"",
            "keys.info_poll_budget": "\"10m\"",
            "keys.reconcile_interval": "\"10s\"",
            "keys.expiry_margin": "\"1h\"",
            "store.path": "\"/srv/wbkeyd.sqlite3\"",
            "store.master_key_file": "\"/etc/wbkeyd/master-key\"",
            "store.audit_retention": "\"1d\"",
            "control.socket": "\"/run/wbkeyd/admin.sock\"",
            "control.mode": "\"600\"",
            "control.admin_group": "\"\"",
            "control.secret_readers": "[\"partner-app\", \"group:wbkeyd-secrets\", \"user:carol\"]",
        ])
        let loaded = try makeLoader(environment: [:]).load(text: text, path: testConfigPath)
        let settings = loaded.configuration
        #expect(settings.whitebit.baseURL == "http://127.0.0.1:8080")
        #expect(settings.whitebit.clientSecretFile == "/etc/wbkeyd/client-secret")
        #expect(settings.whitebit.redirectURI == "https://partner.example/cb?src=wb")
        #expect(settings.whitebit.requestTimeout == .milliseconds(1_500))
        #expect(settings.whitebit.maxConcurrency == 2)
        #expect(settings.whitebit.rateLimit == 0.5)
        #expect(settings.whitebit.sourceAddress == "192.0.2.10")
        #expect(settings.spool.directory == "/srv/spool")
        #expect(settings.spool.rescanInterval == .seconds(5))
        #expect(settings.spool.maxCodeAge == .seconds(3_600))
        #expect(settings.keys.infoPollInterval == .milliseconds(500))
        #expect(settings.keys.infoPollBudget == .seconds(600))
        #expect(settings.keys.reconcileInterval == .seconds(10))
        #expect(settings.keys.expiryMargin == .seconds(3_600))
        #expect(settings.store.path == "/srv/wbkeyd.sqlite3")
        #expect(settings.store.masterKeyFile == "/etc/wbkeyd/master-key")
        #expect(settings.store.auditRetention == .seconds(86_400))
        #expect(settings.control.socket == "/run/wbkeyd/admin.sock")
        #expect(settings.control.mode == SocketMode(0o600))
        #expect(settings.control.adminGroup == "")
        #expect(settings.control.secretReaders == [.userOrGroup("partner-app"), .group("wbkeyd-secrets"), .user("carol")])
        #expect(loaded.access.adminGroup == nil)
        #expect(loaded.credentials.clientSecret.source == .configured)
        #expect(loaded.credentials.masterKey.path == "/etc/wbkeyd/master-key")
    }

    @Test func basicAndLiteralStringsWithEscapes() throws {
        let text = ConfigText.valid(["whitebit.client_id": #""p\u0061rtner\\x""#, "spool.directory": #"'/srv/a\b'"#])
        let loaded = try makeLoader().load(text: text, path: testConfigPath)
        #expect(loaded.configuration.whitebit.clientID == #"partner\x"#)
        #expect(loaded.configuration.spool.directory == #"/srv/a\b"#)
    }

    @Test func anEscapedNULIsRefusedWithItsLine() {
        let found = problems(of: "[whitebit]\nclient_id = \"a\"\n[spool]\ndirectory = \"/srv/x\\u0000y\"\n")
        #expect(found == [ConfigurationProblem(file: testConfigPath, location: .line(4, column: 20), reason: "NUL characters are not allowed")])
    }

    @Test func unknownKeyIsNamedWithAHint() {
        let found = problems(of: ConfigText.valid(["keys.reconcile_intervall": "\"15m\""]))
        #expect(found.count == 1)
        #expect(found.first?.key == "keys.reconcile_intervall")
        #expect(found.first?.description == "\(testConfigPath): keys.reconcile_intervall: unknown key; did you mean reconcile_interval?")
    }

    @Test func aSecretWrittenIntoTheConfigIsPointedToItsFileAndNotEchoed() {
        let found = problems(of: ConfigText.valid([
            "whitebit.client_secret": "\"CANARY-inline-secret\"", "store.master_key": "\"CANARY-inline-key\"",
        ]))
        #expect(found.map(\.key) == ["whitebit.client_secret", "store.master_key"])
        #expect(found.first?.reason.contains("set client_secret_file") == true)
        #expect(found.last?.reason.contains("set master_key_file") == true)
        #expect(!found.map(\.description).joined().contains("CANARY"))
    }

    @Test func aURLIsNeverEchoedInItsProblem() {
        let found = problems(of: ConfigText.valid(["whitebit.base_url": "\"https://partner:CANARY-pw@whitebit.com/?t=CANARY\""]))
        #expect(found.map(\.key) == ["whitebit.base_url"])
        #expect(!found.map(\.description).joined().contains("CANARY"))
    }

    @Test func unknownSectionIsNamed() {
        let found = problems(of: ConfigText.valid() + "[whitebitt]\nclient_id = \"x\"\n[monitoring]\nport = 1\n")
        #expect(found.map(\.key) == ["monitoring", "whitebitt"])
        #expect(found.contains { $0.key == "whitebitt" && $0.reason == "unknown section; did you mean [whitebit]?" })
        #expect(found.contains { $0.key == "monitoring" && $0.reason == "unknown section" })
    }

    @Test func aTopLevelKeyIsUnknown() {
        let found = problems(of: "client_id = \"x\"\n" + ConfigText.valid())
        #expect(found.map(\.key) == ["client_id"])
        #expect(found.first?.reason.contains("section") == true)
    }

    @Test func aSectionThatIsNotATableIsNamed() {
        let found = problems(of: "keys = 5\n" + ConfigText.valid())
        #expect(found.map(\.key) == ["keys"])
        #expect(found.first?.reason == "must be a table ([keys]), not an integer")
    }

    @Test(arguments: [
        ("[whitebit]\nclient_id = \"x\"\n\n[keys]\nreconcile_interval = \n", 5),
        ("[whitebit]\nclient_id = \"unterminated\n[keys]\n", 2),
        ("[keys]\nexpiry_margin = \"5m\"\nexpiry_margin = \"6m\"\n", 3),
        ("[keys]\n[spool]\n[keys]\n", 3),
        ("# comment\n[whitebit\nclient_id = \"x\"\n", 2),
        ("[whitebit]\nmax_concurrency = 99999999999999999999\n", 2),
        ("[whitebit]\nclient_id = \"x\" # ok\nrate_limit = 1 2\n", 3),
        // TOML integers have no leading zeros: the mode must be the string "0660".
        ("[whitebit]\nclient_id = \"x\"\n[control]\nmode = 0660\n", 4),
    ])
    func syntaxErrorsNameTheLine(text: String, line: Int) {
        let found = problems(of: text)
        #expect(found.count == 1)
        guard case .line(let reported, _) = found.first?.location else {
            Issue.record("expected a line, got \(found)")
            return
        }
        #expect(reported == line)
        #expect(found.first?.description.hasPrefix("\(testConfigPath): line \(line), column ") == true)
    }

    @Test func everyProblemOfAFileIsCollected() {
        let text = """
            [whitebit]
            client_id = ""
            rate_limit = "fast"
            request_timeout = "1.5s"

            [keys]
            reconcile_interval = "1s"
            expiry_margin = 5

            [store]
            path = "relative.sqlite3"

            [control]
            mode = "4660"
            admin_group = "no-such-group"
            secret_readers = ["ghost"]
            colour = "blue"

            """
        let found = problems(of: text)
        // In the order of the file, whatever check found them.
        #expect(found.map(\.key) == [
            "whitebit.client_id", "whitebit.request_timeout", "whitebit.rate_limit",
            "keys.reconcile_interval", "keys.expiry_margin", "store.path",
            "control.mode", "control.admin_group", "control.secret_readers", "control.colour",
        ])
        #expect(found.allSatisfy { $0.file == testConfigPath })
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: ConfigurationError(problems: [
            ConfigurationProblem(file: "/nonexistent/wbkeyd.toml", location: .file, reason: "no such file"),
        ])) {
            try makeLoader().load(path: "/nonexistent/wbkeyd.toml")
        }
    }

    @Test func aFileThatIsNotUTF8IsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("bad.toml", bytes: [0x5B, 0xFF, 0x5D, 0x0A], mode: 0o644)
        let error = #expect(throws: ConfigurationError.self) { try makeLoader().load(path: path) }
        #expect(error?.description == "\(path): is not UTF-8 text")
    }

    @Test func theConfigFileMayBeASymlink() throws {
        let directory = try TemporaryDirectory()
        let target = try directory.write("real.toml", text: ConfigText.valid(), mode: 0o644)
        let link = directory.path + "/wbkeyd.toml"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(try makeLoader().load(path: link).configuration.whitebit.clientID == "partner-1")
    }

    @Test func credentialSettingsNeedCredentialsDirectoryWhenEmpty() {
        let found = problems(of: ConfigText.valid(), loader: makeLoader(environment: [:]))
        #expect(found.map(\.key) == ["whitebit.client_secret_file", "store.master_key_file"])
        #expect(found.allSatisfy { $0.reason.contains("CREDENTIALS_DIRECTORY is not set") })

        let relative = problems(of: ConfigText.valid(), loader: makeLoader(environment: ["CREDENTIALS_DIRECTORY": "creds"]))
        #expect(relative.map(\.key) == ["whitebit.client_secret_file", "store.master_key_file"])

        let configured = ConfigText.valid([
            "whitebit.client_secret_file": "\"/etc/wbkeyd/client-secret\"",
            "store.master_key_file": "\"/etc/wbkeyd/master-key\"",
        ])
        #expect(problems(of: configured, loader: makeLoader(environment: [:])) == [])
    }
}
