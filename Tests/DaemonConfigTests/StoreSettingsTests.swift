import DaemonConfig
import Foundation
import Sensitive
import Testing

/// The `[store]` keys of docs/design.md §13 in a whole file: decoding, validation,
/// rendering, reload, the password's location.
@Suite struct StoreSettingsTests {
    static let postgres = ["store.backend": "\"postgresql\"", "store.url": "\"postgresql://wbkeyd@db.example.com/wbkeyd\""]

    func load(_ overrides: [String: String], environment: [String: String] = ["CREDENTIALS_DIRECTORY": testCredentialsDirectory]) throws -> LoadedConfiguration {
        try makeLoader(environment: environment).load(text: ConfigText.valid(overrides), path: testConfigPath)
    }

    @Test func theDefaultsAreSQLiteWithNoURLAndTheHostName() throws {
        let loaded = try load([:])
        let store = loaded.configuration.store
        #expect(store.backend == .sqlite)
        #expect(store.url.isEmpty && store.passwordFile.isEmpty && store.instance.isEmpty)
        #expect(store.storeURL == nil)
        #expect(loaded.credentials.storePassword == nil)
        #expect(store.instanceName(hostName: { "node-1" }) == "node-1")
        #expect(!store.instanceName().isEmpty)
    }

    @Test func aPostgreSQLStoreLoads() throws {
        var overrides = Self.postgres
        overrides["store.password_file"] = "\"/etc/wbkeyd/store-password\""
        overrides["store.instance"] = "\"eu-1.b_2\""
        let loaded = try load(overrides)
        let store = loaded.configuration.store
        #expect(store.backend == .postgresql)
        #expect(store.storeURL?.host == .name("db.example.com"))
        #expect(store.storeURL?.sslMode == .verifyFull)
        #expect(store.instanceName(hostName: { "ignored" }) == "eu-1.b_2")
        #expect(loaded.credentials.storePassword == CredentialLocation(key: "store.password_file", path: "/etc/wbkeyd/store-password", source: .configured))
    }

    static let refused: [(overrides: [String: String], key: String, reason: String)] = [
        (["store.backend": "\"mysql\""], "store.backend", "\"mysql\" must be \"sqlite\" or \"postgresql\""),
        (["store.backend": "1"], "store.backend", "must be a string, not an integer"),
        (["store.backend": "\"postgresql\""], "store.url", "required with backend = \"postgresql\"; postgresql://USER@HOST:PORT/DATABASE?sslmode=verify-full"),
        (["store.url": "\"postgresql://u@h/d\""], "store.url", "is only used with backend = \"postgresql\" (backend is \"sqlite\")"),
        (["store.password_file": "\"/etc/pw\""], "store.password_file", "is only used with backend = \"postgresql\" (backend is \"sqlite\")"),
        (postgres.merging(["store.url": "\"postgresql://u@h/d?sslmode=prefer\""]) { $1 }, "store.url",
         "sslmode \"prefer\" is not accepted; use disable, require, verify-ca or verify-full (prefer and allow could fall back to clear text unnoticed)"),
        (postgres.merging(["store.url": "\"postgresql://u@h/d?application_name=x\""]) { $1 }, "store.url",
         "unknown query parameter \"application_name\"; wbkeyd takes sslmode, host (a socket directory) and sslrootcert"),
        (postgres.merging(["store.url": "\"postgresql://u:hunter2@h/d\""]) { $1 }, "store.url",
         "holds a password; the URL is shown in status and in logs, so the password belongs in store.password_file"),
        (postgres.merging(["store.password_file": "\"relative/pw\""]) { $1 }, "store.password_file", "\"relative/pw\" is not an absolute path"),
        (postgres.merging(["store.password_file": "false"]) { $1 }, "store.password_file", "must be a string, not a boolean"),
        (["store.instance": "\"eu 1\""], "store.instance", "\"eu 1\" may hold only letters, digits, -, _ and ."),
        (["store.instance": "\"nøde\""], "store.instance", "\"nøde\" may hold only letters, digits, -, _ and ."),
        (["store.instance": "\"" + String(repeating: "n", count: 64) + "\""], "store.instance", "longer than 63 characters"),
        (["store.instance": "7"], "store.instance", "must be a string, not an integer"),
    ]

    @Test(arguments: refused)
    func aBadValueNamesItsKey(overrides: [String: String], key: String, reason: String) {
        let found = problems(of: ConfigText.valid(overrides))
        #expect(found.map(\.key) == [key], "\(found)")
        #expect(found.first?.reason == reason, "\(found)")
        #expect(found.first?.description == "\(testConfigPath): \(key): \(reason)")
    }

    @Test func theLongestInstanceNameIsAccepted() throws {
        let name = String(repeating: "n", count: 63)
        #expect(try load(["store.instance": "\"\(name)\""]).configuration.store.instance == name)
    }

    @Test func theFourKeysAreRenderedAndNeedARestart() throws {
        var overrides = Self.postgres
        overrides["store.instance"] = "\"eu-1\""
        let new = try load(overrides).configuration
        let rendered = Dictionary(uniqueKeysWithValues: new.settings.map { ($0.key, $0.value) })
        #expect(rendered["store.backend"] == "\"postgresql\"")
        #expect(rendered["store.url"] == "\"postgresql://wbkeyd@db.example.com/wbkeyd\"")
        #expect(rendered["store.password_file"] == "\"\"")
        #expect(rendered["store.instance"] == "\"eu-1\"")
        var old = new
        old.store = DaemonConfiguration.Store()
        let changes = ConfigurationChanges(from: old, to: new)
        #expect(changes.keysNeedingRestart == ["store.backend", "store.url", "store.instance"])
        for key in ["store.backend", "store.url", "store.password_file", "store.instance"] {
            #expect(ConfigurationChanges.restartKeys.contains(key))
        }
    }

    @Test func anEmptyPasswordFileFindsTheCredentialOnlyWhenItExists() throws {
        let directory = try TemporaryDirectory()
        let environment = ["CREDENTIALS_DIRECTORY": directory.path]
        #expect(try load(Self.postgres, environment: environment).credentials.storePassword == nil)
        try directory.write("store-password", text: "pw\n", mode: 0o600)
        let found = try load(Self.postgres, environment: environment).credentials.storePassword
        #expect(found == CredentialLocation(key: "store.password_file", path: directory.path + "/store-password", source: .credentialsDirectory))
        // SQLite never reads it.
        #expect(try load([:], environment: environment).credentials.storePassword == nil)
    }

    @Test func thePasswordIsReadAsASecretAndRefusedWhenOthersCanReadIt() throws {
        let directory = try TemporaryDirectory()
        let canary = "CANARY-5e2a-store-password"
        let path = try directory.write("store-password", text: canary + "\n", mode: 0o600)
        let location = CredentialLocation(key: "store.password_file", path: path, source: .configured)
        let password = try CredentialFile.readStorePassword(at: location)
        #expect(password.revealed == canary)
        #expect(!"\(password)".contains(canary) && !String(reflecting: password).contains(canary))

        chmod(path, 0o644)
        let error = #expect(throws: CredentialError.self) { try CredentialFile.readStorePassword(at: location) }
        #expect(error?.description == "store.password_file: \(path) is readable or writable by group or others (mode 0644); chmod 0600 or 0400")
        #expect(error?.description.contains(canary) == false)
    }

    @Test func checkConfigShowsWhereThePasswordComesFromAndNeverThePassword() throws {
        let directory = try TemporaryDirectory()
        let canary = "CANARY-91d0-store-password"
        try directory.write("client-secret", text: "client-secret-value\n", mode: 0o600)
        try directory.write("master-key", bytes: CredentialFileTests.rawKey, mode: 0o600)
        let passwordPath = try directory.write("store-password", text: canary + "\n", mode: 0o600)
        let configPath = try directory.write("wbkeyd.toml", text: ConfigText.valid(Self.postgres), mode: 0o644)
        let loader = makeLoader(environment: ["CREDENTIALS_DIRECTORY": directory.path])

        let report = ConfigurationReport.check(path: configPath, loader: loader)
        #expect(report.isValid, "\(report.text)")
        #expect(report.text.contains("password_file = \"\(passwordPath)\"  # credential from $CREDENTIALS_DIRECTORY (setting empty)"))
        #expect(report.text.contains("path = \"/var/lib/wbkeyd/wbkeyd.sqlite3\"  # only its .witness file: backend is postgresql"))
        #expect(report.text.contains("instance = \"\"  # empty: the host name, \(StoreInstance.hostName())"))
        #expect(!report.text.contains(canary))

        chmod(passwordPath, 0o640)
        let refused = ConfigurationReport.check(path: configPath, loader: loader)
        #expect(!refused.isValid)
        #expect(refused.problems.map(\.key) == ["store.password_file"])
        #expect(!refused.text.contains(canary))
    }
}
