import DaemonConfig
import Foundation
import Testing

@Suite struct ConfigurationReportTests {
    static let secret = "CANARY-report-client-secret"
    static let hexKey = String(repeating: "5a", count: 32)

    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// A config in the temp dir whose credentials come from files beside it.
    func writeConfig(secretMode: mode_t = 0o600, keyMode: mode_t = 0o400) throws -> String {
        let secretPath = try directory.write("client-secret", text: Self.secret + "\n", mode: secretMode)
        let keyPath = try directory.write("master-key", text: Self.hexKey + "\n", mode: keyMode)
        let text = ConfigText.valid([
            "whitebit.client_secret_file": "\"\(secretPath)\"",
            "control.secret_readers": "[\"partner-app\", \"group:wbkeyd-secrets\"]",
        ]) + "[store]\nmaster_key_file = \"\(keyPath)\"\n"
        return try directory.write("wbkeyd.toml", text: text, mode: 0o644)
    }

    @Test func successSummarisesTheEffectiveSettingsWithoutSecrets() throws {
        let path = try writeConfig()
        let report = ConfigurationReport.check(path: path, loader: makeLoader(environment: [:]))
        #expect(report.isValid)
        let text = report.text
        #expect(text.hasPrefix("# \(path): configuration is valid\n"))
        #expect(text.contains("\n[whitebit]\nbase_url = \"https://whitebit.com\"\nclient_id = \"partner-1\"\n"))
        #expect(text.contains("client_secret_file = \"\(directory.path)/client-secret\"  # credential read from this file"))
        #expect(text.contains("master_key_file = \"\(directory.path)/master-key\"  # credential read from this file"))
        #expect(text.contains("redirect_uri = \"\"  # none: redirect_uri is not sent"))
        #expect(text.contains("reconcile_interval = \"15m\"\n"))
        #expect(text.contains("rate_limit = 10\n"))
        #expect(text.contains("source_address = \"\"  # none: connections leave from the address the routing picks\n"))
        #expect(text.contains("mode = \"0660\"\n"))
        #expect(text.contains("admin_group = \"wbkeyd-admin\"  # gid 990: its members and root run admin commands"))
        #expect(text.contains("secret_readers = [\"partner-app\", \"group:wbkeyd-secrets\"]  # root, user partner-app (uid 1002), group wbkeyd-secrets (gid 991)"))
        #expect(!text.contains(Self.secret))
        #expect(!text.contains(Self.hexKey))
    }

    @Test func theSummaryIsItselfAValidConfig() throws {
        let path = try writeConfig()
        let report = ConfigurationReport.check(path: path, loader: makeLoader(environment: [:]))
        let reloaded = try makeLoader(environment: [:]).load(text: report.text, path: "summary")
        #expect(reloaded.configuration == report.loaded?.configuration)
    }

    @Test func saysWhenACredentialComesFromCredentialsDirectory() throws {
        let loaded = try makeLoader().load(text: ConfigText.valid(), path: testConfigPath)
        let text = ConfigurationReport(loaded: loaded).text
        #expect(text.contains("client_secret_file = \"\(testCredentialsDirectory)/client-secret\"  # credential from $CREDENTIALS_DIRECTORY (setting empty)"))
        #expect(text.contains("secret_readers = []  # secret: root only"))
    }

    @Test func namesTheAgentsAndAgentMode() throws {
        let text = ConfigText.valid([
            "control.agent_users": "[\"user:partner-app\", \"group:wbkeyd-secrets\"]", "control.secret_delivery": "false",
            "agent.sign_paths": "[\"/api/v4/main-account/balance\"]",
        ])
        let report = ConfigurationReport(loaded: try makeLoader().load(text: text, path: testConfigPath)).text
        #expect(report.contains("agent_users = [\"user:partner-app\", \"group:wbkeyd-secrets\"]  # root, user partner-app (uid 1002), group wbkeyd-secrets (gid 991)"))
        #expect(report.contains("secret_delivery = false  # agent mode: `secret` is refused for everyone, root too"))
        #expect(report.contains("\n[agent]\nsign_paths = [\"/api/v4/main-account/balance\"]\n"))
        let defaults = ConfigurationReport(loaded: try makeLoader().load(text: ConfigText.valid(), path: testConfigPath)).text
        #expect(defaults.contains("agent_users = []  # balance, history, sign: root only (and admins for balance, history)"))
        #expect(defaults.contains("secret_delivery = true\n"))
        #expect(defaults.contains("sign_paths = [\"/api/v4/main-account/balance\", \"/api/v4/trade-account/balance\", \"/api/v4/main-account/history\""))
    }

    @Test func failurePrintsOneLinePerProblem() throws {
        let text = ConfigText.valid(["keys.reconcile_interval": "\"1s\"", "control.mode": "\"4660\""])
        let path = try directory.write("wbkeyd.toml", text: text, mode: 0o644)
        let report = ConfigurationReport.check(path: path, loader: makeLoader())
        #expect(!report.isValid)
        #expect(report.text == """
            \(path): keys.reconcile_interval: 1s is outside 10s–4h
            \(path): control.mode: "4660": setuid, setgid and sticky bits are not allowed on a socket

            """)
    }

    @Test func credentialFilesAreCheckedTooAndNeverShown() throws {
        let path = try writeConfig(secretMode: 0o644, keyMode: 0o640)
        let report = ConfigurationReport.check(path: path, loader: makeLoader(environment: [:]))
        #expect(!report.isValid)
        let lines = report.text.split(separator: "\n").map(String.init)
        #expect(lines == [
            "\(path): whitebit.client_secret_file: \(directory.path)/client-secret is readable or writable by group or others (mode 0644); chmod 0600 or 0400",
            "\(path): store.master_key_file: \(directory.path)/master-key is readable or writable by group or others (mode 0640); chmod 0600 or 0400",
        ])
        #expect(!report.text.contains(Self.secret))
        #expect(!report.text.contains(Self.hexKey))
    }

    @Test func aSyntaxErrorIsReportedWithItsLine() throws {
        let path = try directory.write("wbkeyd.toml", text: "[whitebit]\nclient_id = \n", mode: 0o644)
        let report = ConfigurationReport.check(path: path, loader: makeLoader())
        #expect(report.problems.count == 1)
        #expect(report.text.hasPrefix("\(path): line 2, column "))
    }
}
